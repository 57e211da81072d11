/**
 * Losses written in standard ops (no `SoftmaxCrossEntropyLoss`, which has no CUDA kernel, and no
 * `LogSoftmax`, which falls back to CPU on WebGPU): log-sum-exp with ReduceMax/Exp/ReduceSum/Log,
 * GatherElements for the target logit, and float masks for ignored positions.
 * @module
 */
import type { Value } from "./graph.ts";
import { stopGradient } from "./autodiff.ts";
import {
  abs,
  add,
  cast,
  div,
  equal,
  exp,
  gatherElements,
  log,
  max,
  mul,
  neg,
  not,
  reduceMax,
  reduceMean,
  reduceSum,
  relu,
  squeeze,
  sub,
  unsqueeze,
  where,
} from "./ops.ts";

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** Label value that contributes nothing (Hugging Face's -100). */
  ignoreIndex?: number;
}

/** Per-item negative log-likelihood −log softmax(logits)[label] of (…, C) logits and (…) integer labels. */
export function crossEntropyPerItem(
  logits: Value,
  labels: Value,
  ignoreIndex = -100,
): { nll: Value; mask: Value } {
  // log-sum-exp shifted by the max; the shift cancels in the gradient, so it is held constant (no ReduceMax backward).
  const m = stopGradient(reduceMax(logits, [-1], true)); // (…, 1)
  const z = sub(logits, m); // (…, C)
  const lse = log(reduceSum(exp(z), [-1], true)); // (…, 1)
  const valid = not(equal(labels, ignoreIndex)); // (…)
  const safe = where(valid, labels, 0); // ignored labels point at class 0, then get weight 0
  const picked = gatherElements(z, unsqueeze(safe, [-1]), -1); // (…, 1)
  const nll = squeeze(sub(lse, picked), [-1]); // (…)
  return { nll, mask: cast(valid, logits.dtype) };
}

/** Mean cross-entropy over the labels that are not `ignoreIndex` (0 when all are ignored). */
export function crossEntropy(logits: Value, labels: Value, options: CrossEntropyOptions = {}): Value {
  const { nll, mask } = crossEntropyPerItem(logits, labels, options.ignoreIndex ?? -100);
  return maskedMean(nll, mask);
}

/** Σ x·mask / max(Σ mask, 1): a mean over the positions the mask keeps. */
export function maskedMean(x: Value, mask: Value): Value {
  return div(reduceSum(mul(x, mask)), max(reduceSum(mask), 1));
}

/** Sigmoid binary cross-entropy per item from logits x and 0/1 targets y: max(x,0) − x·y + log(1 + e^−|x|). */
export function binaryCrossEntropyPerItem(logits: Value, targets: Value): Value {
  return add(sub(relu(logits), mul(logits, targets)), log(add(exp(neg(abs(logits))), 1)));
}

/**
 * Mean binary cross-entropy of `logits` against float `targets` (0/1 or soft), over positions where the
 * optional float `mask` is 1, in the stable form max(x, 0) − x·t + log(1 + e^(−|x|)).
 */
export function binaryCrossEntropyWithLogits(logits: Value, targets: Value, mask?: Value): Value {
  const per = binaryCrossEntropyPerItem(
    logits,
    targets.dtype === logits.dtype ? targets : cast(targets, logits.dtype),
  );
  if (!mask) return reduceMean(per);
  return maskedMean(per, mask.dtype === logits.dtype ? mask : cast(mask, logits.dtype));
}
