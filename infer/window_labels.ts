/**
 * The per-window labelling every decoder shares (the pipeline, `train/evaluate/evaluate.ts`): argmax per
 * token, BIO-constrained Viterbi for a softmax model (`"bio-viterbi"`), or the CRF's Viterbi when the model
 * has one (`infer/crf.ts`). Browser-safe.
 * @module
 */
import { argmaxWithProb } from "./decode.ts";
import { bioConstraints, type CrfDecoder, crfDecoder, type CrfParams, viterbi } from "./crf.ts";

/** How a softmax (non-CRF) model's per-token logits become labels. */
export type Decoding = "argmax" | "bio-viterbi";

/**
 * BIO-constrained decoding for a softmax tagger: the Viterbi path with zero transition scores, so the
 * most probable sequence of per-token labels (logits differ from log-probabilities by a per-row constant)
 * among the valid ones — an `I-X` never follows `O` or another type. Argmax instead lets a model that
 * labels "민수" `I-PS I-PS` or `B-PS I-LC` produce fragments, which entity-level F1 counts as errors.
 */
export function constrainedDecoder(labels: readonly string[]): CrfDecoder {
  const L = labels.length;
  const outside = labels.indexOf("O");
  if (outside < 0) throw new Error(`constrainedDecoder: the labels have no "O" (${labels.join(", ")})`);
  const zeros = () => new Float64Array(L);
  return {
    params: { transitions: Array.from({ length: L }, zeros), start: zeros(), end: zeros() },
    constraints: bioConstraints(labels),
    pinEnds: outside,
  };
}

/**
 * The decoder a model asks for: its CRF's Viterbi when it has one, else BIO-constrained Viterbi for
 * `"bio-viterbi"`, else `undefined` (argmax per token).
 */
export function labelDecoder(
  labels: readonly string[],
  crf: CrfParams | undefined,
  decoding: Decoding = "argmax",
): CrfDecoder | undefined {
  if (crf) return crfDecoder(crf, labels);
  return decoding === "bio-viterbi" ? constrainedDecoder(labels) : undefined;
}

/** Softmax probability of label `k` in one row of logits. */
function probOf(row: ArrayLike<number>, k: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return Math.exp(row[k] - max) / sum;
}

/**
 * Labels the tokens of one window from its row-major logits (n×L, padding already cut off; `[CLS]` and
 * `[SEP]` included, as CRF training labels them `O` so each window is one unbroken sequence): the argmax
 * per token, or with `crf` the Viterbi path (a `constrainedDecoder` pins the two ends to `O`). `p` is the softmax probability of the chosen label (for a
 * CRF path too: a per-token confidence, not the path's probability).
 */
export function windowLabels(
  logits: Float32Array,
  numLabels: number,
  crf?: CrfDecoder,
): { id: number; p: number }[] {
  if (crf) {
    const rows = Array.from(
      { length: Math.floor(logits.length / numLabels) },
      (_, t) => logits.subarray(t * numLabels, (t + 1) * numLabels),
    );
    let emissions: ArrayLike<number>[] = rows;
    if (crf.pinEnds !== undefined && rows.length) {
      const pinned = new Float64Array(numLabels).fill(-Infinity);
      pinned[crf.pinEnds] = 0;
      emissions = [...rows];
      emissions[0] = pinned;
      emissions[rows.length - 1] = pinned;
    }
    const { path } = viterbi(emissions, crf.params, crf.constraints);
    return path.map((id, t) => ({ id, p: probOf(rows[t], id) }));
  }
  const { ids, probs } = argmaxWithProb(logits, numLabels);
  return ids.map((id, t) => ({ id, p: probs[t] }));
}
