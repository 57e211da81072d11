/**
 * The pretraining configuration: one JSON file with two sections,
 * ```json
 * { "model": { …Hugging Face config.json of the discriminator… },
 *   "train": { …hyperparameters, google-research/electra's names (snake_case)… } }
 * ```
 * Both sections reject unknown keys by name (a typo must not silently fall back to a default). The `train`
 * settings are declared once in `TRAIN_SETTINGS`; their defaults are ELECTRA-small's pretraining recipe
 * (`configure_pretraining.py`) with the original NERSOTA project's batch size. `PRESETS` name config files of
 * configs/: `tiny` is the one tiny model of tests and smoke runs (ELECTRA's `debug`).
 * @module
 */
import { fileURLToPath } from "node:url";
import { configFromHf, configToHf, type ElectraConfig, generatorConfig } from "../../onnx/electra/config.ts";
import { type JsonText, keyLinesAt } from "../../onnx/json_lines.ts";
import { type KeyLines, Settings, type SettingsValues } from "../../onnx/settings.ts";
import { readJsonText } from "../util/fs.ts";

/** Pretraining objectives: ELECTRA's replaced-token detection, or masked LM on the full-width encoder. */
export type Objective = "electra" | "mlm";

/** The `train` section's settings, declared once, in ELECTRA's vocabulary where it has a name for it. */
export const TRAIN_TABLE = {
  objective: {
    key: "objective",
    default: "electra",
    check: { type: "oneOf", values: ["electra", "mlm"] },
    doc: "electra (generator + discriminator) or mlm (the encoder predicts the masked tokens)",
  },
  wholeWordMask: {
    key: "whole_word_mask",
    default: false,
    check: { type: "boolean" },
    doc: "mask every WordPiece of a space-delimited word (an eojeol) together",
  },
  learningRate: {
    key: "learning_rate",
    flag: "lr",
    default: 5e-4,
    check: { type: "number", gt: 0 },
    doc: "peak learning rate (ELECTRA-small)",
  },
  lrDecayPower: {
    key: "lr_decay_power",
    default: 1,
    check: { type: "number", min: 0 },
    doc: "polynomial decay power to 0 at num_train_steps (1: linear, as ELECTRA)",
  },
  warmupSteps: {
    key: "num_warmup_steps",
    default: 10000,
    check: { type: "integer", min: 0 },
    doc: "linear warm-up updates (ELECTRA)",
  },
  trainSteps: {
    key: "num_train_steps",
    flag: "steps",
    default: 1_000_000,
    check: { type: "integer", min: 1 },
    doc: "total optimizer updates (the NERSOTA original)",
  },
  batchSize: {
    key: "train_batch_size",
    flag: "batch-size",
    default: 64,
    check: { type: "integer", min: 1 },
    doc: "examples per micro-batch (the NERSOTA original; ELECTRA-small: 128)",
  },
  accumulate: {
    key: "gradient_accumulation_steps",
    flag: "accumulate",
    default: 1,
    check: { type: "integer", min: 1 },
    doc: "micro-batches per update (the effective batch is their product)",
  },
  weightDecay: {
    key: "weight_decay_rate",
    default: 0.01,
    check: { type: "number", min: 0 },
    doc: "decoupled weight decay (LayerNorm and biases excluded, as ELECTRA)",
  },
  adamEpsilon: {
    key: "adam_epsilon",
    default: 1e-6,
    check: { type: "number", gt: 0 },
    doc: "Adam ε (no bias correction, as ELECTRA's AdamWeightDecayOptimizer)",
  },
  maxGradNorm: {
    key: "max_grad_norm",
    default: 1,
    check: { type: "number", min: 0 },
    doc: "global-norm gradient clipping (0: none)",
  },
  maskProb: {
    key: "mask_prob",
    default: 0.15,
    check: { type: "number", gt: 0, lt: 1 },
    doc: "fraction of tokens to predict",
  },
  maxSeqLength: {
    key: "max_seq_length",
    default: 128,
    check: { type: "integer", min: 1 },
    doc: "sequence length of the batches (at most the model's max_position_embeddings)",
  },
  generatorSize: {
    key: "generator_hidden_size",
    default: 0.25,
    check: { type: "number", gt: 0, max: 1 },
    doc: "generator hidden size as a fraction of the discriminator's",
  },
  discWeight: {
    key: "disc_weight",
    default: 50,
    check: { type: "number", min: 0 },
    doc: "λ in generator_loss + λ·discriminator_loss",
  },
  sampler: {
    key: "sampler",
    default: "inverse-cdf",
    check: { type: "oneOf", values: ["inverse-cdf", "gumbel"] },
    doc: "inverse-cdf: one uniform per prediction (cheap); gumbel: B·P·V Gumbel noise, as ELECTRA",
  },
  seed: {
    key: "seed",
    flag: "seed",
    default: 42,
    check: { type: "integer", min: 0 },
    doc: "seed of everything random: init, data order, masking, sampling, dropout",
  },
  evalEvery: {
    key: "eval_every",
    flag: "eval-every",
    default: 10000,
    check: { type: "integer", min: 0 },
    doc: "evaluate every N updates (0: only at the end)",
  },
  evalExamples: {
    key: "eval_examples",
    default: 2048,
    check: { type: "integer", min: 0 },
    doc: "held-out examples taken from the data (a seeded choice) when no eval data is given",
  },
  evalBatchSize: {
    key: "eval_batch_size",
    default: 64,
    check: { type: "integer", min: 1 },
    doc: "examples per evaluation batch",
  },
  saveEvery: {
    key: "save_checkpoints_steps",
    flag: "save-every",
    default: 10000,
    check: { type: "integer", min: 0 },
    doc: "save a checkpoint every N updates (0: only at the end)",
  },
  keepCheckpoints: {
    key: "keep_checkpoint_max",
    flag: "keep",
    default: 5,
    check: { type: "integer", min: 1 },
    doc: "checkpoints kept",
  },
  keepEvery: {
    key: "keep_checkpoint_every",
    default: 0,
    check: { type: "integer", min: 0 },
    doc: "checkpoints at multiples of this step are never deleted (0: none): the points of a probe curve",
  },
  logEvery: {
    key: "log_every",
    default: 100,
    check: { type: "integer", min: 1 },
    doc: "write a training metrics line every N updates",
  },
} as const;

/** Parsing, validation, flags and usage of `TRAIN_TABLE` (the keys of the `train` section). */
export const TRAIN_SETTINGS: Settings<typeof TRAIN_TABLE> = new Settings(TRAIN_TABLE, { prefix: "train." });

/** Training hyperparameters (camelCase here; snake_case in the JSON file, see `TRAIN_SETTINGS`). */
export type TrainConfig = SettingsValues<typeof TRAIN_TABLE>;

/** ELECTRA-small pretraining defaults (batch 64 as the NERSOTA original). */
export const DEFAULT_TRAIN: Readonly<TrainConfig> = TRAIN_SETTINGS.defaults;

/** A full pretraining setup: the discriminator's and generator's configs and the training hyperparameters. */
export interface PretrainConfig {
  model: ElectraConfig;
  generator: ElectraConfig;
  train: TrainConfig;
}

/**
 * Named configs (`--preset NAME`), files of configs/: `tiny` is the one tiny model of tests and smoke runs
 * (`debug`, ELECTRA's name for it, is the same file), `small` ELECTRA-small.
 */
export const PRESETS: Readonly<Record<string, string>> = Object.freeze({
  tiny: "tiny_config.json",
  debug: "tiny_config.json",
  small: "small_config.json",
});

/**
 * Parses the `train` section (snake_case keys), rejecting unknown keys and checking ranges; with `lines`
 * (where the section's keys are), errors about a key name its line.
 */
export function trainConfigFromJson(json: unknown, where = "config", lines?: KeyLines): TrainConfig {
  if (json === undefined) return { ...DEFAULT_TRAIN };
  return TRAIN_SETTINGS.fromJson(json, `"${where}"`, undefined, lines);
}

/** The `train` section as JSON (snake_case keys). */
export function trainConfigToJson(c: TrainConfig): Record<string, unknown> {
  return TRAIN_SETTINGS.toJson(c);
}

/** Throws, naming the key, when a value is out of range. */
export function validateTrainConfig(c: TrainConfig, where = "config"): void {
  TRAIN_SETTINGS.validate(c, `"${where}"`);
}

/**
 * Parses a whole config file object (`{model, train}`), rejecting unknown top-level keys; with `doc` (the
 * file's lines, from `parseJsonText`), errors about a key the file gave name its line.
 */
export function pretrainConfigFromJson(
  json: unknown,
  where = "config.json",
  doc?: Pick<JsonText, "file" | "lines">,
): PretrainConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`"${where}" is not a JSON object`);
  }
  const obj = json as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => k !== "model" && k !== "train" && k !== "$comment");
  if (extra.length) {
    const line = doc?.lines.get(extra[0]);
    throw new Error(
      `${line === undefined ? `"${where}"` : `${doc!.file}:${line}`}: unknown top-level key${
        extra.length > 1 ? "s" : ""
      } ${extra.map((k) => `"${k}"`).join(", ")} (expected "model" and "train")`,
    );
  }
  if (!obj.model) {
    throw new Error(`"${where}": missing "model" (the discriminator's Hugging Face ElectraConfig)`);
  }
  const model = configFromHf(obj.model, `${where}: model`, doc && keyLinesAt(doc, "model"));
  const train = trainConfigFromJson(obj.train, where, doc && keyLinesAt(doc, "train"));
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

/** A preset by name (see `PRESETS`), with overrides of its training values. */
export async function presetConfig(name: string, train: Partial<TrainConfig> = {}): Promise<PretrainConfig> {
  const file = PRESETS[name];
  if (!file) throw new Error(`Unknown preset "${name}" (known: ${Object.keys(PRESETS).join(", ")})`);
  const url = new URL(`../../configs/${file}`, import.meta.url);
  if (url.protocol !== "file:") {
    throw new Error(
      `--preset ${name} reads configs/${file} of a NERSOTA checkout: give --config FILE instead`,
    );
  }
  const c = await readPretrainConfig(fileURLToPath(url));
  const t = { ...c.train, ...train };
  validateTrainConfig(t, `preset ${name}`);
  return withGenerator(c.model, t, `preset ${name}`);
}

/** The config as the JSON file layout (`{model, train}`). */
export function pretrainConfigToJson(c: PretrainConfig): Record<string, unknown> {
  return { model: configToHf(c.model, ["ElectraForPreTraining"]), train: trainConfigToJson(c.train) };
}

/** Reads and parses a config file; errors name the file and, for a key or a syntax error, the line. */
export async function readPretrainConfig(path: string): Promise<PretrainConfig> {
  const doc = await readJsonText(path, "config");
  return pretrainConfigFromJson(doc.json, path, doc);
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
