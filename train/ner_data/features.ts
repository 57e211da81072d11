/**
 * Fine-tuning features: NER examples → WordPiece encodings → windows of at most `maxLength` tokens →
 * aligned label ids (−100 where the loss must not look) → length-bucketed batches as plain tensors.
 *
 * Labels are aligned on the whole encoding first and then cut into windows, so an entity that crosses
 * a window edge keeps the labels it has in the full sentence (`I-` at the start of the second window),
 * which is what the model will see at inference when the same windows are merged back.
 *
 * Batches are padded to their longest member rounded up to a multiple of 8 (not always to
 * `maxLength`): the training graph has symbolic batch and sequence sizes, and most sentences are far
 * shorter than 128 tokens. Examples are bucketed by length ("sortish": shuffle, sort within chunks of
 * many batches, cut, shuffle the batches) so that padding stays small while the order stays random.
 * @module
 */
import type { Encoding } from "../../infer/encoding.ts";
import type { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import { splitWindows, type Window } from "../../infer/windows.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import {
  alignLabels,
  type AlignStats,
  emptyAlignStats,
  IGNORE_INDEX,
  type LabelMode,
  type Scheme,
} from "./align.ts";
import type { NerExample } from "./datasets/types.ts";
import type { Rng } from "../util/rng.ts";

/** How examples become features. */
export interface FeatureOptions {
  labels: readonly string[];
  scheme: Scheme;
  mode: LabelMode;
  /** Window length in tokens, [CLS] and [SEP] included. */
  maxLength: number;
  /** Tokens shared by consecutive windows. */
  stride: number;
  /**
   * CRF training: [CLS]/[SEP] get `O` instead of −100, so that the labelled positions of every window
   * are one unbroken run from position 0 (pytorch-crf's mask must be a prefix). Needs `all-subwords`.
   */
  crf?: boolean;
}

/** One window of one example, ready to batch. */
export interface Feature {
  /** Index of the example in the list given to `makeFeatures`. */
  example: number;
  /** Index of the window within the example. */
  window: number;
  ids: number[];
  /** Label id per token, −100 where the loss ignores it. */
  labels: number[];
}

/** An example's encoding and windows, kept to merge window predictions back (evaluation). */
export interface EncodedExample {
  encoding: Encoding;
  windows: Window[];
}

/** What `makeFeatures` returns. */
export interface Features {
  features: Feature[];
  encoded: EncodedExample[];
  stats: AlignStats;
  /** Examples longer than one window (split into several). */
  split: number;
}

/** Encodes, aligns and windows every example (examples with no content tokens give no feature). */
export function makeFeatures(
  examples: readonly NerExample[],
  tokenizer: WordPieceTokenizer,
  options: FeatureOptions,
): Features {
  if (options.crf && options.mode !== "all-subwords") {
    throw new Error(
      `CRF training labels every sub-word: use label mode "all-subwords", not "${options.mode}"`,
    );
  }
  const stats = emptyAlignStats();
  const outside = options.labels.indexOf("O");
  if (outside < 0) throw new Error(`makeFeatures(): the label list has no "O"`);
  const features: Feature[] = [];
  const encoded: EncodedExample[] = [];
  let split = 0;
  examples.forEach((ex, i) => {
    const encoding = tokenizer.encode(ex.text);
    const labels = alignLabels(encoding, ex.entities, {
      labels: options.labels,
      scheme: options.scheme,
      mode: options.mode,
      stats,
    });
    const windows = encoding.specialTokensMask.some((m) => m === 0)
      ? splitWindows(encoding, {
        maxLength: options.maxLength,
        stride: options.stride,
        clsId: tokenizer.clsId,
        sepId: tokenizer.sepId,
        clsToken: tokenizer.clsToken,
        sepToken: tokenizer.sepToken,
      })
      : [];
    if (windows.length > 1) split++;
    encoded.push({ encoding, windows });
    windows.forEach((w, k) => {
      features.push({
        example: i,
        window: k,
        ids: w.encoding.ids,
        labels: w.sourceIndex.map((s) => (s < 0 ? (options.crf ? outside : IGNORE_INDEX) : labels[s])),
      });
    });
  });
  return { features, encoded, stats, split };
}

/** Rounds `n` up to a multiple of `m`, capped at `cap`. */
export function padLength(n: number, m: number, cap: number): number {
  return Math.min(cap, Math.ceil(n / m) * m);
}

/** Options of `makeBatches`. */
export interface BatchOptions {
  batchSize: number;
  /** Shuffles (training); without it the order is longest first (evaluation: least padding). */
  rng?: Rng;
  /** Sort by length within chunks of this many batches (default 50); 0 or false: no bucketing. */
  bucketBatches?: number | false;
}

/**
 * Groups feature indices into batches. Training (`rng` given): a seeded shuffle, then sorted by length
 * within chunks of `bucketBatches` batches, cut into batches, and the batches shuffled again, so each
 * batch holds similar lengths but batch order is random. Evaluation: longest first.
 */
export function makeBatches(features: readonly Feature[], options: BatchOptions): number[][] {
  const B = options.batchSize;
  if (!(Number.isInteger(B) && B >= 1)) throw new Error(`batch size must be a positive integer, got ${B}`);
  const len = (i: number) => features[i].ids.length;
  let order = Array.from({ length: features.length }, (_, i) => i);
  if (!options.rng) {
    // Stable: equal lengths keep their input order.
    order.sort((a, b) => len(b) - len(a) || a - b);
  } else {
    order = options.rng.shuffle(order);
    const chunk = options.bucketBatches === false ? 0 : (options.bucketBatches ?? 50) * B;
    if (chunk > 0) {
      const sorted: number[] = [];
      for (let s = 0; s < order.length; s += chunk) {
        for (const i of order.slice(s, s + chunk).sort((a, b) => len(b) - len(a) || a - b)) sorted.push(i);
      }
      order = sorted;
    }
  }
  const batches: number[][] = [];
  for (let s = 0; s < order.length; s += B) batches.push(order.slice(s, s + B));
  return options.rng && options.bucketBatches !== false ? options.rng.shuffle(batches) : batches;
}

/** The padded length of a batch: its longest window rounded up to `multiple` (≤ `maxLength`). */
export function batchLength(
  features: readonly Feature[],
  indices: readonly number[],
  multiple: number,
  maxLength: number,
): number {
  let T = 0;
  for (const i of indices) T = Math.max(T, features[i].ids.length);
  return padLength(T, multiple, Math.max(maxLength, T));
}

/**
 * The model inputs of one batch: `input_ids`, `attention_mask`, `token_type_ids` and `labels` (B, T)
 * int64, padded with `padId` / 0 / 0 / −100 to `T` (default: longest rounded up to a multiple of 8).
 */
export function batchTensors(
  features: readonly Feature[],
  indices: readonly number[],
  options: { padId: number; maxLength: number; multiple?: number; length?: number },
): Record<"input_ids" | "attention_mask" | "token_type_ids" | "labels", Tensor> {
  const B = indices.length;
  const T = options.length ?? batchLength(features, indices, options.multiple ?? 8, options.maxLength);
  const ids = new BigInt64Array(B * T).fill(BigInt(options.padId));
  const mask = new BigInt64Array(B * T);
  const labels = new BigInt64Array(B * T).fill(BigInt(IGNORE_INDEX));
  indices.forEach((f, b) => {
    const feat = features[f];
    if (feat.ids.length > T) {
      throw new Error(`batchTensors(): a window of ${feat.ids.length} tokens does not fit length ${T}`);
    }
    for (let t = 0; t < feat.ids.length; t++) {
      ids[b * T + t] = BigInt(feat.ids[t]);
      mask[b * T + t] = 1n;
      labels[b * T + t] = BigInt(feat.labels[t]);
    }
  });
  const dims = [B, T];
  return {
    input_ids: { dtype: "int64", dims, data: ids },
    attention_mask: { dtype: "int64", dims, data: mask },
    token_type_ids: { dtype: "int64", dims: [...dims], data: new BigInt64Array(B * T) },
    labels: { dtype: "int64", dims: [...dims], data: labels },
  };
}

/** Real and padded token counts of a batch plan (to report what bucketing saves). */
export function paddingStats(
  features: readonly Feature[],
  batches: readonly (readonly number[])[],
  multiple: number,
  maxLength: number,
): { tokens: number; padded: number; fixed: number } {
  let tokens = 0, padded = 0, fixed = 0;
  for (const b of batches) {
    const T = batchLength(features, b, multiple, maxLength);
    for (const i of b) tokens += features[i].ids.length;
    padded += T * b.length;
    fixed += maxLength * b.length;
  }
  return { tokens, padded, fixed };
}

/** Encodes and windows texts for prediction only (no gold labels: every label is −100). */
export function makeInputs(
  texts: readonly string[],
  tokenizer: WordPieceTokenizer,
  options: Pick<FeatureOptions, "maxLength" | "stride">,
): Pick<Features, "features" | "encoded"> {
  const { features, encoded } = makeFeatures(
    texts.map((text, i) => ({ id: String(i), text, entities: [] })),
    tokenizer,
    {
      labels: ["O"],
      scheme: "BIO",
      mode: "all-subwords",
      maxLength: options.maxLength,
      stride: options.stride,
    },
  );
  for (const f of features) f.labels.fill(IGNORE_INDEX);
  return { features, encoded };
}
