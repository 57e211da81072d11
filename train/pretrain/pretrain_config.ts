/**
 * The pretraining configuration: one JSON file with two sections,
 * ```json
 * { "model": { …Hugging Face config.json of the discriminator… },
 *   "train": { …hyperparameters, google-research/electra's names (snake_case)… } }
 * ```
 * Both sections reject unknown keys by name (a typo must not silently fall back to a default). Defaults
 * are ELECTRA-small's pretraining recipe (`configure_pretraining.py`) with the original NERSOTA project's
 * batch size; `PRESETS.debug` is a tiny setup for tests, as ELECTRA's `debug` flag.
 * @module
 */
import { configFromHf, configToHf, type ElectraConfig, generatorConfig } from "../../onnx/electra/config.ts";

/** Pretraining objectives: ELECTRA's replaced-token detection, or masked LM on the full-width encoder. */
export type Objective = "electra" | "mlm";

/** Training hyperparameters (camelCase here; snake_case in the JSON file, see `TRAIN_KEYS`). */
export interface TrainConfig {
  /** "electra" (generator + discriminator, the default) or "mlm" (the encoder predicts the masked tokens). */
  objective: Objective;
  /** Mask whole words (every WordPiece of a space-delimited word, an eojeol in Korean) instead of single pieces. */
  wholeWordMask: boolean;
  /** Peak learning rate (ELECTRA-small: 5e-4). */
  learningRate: number;
  /** Polynomial decay power to 0 at `trainSteps` (1 = linear, as ELECTRA). */
  lrDecayPower: number;
  /** Linear warm-up updates (ELECTRA: 10,000). */
  warmupSteps: number;
  /** Total optimizer updates (the NERSOTA original: 1M). */
  trainSteps: number;
  /** Examples per micro-batch (the NERSOTA original: 64; ELECTRA-small: 128). */
  batchSize: number;
  /** Micro-batches per update (gradient accumulation); the effective batch is batchSize × accumulate. */
  accumulate: number;
  /** Decoupled weight decay (ELECTRA: 0.01, LayerNorm and biases excluded). */
  weightDecay: number;
  /** Adam ε (ELECTRA: 1e-6; no bias correction, as its AdamWeightDecayOptimizer). */
  adamEpsilon: number;
  /** Global-norm gradient clipping (ELECTRA: 1.0). */
  maxGradNorm: number;
  /** Fraction of tokens to predict (0.15). */
  maskProb: number;
  /** Sequence length of the batches (ELECTRA: 128). */
  maxSeqLength: number;
  /** Generator hidden size as a fraction of the discriminator's (0.25). */
  generatorSize: number;
  /** λ in generator_loss + λ·discriminator_loss (50). */
  discWeight: number;
  /** "inverse-cdf": one uniform per prediction (cheap); "gumbel": B·P·V Gumbel noise, as ELECTRA. */
  sampler: "inverse-cdf" | "gumbel";
  /** Seed of everything random: init, data order, masking, sampling, dropout. */
  seed: number;
  /** Evaluate every N updates (0: only at the end). */
  evalEvery: number;
  /** Held-out examples taken from the data (a seeded choice) when no separate eval data is given. */
  evalExamples: number;
  /** Examples per evaluation batch. */
  evalBatchSize: number;
  /** Save a checkpoint every N updates (0: only at the end). */
  saveEvery: number;
  /** Checkpoints kept (ELECTRA's keep_checkpoint_max). */
  keepCheckpoints: number;
  /** Checkpoints at multiples of this step are never deleted (0: none): the points of a probe curve. */
  keepEvery: number;
  /** Write a training metrics line every N updates. */
  logEvery: number;
}

/** JSON name → field, in ELECTRA's vocabulary where it has a name for it. */
export const TRAIN_KEYS: Record<string, keyof TrainConfig> = {
  objective: "objective",
  whole_word_mask: "wholeWordMask",
  learning_rate: "learningRate",
  lr_decay_power: "lrDecayPower",
  num_warmup_steps: "warmupSteps",
  num_train_steps: "trainSteps",
  train_batch_size: "batchSize",
  gradient_accumulation_steps: "accumulate",
  weight_decay_rate: "weightDecay",
  adam_epsilon: "adamEpsilon",
  max_grad_norm: "maxGradNorm",
  mask_prob: "maskProb",
  max_seq_length: "maxSeqLength",
  generator_hidden_size: "generatorSize",
  disc_weight: "discWeight",
  sampler: "sampler",
  seed: "seed",
  eval_every: "evalEvery",
  eval_examples: "evalExamples",
  eval_batch_size: "evalBatchSize",
  save_checkpoints_steps: "saveEvery",
  keep_checkpoint_max: "keepCheckpoints",
  keep_checkpoint_every: "keepEvery",
  log_every: "logEvery",
};

/** ELECTRA-small pretraining defaults (batch 64 as the NERSOTA original). */
export const DEFAULT_TRAIN: Readonly<TrainConfig> = Object.freeze({
  objective: "electra",
  wholeWordMask: false,
  learningRate: 5e-4,
  lrDecayPower: 1,
  warmupSteps: 10000,
  trainSteps: 1_000_000,
  batchSize: 64,
  accumulate: 1,
  weightDecay: 0.01,
  adamEpsilon: 1e-6,
  maxGradNorm: 1,
  maskProb: 0.15,
  maxSeqLength: 128,
  generatorSize: 0.25,
  discWeight: 50,
  sampler: "inverse-cdf",
  seed: 42,
  evalEvery: 10000,
  evalExamples: 2048,
  evalBatchSize: 64,
  saveEvery: 10000,
  keepCheckpoints: 5,
  keepEvery: 0,
  logEvery: 100,
});

/** A full pretraining setup: the discriminator's and generator's configs and the training hyperparameters. */
export interface PretrainConfig {
  model: ElectraConfig;
  generator: ElectraConfig;
  train: TrainConfig;
}

/** Named presets; `debug` is tiny (tests and smoke runs). */
export const PRESETS: Record<string, { model: Record<string, unknown>; train: Partial<TrainConfig> }> = {
  debug: {
    model: {
      vocab_size: 200,
      embedding_size: 16,
      hidden_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 64,
      max_position_embeddings: 64,
    },
    train: {
      learningRate: 2e-3,
      warmupSteps: 5,
      trainSteps: 60,
      batchSize: 8,
      maxSeqLength: 32,
      generatorSize: 0.5,
      evalEvery: 20,
      evalExamples: 16,
      evalBatchSize: 8,
      saveEvery: 20,
      keepCheckpoints: 2,
      logEvery: 5,
    },
  },
};

/** Parses the `train` section (snake_case keys), rejecting unknown keys and checking ranges. */
export function trainConfigFromJson(json: unknown, where = "config"): TrainConfig {
  if (json === undefined) return { ...DEFAULT_TRAIN };
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`"${where}": "train" must be an object`);
  }
  const out: TrainConfig = { ...DEFAULT_TRAIN };
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(json)) {
    const field = TRAIN_KEYS[k];
    if (!field) {
      unknown.push(k);
      continue;
    }
    (out as unknown as Record<string, unknown>)[field] = v;
  }
  if (unknown.length) {
    throw new Error(
      `"${where}": unknown train key${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => `"${k}"`).join(", ")
      } (known: ${Object.keys(TRAIN_KEYS).join(", ")})`,
    );
  }
  validateTrainConfig(out, where);
  return out;
}

/** The `train` section as JSON (snake_case keys). */
export function trainConfigToJson(c: TrainConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(TRAIN_KEYS)) out[k] = c[f];
  return out;
}

/** Throws, naming the key, when a value is out of range. */
export function validateTrainConfig(c: TrainConfig, where = "config"): void {
  const nameOf = (f: keyof TrainConfig) => Object.entries(TRAIN_KEYS).find(([, v]) => v === f)![0];
  const need = (f: keyof TrainConfig, ok: (v: number) => boolean, what: string) => {
    const v = c[f] as number;
    if (typeof v !== "number" || !ok(v)) {
      throw new Error(`"${where}": train.${nameOf(f)} must be ${what}, got ${JSON.stringify(v)}`);
    }
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  const nonNegInt = (v: number) => Number.isInteger(v) && v >= 0;
  need("learningRate", (v) => v > 0, "a positive number");
  need("lrDecayPower", (v) => v >= 0, "≥ 0");
  for (const f of ["warmupSteps", "evalEvery", "saveEvery", "evalExamples", "keepEvery"] as const) {
    need(f, nonNegInt, "an integer ≥ 0");
  }
  for (
    const f of [
      "trainSteps",
      "batchSize",
      "accumulate",
      "maxSeqLength",
      "evalBatchSize",
      "keepCheckpoints",
      "logEvery",
    ] as const
  ) {
    need(f, posInt, "a positive integer");
  }
  need("seed", (v) => Number.isInteger(v) && v >= 0, "an integer ≥ 0");
  need("weightDecay", (v) => v >= 0, "≥ 0");
  need("adamEpsilon", (v) => v > 0, "positive");
  need("maxGradNorm", (v) => v >= 0, "≥ 0 (0: no clipping)");
  need("maskProb", (v) => v > 0 && v < 1, "in (0, 1)");
  need("generatorSize", (v) => v > 0 && v <= 1, "in (0, 1]");
  need("discWeight", (v) => v >= 0, "≥ 0");
  if (c.objective !== "electra" && c.objective !== "mlm") {
    throw new Error(
      `"${where}": train.objective must be "electra" or "mlm", got ${JSON.stringify(c.objective)}`,
    );
  }
  if (typeof c.wholeWordMask !== "boolean") {
    throw new Error(
      `"${where}": train.whole_word_mask must be true or false, got ${JSON.stringify(c.wholeWordMask)}`,
    );
  }
  if (c.sampler !== "inverse-cdf" && c.sampler !== "gumbel") {
    throw new Error(
      `"${where}": train.sampler must be "inverse-cdf" or "gumbel", got ${JSON.stringify(c.sampler)}`,
    );
  }
}

/** Parses a whole config file object (`{model, train}`), rejecting unknown top-level keys. */
export function pretrainConfigFromJson(json: unknown, where = "config.json"): PretrainConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`"${where}" is not a JSON object`);
  }
  const obj = json as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => k !== "model" && k !== "train" && k !== "$comment");
  if (extra.length) {
    throw new Error(
      `"${where}": unknown top-level key${extra.length > 1 ? "s" : ""} ${
        extra.map((k) => `"${k}"`).join(", ")
      } (expected "model" and "train")`,
    );
  }
  if (!obj.model) {
    throw new Error(`"${where}": missing "model" (the discriminator's Hugging Face ElectraConfig)`);
  }
  const model = configFromHf(obj.model, `${where}: model`);
  const train = trainConfigFromJson(obj.train, where);
  return withGenerator(model, train, where);
}

/** Completes a config with the generator derived from `generatorSize`; checks the sequence fits. */
export function withGenerator(model: ElectraConfig, train: TrainConfig, where = "config"): PretrainConfig {
  if (train.maxSeqLength > model.maxPositionEmbeddings) {
    throw new Error(
      `"${where}": train.max_seq_length ${train.maxSeqLength} exceeds model.max_position_embeddings ${model.maxPositionEmbeddings}`,
    );
  }
  return { model, generator: generatorConfig(model, train.generatorSize), train };
}

/** A preset by name (`debug`), with overrides of its training values. */
export function presetConfig(name: string, train: Partial<TrainConfig> = {}): PretrainConfig {
  const p = PRESETS[name];
  if (!p) throw new Error(`Unknown preset "${name}" (known: ${Object.keys(PRESETS).join(", ")})`);
  const t = { ...DEFAULT_TRAIN, ...p.train, ...train };
  validateTrainConfig(t, `preset ${name}`);
  return withGenerator(
    configFromHf({ model_type: "electra", ...p.model }, `preset ${name}`),
    t,
    `preset ${name}`,
  );
}

/** The config as the JSON file layout (`{model, train}`). */
export function pretrainConfigToJson(c: PretrainConfig): Record<string, unknown> {
  return { model: configToHf(c.model, ["ElectraForPreTraining"]), train: trainConfigToJson(c.train) };
}

/** Reads and parses a config file. */
export async function readPretrainConfig(path: string): Promise<PretrainConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read config "${path}": ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot parse config "${path}": ${(e as Error).message}`);
  }
  return pretrainConfigFromJson(json, path);
}

/**
 * ELECTRA's learning rate after `step` updates (0 for the first update, as its global_step):
 * lr · (1 − min(step, total)/total)^power · min(1, step/warmup).
 */
export function pretrainLr(
  step: number,
  c: Pick<TrainConfig, "learningRate" | "warmupSteps" | "trainSteps" | "lrDecayPower">,
): number {
  const decay = Math.pow(1 - Math.min(step, c.trainSteps) / c.trainSteps, c.lrDecayPower);
  const warm = c.warmupSteps > 0 ? Math.min(1, step / c.warmupSteps) : 1;
  return c.learningRate * decay * warm;
}
