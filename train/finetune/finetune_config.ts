/**
 * The fine-tuning configuration: hyperparameters with the original NERSOTA project's `koelectra-small`
 * NER defaults (max_seq_len 128, batch 32, lr 5e-5, AdamW ε 1e-8, weight decay 0, max_grad_norm 1.0,
 * no warm-up, linear decay, up to 20 epochs). Each setting is declared once in `FINETUNE_TABLE` (JSON key,
 * flag, default, check, doc); in JSON (`--train-config FILE`, and what `run.json` and checkpoints record) the
 * keys are snake_case, as Hugging Face's `TrainingArguments` names them where it has a name; unknown keys
 * are rejected by name, so a typo never silently falls back to a default.
 * @module
 */
import type { Decoding } from "../../infer/window_labels.ts";
import { keyLinesAt } from "../../onnx/json_lines.ts";
import { type KeyLines, Settings, type SettingsValues } from "../../onnx/settings.ts";
import { readJsonText } from "../util/fs.ts";

/** The fine-tuning settings, declared once: field, JSON key, flag, default, check, doc. */
export const FINETUNE_TABLE = {
  learningRate: {
    key: "learning_rate",
    flag: "lr",
    default: 5e-5,
    check: { type: "number", gt: 0 },
    doc: "peak learning rate",
  },
  batchSize: {
    key: "batch_size",
    flag: "batch-size",
    default: 32,
    check: { type: "integer", min: 1 },
    doc: "examples (windows) per batch",
  },
  maxSeqLength: {
    key: "max_seq_length",
    flag: "max-seq-len",
    default: 128,
    check: { type: "integer", min: 3, expected: "an integer ≥ 3 ([CLS], one token, [SEP])" },
    doc: "window length in tokens, [CLS] and [SEP] included",
  },
  stride: {
    key: "stride",
    flag: "stride",
    default: -1,
    check: { type: "integer", min: -1, expected: "an integer ≥ 0, or -1 (a quarter of the window)" },
    doc: "tokens shared by consecutive windows of a long sentence (-1: a quarter of the content)",
  },
  epochs: {
    key: "num_train_epochs",
    flag: "epochs",
    default: 20,
    check: { type: "integer", min: 1 },
    doc: "upper bound on epochs",
  },
  maxSteps: {
    key: "max_steps",
    flag: "max-steps",
    default: 0,
    check: { type: "integer", min: 0 },
    doc: "stop after this many updates in total (0: epochs decide)",
  },
  stopAfterEpochs: {
    key: "stop_after_epochs",
    flag: "stop-after-epochs",
    default: 0,
    check: { type: "integer", min: 0 },
    // Fitting on train + dev has no dev set to pick an epoch: it stops where a run with one kept its best.
    doc: "stop after this many epochs, on the learning-rate schedule of num_train_epochs (0: at its end)",
  },
  warmupSteps: {
    key: "warmup_steps",
    flag: "warmup",
    default: 0,
    check: { type: "integer", min: 0 },
    doc: "linear warm-up updates",
  },
  adamEpsilon: {
    key: "adam_epsilon",
    flag: "adam-epsilon",
    default: 1e-8,
    check: { type: "number", gt: 0 },
    doc: "AdamW ε (PyTorch/HF)",
  },
  weightDecay: {
    key: "weight_decay",
    flag: "weight-decay",
    default: 0,
    check: { type: "number", min: 0 },
    doc: "decoupled weight decay (LayerNorm weights and biases never decay)",
  },
  maxGradNorm: {
    key: "max_grad_norm",
    flag: "max-grad-norm",
    default: 1.0,
    check: { type: "number", min: 0 },
    doc: "global-norm gradient clipping (0: none)",
  },
  evalEvery: {
    key: "eval_every",
    flag: "eval-every",
    default: 0,
    check: { type: "integer", min: 0 },
    doc: "evaluate on dev every N updates (0: at the end of every epoch)",
  },
  patience: {
    key: "patience",
    flag: "patience",
    default: 3,
    check: { type: "integer", min: 0 },
    doc: "stop after this many evaluations without a better dev F1 (0: never stop early)",
  },
  metric: {
    key: "metric",
    flag: "metric",
    default: "micro_f1",
    check: { type: "oneOf", values: ["micro_f1", "macro_f1"] },
    doc: "the dev score that picks the best checkpoint",
  },
  keepCheckpoints: {
    key: "keep_checkpoints",
    default: 2,
    check: { type: "integer", min: 1 },
    doc: "resume checkpoints kept",
  },
  logEvery: {
    key: "log_every",
    default: 10,
    check: { type: "integer", min: 1 },
    doc: "write a training metrics line every N updates",
  },
  padMultiple: {
    key: "pad_multiple",
    default: 8,
    check: { type: "integer", min: 1 },
    doc: "pad each batch to a multiple of this (tensor-core and SIMD friendly)",
  },
  bucketBatches: {
    key: "bucket_batches",
    flag: { name: "no-bucketing", sets: 0 },
    default: 50,
    check: { type: "integer", min: 0 },
    doc: "sort by length within chunks of this many batches; 0: every batch padded to max_seq_length",
  },
  seed: {
    key: "seed",
    flag: "seed",
    default: 42,
    check: { type: "integer" },
    doc: "seed of init, data order and dropout",
  },
  scheme: {
    key: "scheme",
    flag: "scheme",
    default: "BIO",
    check: { type: "oneOf", values: ["BIO", "BIOES"] },
    doc: "tagging scheme",
  },
  labelMode: {
    key: "label_mode",
    flag: "label-mode",
    default: "all-subwords",
    check: { type: "oneOf", values: ["all-subwords", "first-subword"] },
    doc: "which sub-words carry labels (train/ner_data/align.ts)",
  },
  types: {
    key: "types",
    flag: "types",
    default: [],
    check: {
      type: "names",
      pattern: "^[A-Za-z][A-Za-z0-9_]*$",
      metavar: "PS,LC,…",
      expected: 'a list of type names such as ["PS", "LC"]',
    },
    doc: "entity types to learn, in order (empty: every type in the training data)",
  },
  crf: {
    key: "crf",
    flag: "crf",
    default: false,
    check: { type: "boolean" },
    doc: "a linear-chain CRF on the classifier, as pytorch-bert-crf-ner (all-subwords only)",
  },
  decoding: {
    key: "decoding",
    flag: "decoding",
    default: "bio-viterbi",
    check: { type: "oneOf", values: ["bio-viterbi", "argmax"] },
    // First-subword models decode by argmax (their continuation tokens carry no label), CRF models by their own Viterbi.
    doc: "decoding of an all-subwords softmax model: the best valid BIO path, or argmax per token",
  },
  symbolEntities: {
    key: "symbol_entities",
    flag: "symbol-entities",
    default: "keep",
    check: { type: "oneOf", values: ["keep", "drop"] },
    doc: "drop: leave out entities with no letter or digit (ㅋㅋ, emoji) in dev scores and the saved model",
  },
  evalBatchSize: {
    key: "eval_batch_size",
    default: 64,
    check: { type: "integer", min: 1 },
    doc: "windows per evaluation batch",
  },
} as const;

/** Parsing, validation, flags and usage of `FINETUNE_TABLE`. */
export const FINETUNE_SETTINGS: Settings<typeof FINETUNE_TABLE> = new Settings(FINETUNE_TABLE, {
  relations: (c) =>
    c.stride >= c.maxSeqLength - 2
      ? `stride must be below max_seq_length - 2 (${
        c.maxSeqLength - 2
      }) or -1 (a quarter of the window), got ${c.stride}`
      : c.stopAfterEpochs > c.epochs
      ? `stop_after_epochs (${c.stopAfterEpochs}) must not exceed num_train_epochs (${c.epochs})`
      : c.crf && c.labelMode !== "all-subwords"
      ? `crf needs label_mode "all-subwords" (the CRF tags every token, as pytorch-bert-crf-ner)`
      : undefined,
});

/** Fine-tuning hyperparameters (see `FINETUNE_SETTINGS`). */
export type FinetuneConfig = SettingsValues<typeof FINETUNE_TABLE>;

/** The defaults: the original project's `koelectra-small` NER config. */
export const FINETUNE_DEFAULTS: Readonly<FinetuneConfig> = FINETUNE_SETTINGS.defaults;

/** The effective stride: the configured one, or a quarter of the window's content (HF-like overlap). */
export function effectiveStride(c: FinetuneConfig): number {
  return c.stride >= 0 ? c.stride : Math.floor((c.maxSeqLength - 2) / 4);
}

/** Throws naming the key when a value is out of range. */
export function validateFinetuneConfig(c: FinetuneConfig, where = "fine-tuning config"): void {
  FINETUNE_SETTINGS.validate(c, where);
}

/**
 * `base` (the defaults) overridden by a JSON object with snake_case keys; unknown keys are an error naming
 * them; with `lines` (where the object's keys are in its file), errors about a key name its line.
 */
export function finetuneConfigFromJson(
  json: unknown,
  where = "fine-tuning config",
  base: Readonly<FinetuneConfig> = FINETUNE_DEFAULTS,
  lines?: KeyLines,
): FinetuneConfig {
  return FINETUNE_SETTINGS.fromJson(json, where, base, lines);
}

/**
 * Reads a `--train-config` file: the JSON object it holds (the settings the user gave) and the config it
 * makes of the defaults; errors name the file and the line.
 */
export async function readFinetuneConfig(
  path: string,
): Promise<{ json: Record<string, unknown>; config: FinetuneConfig }> {
  const doc = await readJsonText(path, "--train-config");
  const config = finetuneConfigFromJson(doc.json, path, FINETUNE_DEFAULTS, keyLinesAt(doc));
  return { json: doc.json as Record<string, unknown>, config };
}

/** The decoding a softmax model trained with `c` uses (see `FinetuneConfig.decoding`). */
export function softmaxDecoding(c: Pick<FinetuneConfig, "decoding" | "labelMode">): Decoding {
  return c.labelMode === "all-subwords" ? c.decoding : "argmax";
}

/** The config as snake_case JSON (what `run.json` and checkpoints store). */
export function finetuneConfigToJson(c: FinetuneConfig): Record<string, unknown> {
  return FINETUNE_SETTINGS.toJson(c);
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
