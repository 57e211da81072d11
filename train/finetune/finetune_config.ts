/**
 * The fine-tuning configuration: hyperparameters with the original NERSOTA project's `koelectra-small`
 * NER defaults (max_seq_len 128, batch 32, lr 5e-5, AdamW ε 1e-8, weight decay 0, max_grad_norm 1.0,
 * no warm-up, linear decay, up to 20 epochs). In JSON (`--config FILE`, and what `run.json` and
 * checkpoints record) the keys are snake_case, as Hugging Face's `TrainingArguments` names them where it
 * has a name; unknown keys are rejected by name, so a typo never silently falls back to a default.
 * @module
 */
import type { Decoding } from "../../infer/window_labels.ts";
import type { LabelMode, Scheme } from "../ner_data/align.ts";

/** Fine-tuning hyperparameters. */
export interface FinetuneConfig {
  /** Peak learning rate (5e-5). */
  learningRate: number;
  /** Examples (windows) per batch (32). */
  batchSize: number;
  /** Window length in tokens, [CLS]/[SEP] included (128). */
  maxSeqLength: number;
  /** Tokens shared by consecutive windows of a long sentence (default a quarter of the content). */
  stride: number;
  /** Upper bound on epochs (20). */
  epochs: number;
  /** Stop after this many updates in total (0: no limit; epochs decide). */
  maxSteps: number;
  /** Linear warm-up updates (0). */
  warmupSteps: number;
  /** AdamW ε (1e-8, PyTorch/HF). */
  adamEpsilon: number;
  /** Decoupled weight decay (0; LayerNorm weights and biases never decay). */
  weightDecay: number;
  /** Global-norm gradient clipping (1.0). */
  maxGradNorm: number;
  /** Evaluate on dev every N updates (0: at the end of every epoch). */
  evalEvery: number;
  /** Stop after this many evaluations without a better dev F1 (0: never stop early). */
  patience: number;
  /** Which dev score picks the best checkpoint. */
  metric: "micro_f1" | "macro_f1";
  /** Keep this many resume checkpoints. */
  keepCheckpoints: number;
  /** Write a training metrics line every N updates. */
  logEvery: number;
  /** Pad each batch to a multiple of this (8: tensor-core and SIMD friendly). */
  padMultiple: number;
  /** Sort by length within chunks of this many batches (0: no bucketing, every batch padded to maxSeqLength). */
  bucketBatches: number;
  /** Seed of init, data order and dropout. */
  seed: number;
  /** Tagging scheme. */
  scheme: Scheme;
  /** Which sub-words carry labels (see train/ner_data/align.ts; all-subwords is the default). */
  labelMode: LabelMode;
  /** Entity types to learn, in order; empty: every type found in the training data. */
  types: string[];
  /** A linear-chain CRF on top of the classifier (as pytorch-bert-crf-ner). */
  crf: boolean;
  /**
   * Decoding of the softmax classifier, for dev evaluation and the exported folder's `nersota.json`:
   * `"bio-viterbi"` (default), the best valid BIO/BIOES path, or `"argmax"` per token. It applies to
   * all-subwords models without a CRF; first-subword models decode by argmax (their continuation tokens
   * carry no label), CRF models by their own Viterbi.
   */
  decoding: Decoding;
  /** Windows per evaluation batch. */
  evalBatchSize: number;
}

/** The defaults: the original project's `koelectra-small` NER config. */
export const FINETUNE_DEFAULTS: Readonly<FinetuneConfig> = Object.freeze({
  learningRate: 5e-5,
  batchSize: 32,
  maxSeqLength: 128,
  stride: -1,
  epochs: 20,
  maxSteps: 0,
  warmupSteps: 0,
  adamEpsilon: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1.0,
  evalEvery: 0,
  patience: 3,
  metric: "micro_f1",
  keepCheckpoints: 2,
  logEvery: 10,
  padMultiple: 8,
  bucketBatches: 50,
  seed: 42,
  scheme: "BIO",
  labelMode: "all-subwords",
  types: [],
  crf: false,
  decoding: "bio-viterbi",
  evalBatchSize: 64,
} as FinetuneConfig);

/** JSON (snake_case) name → field. */
export const FINETUNE_KEYS: Record<string, keyof FinetuneConfig> = {
  learning_rate: "learningRate",
  batch_size: "batchSize",
  max_seq_length: "maxSeqLength",
  stride: "stride",
  num_train_epochs: "epochs",
  max_steps: "maxSteps",
  warmup_steps: "warmupSteps",
  adam_epsilon: "adamEpsilon",
  weight_decay: "weightDecay",
  max_grad_norm: "maxGradNorm",
  eval_every: "evalEvery",
  patience: "patience",
  metric: "metric",
  keep_checkpoints: "keepCheckpoints",
  log_every: "logEvery",
  pad_multiple: "padMultiple",
  bucket_batches: "bucketBatches",
  seed: "seed",
  scheme: "scheme",
  label_mode: "labelMode",
  types: "types",
  crf: "crf",
  decoding: "decoding",
  eval_batch_size: "evalBatchSize",
};
const NAME_OF = Object.fromEntries(Object.entries(FINETUNE_KEYS).map(([k, v]) => [v, k])) as Record<
  keyof FinetuneConfig,
  string
>;

/** The effective stride: the configured one, or a quarter of the window's content (HF-like overlap). */
export function effectiveStride(c: FinetuneConfig): number {
  return c.stride >= 0 ? c.stride : Math.floor((c.maxSeqLength - 2) / 4);
}

/** Throws naming the key when a value is out of range. */
export function validateFinetuneConfig(c: FinetuneConfig, where = "fine-tuning config"): void {
  const bad = (f: keyof FinetuneConfig, want: string) =>
    new Error(`${where}: ${NAME_OF[f]} is ${JSON.stringify(c[f])}, expected ${want}`);
  const intFields: [(keyof FinetuneConfig)[], number, string][] = [
    [
      ["batchSize", "maxSeqLength", "epochs", "keepCheckpoints", "logEvery", "padMultiple", "evalBatchSize"],
      1,
      "a positive integer",
    ],
    [["maxSteps", "warmupSteps", "evalEvery", "patience", "bucketBatches"], 0, "an integer ≥ 0"],
  ];
  for (const [fields, min, want] of intFields) {
    for (const f of fields) if (!Number.isInteger(c[f]) || (c[f] as number) < min) throw bad(f, want);
  }
  if (!(c.learningRate > 0)) throw bad("learningRate", "a positive number");
  if (!(c.adamEpsilon > 0)) throw bad("adamEpsilon", "a positive number");
  if (!(c.weightDecay >= 0)) throw bad("weightDecay", "a number ≥ 0");
  if (!(c.maxGradNorm >= 0)) throw bad("maxGradNorm", "a number ≥ 0 (0: no clipping)");
  if (c.maxSeqLength < 3) throw bad("maxSeqLength", "at least 3 ([CLS], one token, [SEP])");
  if (!Number.isInteger(c.stride) || c.stride < -1 || c.stride >= c.maxSeqLength - 2) {
    throw bad("stride", `an integer in [0, ${c.maxSeqLength - 2}) or -1 (a quarter of the window)`);
  }
  if (!Number.isInteger(c.seed)) throw bad("seed", "an integer");
  if (c.scheme !== "BIO" && c.scheme !== "BIOES") throw bad("scheme", `"BIO" or "BIOES"`);
  if (c.labelMode !== "all-subwords" && c.labelMode !== "first-subword") {
    throw bad("labelMode", `"all-subwords" or "first-subword"`);
  }
  if (c.metric !== "micro_f1" && c.metric !== "macro_f1") throw bad("metric", `"micro_f1" or "macro_f1"`);
  if (
    !Array.isArray(c.types) ||
    c.types.some((t) => typeof t !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(t))
  ) {
    throw bad("types", 'a list of type names such as ["PS", "LC"]');
  }
  if (typeof c.crf !== "boolean") throw bad("crf", "true or false");
  if (c.decoding !== "bio-viterbi" && c.decoding !== "argmax") {
    throw bad("decoding", `"bio-viterbi" or "argmax"`);
  }
  if (c.crf && c.labelMode !== "all-subwords") {
    throw new Error(
      `${where}: crf needs label_mode "all-subwords" (the CRF tags every token, as pytorch-bert-crf-ner)`,
    );
  }
}

/** Defaults overridden by a JSON object with snake_case keys; unknown keys are an error naming them. */
export function finetuneConfigFromJson(
  json: unknown,
  where = "fine-tuning config",
  base: FinetuneConfig = FINETUNE_DEFAULTS,
): FinetuneConfig {
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`${where}: expected a JSON object`);
  }
  const c = { ...base, types: [...base.types] } as FinetuneConfig;
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    const f = FINETUNE_KEYS[k];
    if (!f) unknown.push(k);
    else (c as unknown as Record<string, unknown>)[f] = v;
  }
  if (unknown.length) {
    throw new Error(
      `${where}: unknown key${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => `"${k}"`).join(", ")
      } (known: ${Object.keys(FINETUNE_KEYS).join(", ")})`,
    );
  }
  validateFinetuneConfig(c, where);
  return c;
}

/** The decoding a softmax model trained with `c` uses (see `FinetuneConfig.decoding`). */
export function softmaxDecoding(c: Pick<FinetuneConfig, "decoding" | "labelMode">): Decoding {
  return c.labelMode === "all-subwords" ? c.decoding : "argmax";
}

/** The config as snake_case JSON (what `run.json` and checkpoints store). */
export function finetuneConfigToJson(c: FinetuneConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(FINETUNE_KEYS)) out[k] = c[f];
  return out;
}

/** The learning rate before update `step` (0-based): linear warm-up, then linear decay to 0 at `total`. */
export function finetuneLr(
  step: number,
  total: number,
  c: Pick<FinetuneConfig, "learningRate" | "warmupSteps">,
): number {
  if (c.warmupSteps > 0 && step < c.warmupSteps) return (c.learningRate * step) / c.warmupSteps;
  // HF get_linear_schedule_with_warmup: lr · max(0, (total − step) / (total − warmup)).
  return c.learningRate * Math.max(0, (total - step) / Math.max(1, total - c.warmupSteps));
}
