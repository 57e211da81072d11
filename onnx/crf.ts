/**
 * Linear-chain CRF negative log-likelihood as standard ONNX ops, so that the autodiff differentiates it
 * (emissions, and the trainable `crf.transitions` (L, L), `crf.start_transitions` (L),
 * `crf.end_transitions` (L) — pytorch-crf's parameterisation and names under a `crf.` scope, as
 * pytorch-bert-crf-ner holds them). Value and gradient are those of pytorch-crf's
 * `-crf(emissions, tags, mask, reduction="mean")`; `train/finetune/crf_loss_reference.ts` is the float64 reference.
 *
 * The mask comes from the labels: positions labelled −100 are padding and must form a suffix of each row
 * (position 0 always labelled), as pytorch-crf requires. The forward algorithm is unrolled over a static
 * number of steps `maxLength` (ONNX `Loop`/`Scan` have no gradient here): the emissions, whose sequence
 * size is symbolic (length-bucketed batches), are padded with zeros up to `maxLength` and masked, so one
 * graph serves every batch length. Each step is a log-sum-exp over the previous label with the max held
 * constant (it cancels in the gradient), then `Where(mask_t, new, old)` keeps α through padding.
 * @module
 */
import { stopGradient } from "./autodiff.ts";
import type { Graph, Value } from "./graph.ts";
import {
  add,
  cast,
  equal,
  exp,
  gather,
  gatherElements,
  ints,
  log,
  mul,
  not,
  reduceMax,
  reduceMean,
  reduceSum,
  reshape,
  slice,
  squeeze,
  sub,
  unsqueeze,
  where,
} from "./ops.ts";
import { type DType, type Tensor, tensor } from "./tensor.ts";

/** HF-style names of the CRF parameters. */
export const CRF_NAMES = {
  transitions: "crf.transitions",
  start: "crf.start_transitions",
  end: "crf.end_transitions",
} as const;

/** The CRF parameters as graph values. */
export interface CrfValues {
  /** (L, L): score of label i followed by label j. */
  transitions: Value;
  /** (L). */
  start: Value;
  /** (L). */
  end: Value;
}

/** Initial CRF parameters as pytorch-crf draws them: uniform(−0.1, 0.1), from a seeded generator. */
export function initCrfTensors(
  numLabels: number,
  seed: number,
  dtype: Extract<DType, "float32" | "float64"> = "float32",
): Record<string, Tensor> {
  let s = (seed ^ 0x5bd1e995) >>> 0;
  const rand = () => {
    // xorshift32: enough for an init; deterministic in the seed.
    s ^= s << 13, s >>>= 0, s ^= s >>> 17, s ^= s << 5, s >>>= 0;
    return s / 4294967296;
  };
  const make = (dims: number[]): Tensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rand() * 0.2 - 0.1;
    return { dtype, dims, data };
  };
  return {
    [CRF_NAMES.transitions]: make([numLabels, numLabels]),
    [CRF_NAMES.start]: make([numLabels]),
    [CRF_NAMES.end]: make([numLabels]),
  };
}

/** Declares the CRF parameters in `g` (from `tensors`, e.g. `initCrfTensors` or a checkpoint). */
export function crfParams(g: Graph, tensors: Record<string, Tensor>): CrfValues {
  const get = (name: string) => {
    const t = tensors[name];
    if (!t) throw new Error(`crfParams(): no tensor "${name}"`);
    return g.param(name, t);
  };
  return { transitions: get(CRF_NAMES.transitions), start: get(CRF_NAMES.start), end: get(CRF_NAMES.end) };
}

/** log Σ exp(x) over `axis` (dropped), with the max held constant for the gradient. */
function logSumExp(x: Value, axis: number): Value {
  const m = stopGradient(reduceMax(x, [axis], true));
  return add(log(reduceSum(exp(sub(x, m)), [axis])), squeeze(m, [axis]));
}

/**
 * Per-sequence CRF NLL, log Z − score(gold path): emissions (B, T, L) float, labels (B, T) int64 with
 * −100 on a padding suffix → (B). `maxLength` ≥ T is the number of unrolled steps.
 */
export function crfNllPerSequence(emissions: Value, labels: Value, crf: CrfValues, maxLength: number): Value {
  const g = emissions.graph;
  const dtype = emissions.dtype;
  const L = crf.start.shape[0] as number;
  const valid = not(equal(labels, -100)); // (B, T) bool
  const maskF = cast(valid, dtype); // (B, T)
  const y = where(valid, labels, 0); // (B, T) int64

  // --- score of the gold path ---
  const emit = squeeze(gatherElements(emissions, unsqueeze(y, [-1]), -1), [-1]); // (B, T)
  const emitScore = reduceSum(mul(emit, maskF), [1]); // (B)
  const first = squeeze(slice(y, [0], [1], [1]), [1]); // (B)
  const startScore = gather(crf.start, first, 0); // (B)
  const prev = slice(y, [0], [-1], [1]); // (B, T−1)
  const next = slice(y, [1], [2 ** 31 - 1], [1]); // (B, T−1)
  const pair = add(mul(prev, L), next); // (B, T−1): index into the flattened (L·L) table
  const transScore = reduceSum(
    mul(gather(reshape(crf.transitions, [L * L]), pair, 0), slice(maskF, [1], [2 ** 31 - 1], [1])),
    [1],
  ); // (B)
  const lastIndex = sub(cast(reduceSum(maskF, [1], true), "int64"), 1); // (B, 1)
  const last = squeeze(gatherElements(y, lastIndex, 1), [1]); // (B)
  const endScore = gather(crf.end, last, 0); // (B)
  const gold = add(add(emitScore, startScore), add(transScore, endScore)); // (B)

  // --- log partition by the forward algorithm over maxLength padded steps ---
  const shape = g.op("Shape", [emissions])[0]; // (3): B, T, L
  const B = emissions.shape[0];
  const padShape = g.op("Concat", [
    g.op("Slice", [shape, ints(g, [0]), ints(g, [1])])[0],
    sub(ints(g, [maxLength]), g.op("Slice", [shape, ints(g, [1]), ints(g, [2])])[0]),
    ints(g, [L]),
  ], { axis: 0 })[0];
  const zerosE = g.op("ConstantOfShape", [padShape], { value: tensor(dtype, [1], [0]) }, {
    types: [{ dtype, shape: [B, g.fresh("crf_pad"), L] }],
  })[0];
  const eP =
    g.op("Concat", [emissions, zerosE], { axis: 1 }, { types: [{ dtype, shape: [B, maxLength, L] }] })[0]; // (B, Tmax, L)
  const zerosM = g.op("ConstantOfShape", [g.op("Slice", [padShape, ints(g, [0]), ints(g, [2])])[0]], {
    value: tensor("bool", [1], [0]),
  }, { types: [{ dtype: "bool", shape: [B, g.fresh("crf_pad")] }] })[0];
  const mP =
    g.op("Concat", [valid, zerosM], { axis: 1 }, { types: [{ dtype: "bool", shape: [B, maxLength] }] })[0]; // (B, Tmax)
  const ones = new Array(maxLength).fill(1);
  const eSteps = maxLength === 1 ? [eP] : g.op("Split", [eP, ints(g, ones)], { axis: 1 }, {
    outputs: maxLength,
    types: ones.map(() => ({ dtype, shape: [B, 1, L] })),
  });
  const mSteps = maxLength === 1 ? [mP] : g.op("Split", [mP, ints(g, ones)], { axis: 1 }, {
    outputs: maxLength,
    types: ones.map(() => ({ dtype: "bool" as DType, shape: [B, 1] })),
  });
  let alpha = add(crf.start, squeeze(eSteps[0], [1])); // (B, L)
  for (let t = 1; t < maxLength; t++) {
    const scores = add(unsqueeze(alpha, [2]), crf.transitions); // (B, L, L): α_i + A_ij
    const nextAlpha = add(logSumExp(scores, 1), squeeze(eSteps[t], [1])); // (B, L)
    alpha = where(mSteps[t], nextAlpha, alpha); // mask (B, 1) broadcasts over labels
  }
  const logZ = logSumExp(add(alpha, crf.end), 1); // (B)
  return sub(logZ, gold);
}

/** pytorch-crf's `reduction="mean"` loss: the mean over sequences of `crfNllPerSequence`. */
export function crfLoss(emissions: Value, labels: Value, crf: CrfValues, maxLength: number): Value {
  return reduceMean(crfNllPerSequence(emissions, labels, crf, maxLength));
}
