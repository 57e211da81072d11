/**
 * Reference CRF negative log-likelihood (forward algorithm) and its analytic gradient, in float64
 * plain TypeScript. It defines what the ONNX graph version must compute: the same value and
 * gradients as pytorch-crf's `-crf(emissions, tags, mask, reduction)`.
 * @module
 */

import { type CrfParams, pathScore } from "../../infer/crf.ts";

/** Gradients of the NLL with respect to every input, shaped like them. */
export interface CrfGradients {
  emissions: number[][];
  transitions: number[][];
  start: number[];
  end: number[];
}

function logSumExp(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** log Z: the log-sum over all label paths of exp(path score), by the forward algorithm. */
export function crfLogPartition(emissions: readonly ArrayLike<number>[], params: CrfParams): number {
  return forward(emissions, params).logZ;
}

function forward(emissions: readonly ArrayLike<number>[], params: CrfParams) {
  const T = emissions.length;
  const L = params.start.length;
  const alpha: number[][] = [];
  alpha.push(Array.from({ length: L }, (_, j) => params.start[j] + emissions[0][j]));
  for (let t = 1; t < T; t++) {
    alpha.push(
      Array.from(
        { length: L },
        (_, j) => logSumExp(alpha[t - 1].map((a, i) => a + params.transitions[i][j])) + emissions[t][j],
      ),
    );
  }
  const logZ = logSumExp(alpha[T - 1].map((a, j) => a + params.end[j]));
  return { alpha, logZ };
}

/**
 * NLL of one tag sequence, `log Z - score(tags)`, and its gradient: node marginals minus the
 * one-hot tags for emissions (and start/end at the ends), pair marginals minus the transition
 * counts for transitions. Marginals come from forward-backward.
 */
export function crfNll(
  emissions: readonly ArrayLike<number>[],
  tags: readonly number[],
  params: CrfParams,
): { loss: number; grad: CrfGradients } {
  const T = emissions.length;
  const L = params.start.length;
  if (T === 0) throw new Error("crfNll: empty sequence (pytorch-crf requires the first step unmasked)");
  if (tags.length !== T) throw new Error(`crfNll: ${tags.length} tags for ${T} steps`);
  const { alpha, logZ } = forward(emissions, params);
  const beta: number[][] = new Array(T);
  beta[T - 1] = Array.from({ length: L }, (_, i) => params.end[i]);
  for (let t = T - 2; t >= 0; t--) {
    beta[t] = Array.from(
      { length: L },
      (_, i) => logSumExp(beta[t + 1].map((b, j) => params.transitions[i][j] + emissions[t + 1][j] + b)),
    );
  }
  const emissionsGrad = alpha.map((a, t) => a.map((x, j) => Math.exp(x + beta[t][j] - logZ)));
  const startGrad = emissionsGrad[0].slice();
  const endGrad = emissionsGrad[T - 1].slice();
  const transGrad = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  for (let t = 1; t < T; t++) {
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < L; j++) {
        transGrad[i][j] += Math.exp(
          alpha[t - 1][i] + params.transitions[i][j] + emissions[t][j] + beta[t][j] - logZ,
        );
      }
    }
  }
  for (let t = 0; t < T; t++) emissionsGrad[t][tags[t]] -= 1;
  startGrad[tags[0]] -= 1;
  endGrad[tags[T - 1]] -= 1;
  for (let t = 1; t < T; t++) transGrad[tags[t - 1]][tags[t]] -= 1;
  return {
    loss: logZ - pathScore(emissions, params, tags),
    grad: { emissions: emissionsGrad, transitions: transGrad, start: startGrad, end: endGrad },
  };
}

/** Gradients of a batch loss: emissions per sequence (B×T×L), the shared parameters summed. */
export interface CrfBatchGradients {
  emissions: number[][][];
  transitions: number[][];
  start: number[];
  end: number[];
}

/** How batch losses combine, as pytorch-crf's `reduction` (negated: these are losses). */
export type CrfReduction = "sum" | "mean" | "token_mean" | "none";

/**
 * Batch NLL with per-sequence lengths (pytorch-crf's mask as lengths; each ≥ 1). Returns the
 * reduced loss, the per-sequence losses and gradients scaled by the reduction (emission gradients
 * are zero past each length).
 */
export function crfNllBatch(
  emissions: readonly (readonly ArrayLike<number>[])[],
  tags: readonly (readonly number[])[],
  lengths: readonly number[],
  params: CrfParams,
  reduction: CrfReduction = "sum",
): { loss: number; losses: number[]; grad: CrfBatchGradients } {
  const B = emissions.length;
  const L = params.start.length;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const scale = reduction === "mean" ? 1 / B : reduction === "token_mean" ? 1 / tokens : 1;
  const grad: CrfBatchGradients = {
    emissions: emissions.map((e) => e.map(() => new Array<number>(L).fill(0))),
    transitions: Array.from({ length: L }, () => new Array<number>(L).fill(0)),
    start: new Array<number>(L).fill(0),
    end: new Array<number>(L).fill(0),
  };
  const losses: number[] = [];
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (!(n >= 1 && n <= emissions[b].length)) {
      throw new Error(`crfNllBatch: length ${n} of sequence ${b} is out of range`);
    }
    const r = crfNll(emissions[b].slice(0, n), tags[b].slice(0, n), params);
    losses.push(r.loss);
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < L; j++) grad.emissions[b][t][j] = r.grad.emissions[t][j] * scale;
    }
    for (let i = 0; i < L; i++) {
      grad.start[i] += r.grad.start[i] * scale;
      grad.end[i] += r.grad.end[i] * scale;
      for (let j = 0; j < L; j++) grad.transitions[i][j] += r.grad.transitions[i][j] * scale;
    }
  }
  const sum = losses.reduce((a, b) => a + b, 0);
  return { loss: reduction === "none" ? sum : sum * scale, losses, grad };
}
