/**
 * THE table of gradient rules: one entry per ONNX op, each returning one gradient per input (`undefined`
 * for inputs that take none or were not asked for), written with the op helpers of `ops.ts` that the
 * forward pass uses, so in standard ONNX ops only and the training graphs run on any execution provider.
 * Broadcasting is undone in one place, `unbroadcast`. Rules reuse forward values (softmax/sigmoid/tanh/exp
 * outputs) rather than recomputing them.
 * @module
 */
import { attrNumber, type Dim, type Graph, type Node, Value } from "./graph.ts";
import {
  add,
  cast,
  concat,
  constantOfShape,
  div,
  equal,
  erf,
  exp,
  expandLike,
  gather,
  gemm,
  greater,
  ints,
  layerNormStats,
  log,
  matMul,
  mul,
  neg,
  pad,
  pow,
  reduceMean,
  reduceProd,
  reduceSum,
  reshape,
  reshapeLike,
  scalar,
  scatterElements,
  shapeOf,
  sign,
  slice,
  split,
  sqrt,
  squeeze,
  sub,
  tanh,
  transpose,
  unsqueeze,
  where,
} from "./ops.ts";
import { constInts } from "./shapes.ts";
import { type DType, tensor } from "./tensor.ts";

/** What a gradient rule sees: the node, its input and output values, and the gradients of its outputs. */
export interface GradContext {
  g: Graph;
  node: Node;
  /** Input values (undefined for omitted optional inputs). */
  inputs: (Value | undefined)[];
  outputs: Value[];
  /** Gradient of the loss w.r.t. each output; undefined where that output does not reach the loss. */
  grads: (Value | undefined)[];
  /** Which inputs need a gradient (float and depending on a trainable parameter). */
  needs: boolean[];
  /** Values one rule builds and another rule of the same backward pass reuses, by key. */
  memo: Map<string, Value[]>;
  /** The first input. */
  readonly x: Value;
  /** The first output. */
  readonly y: Value;
  /** The gradient of the first output; reading it throws, naming the op, when only other outputs have one. */
  readonly dy: Value;
}

/** A gradient rule: one gradient per input, or undefined. */
export type GradRule = (c: GradContext) => (Value | undefined)[];

/** The context of one node's rule (`x`, `y` and `dy` read the first input, output and output gradient). */
export function gradContext(c: Omit<GradContext, "x" | "y" | "dy">): GradContext {
  return {
    ...c,
    get x() {
      return c.inputs[0]!;
    },
    get y() {
      return c.outputs[0];
    },
    get dy() {
      const dy = c.grads[0];
      if (!dy) throw new Error(`${c.node.opType}: the rule needs the gradient of output 0, which has none`);
      return dy;
    },
  };
}

/** The number of elements of a static shape. */
const count = (dims: number[]): number => dims.reduce((p, q) => p * q, 1);

const isFloat = (d: DType): boolean => d === "float32" || d === "float64" || d === "float16";

/** Sums `grad` back to `shape` over the axes broadcasting expanded (leading axes, and 1s against other sizes). */
export function unbroadcast(grad: Value, shape: Dim[]): Value {
  const k = grad.rank - shape.length;
  if (k < 0) throw new Error(`unbroadcast: gradient ${grad} has lower rank than [${shape.join(", ")}]`);
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < k) axes.push(i);
    // Static shapes decide: a 1 against anything but 1 was broadcast; equal symbols are the same size.
    else if (shape[i - k] === 1 && grad.shape[i] !== 1) axes.push(i);
  }
  if (!axes.length) return grad;
  const c = grad.shape[grad.rank - 1];
  if (
    grad.rank >= 2 && axes.length === grad.rank - 1 && typeof c === "number" && shape[shape.length - 1] === c
  ) return sumRows(grad, c, shape as number[]);
  const summed = reduceSum(grad, axes, true);
  return k === 0 ? summed : squeeze(summed, axes.slice(0, k));
}

/**
 * Σ over every axis but the last (bias and LayerNorm-scale gradients), reshaped to `shape` (static: 1s and
 * the last size `c`): one (1, N)·(N, c) MatMul with a row of ones rather than a ReduceSum, which ONNX
 * Runtime's CPU kernel runs many times slower on these shapes (figures: docs/benchmarks.md, "Measurements
 * behind the code").
 */
function sumRows(grad: Value, c: number, shape: number[]): Value {
  const g = grad.graph;
  const rows = grad.shape.slice(0, -1).every((d) => typeof d === "number")
    ? count(grad.shape.slice(0, -1) as number[])
    : g.fresh("rows");
  const flat = reshapeLike(grad, ints(g, [-1, c]), [rows, c]);
  const ones = constantOfShape(concat([ints(g, [1]), shapeOf(flat, 0, 1)], 0), 1, grad.dtype, [1, rows]);
  return reshapeLike(matMul(ones, flat), ints(g, shape), shape);
}

/** The run-time shape of `x` as a constant when static, else a `Shape` node. */
function shapeValue(x: Value): Value {
  if (x.shape.every((d) => typeof d === "number")) return ints(x.graph, x.shape as number[]);
  return shapeOf(x);
}

/** Reshape `y` to the (possibly symbolic) shape of `like`, keeping `like`'s static type. */
const reshapeTo = (y: Value, like: Value): Value => reshapeLike(y, shapeValue(like), like.shape);

/** Broadcast `y` to the shape of `like` (for ReduceSum/ReduceMean gradients). */
const expandTo = (y: Value, like: Value): Value => expandLike(y, shapeValue(like), like.shape);

/** Zeros of `like`'s shape and dtype (`ConstantOfShape`, so no table-sized constant lands in the file). */
export function zerosLike(like: Value, shape: Value = shapeValue(like), dims: Dim[] = like.shape): Value {
  return constantOfShape(shape, 0, like.dtype, dims);
}

/** Swap the last two axes. */
function mT(x: Value): Value {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

/** An axis attribute or input made non-negative for rank `rank`. */
const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The node's `axis` attribute (default `fallback`). */
const axisOf = (c: GradContext, fallback: number): number => Number(c.node.attrs.axis ?? fallback);

/** Normalised, sorted reduction axes of a Reduce* node (input 1 or the `axes` attribute; empty = all). */
function reduceAxes(c: GradContext): number[] | undefined {
  let axes = c.inputs[1] ? constInts(c.g, c.inputs[1]) : (c.node.attrs.axes as number[] | undefined);
  if (c.inputs[1] && !axes) throw new Error(`${c.node.opType}: gradient needs constant axes`);
  if (!axes || !axes.length) {
    if (c.node.attrs.noop_with_empty_axes === 1) return undefined;
    axes = c.x.shape.map((_, i) => i);
  }
  return axes.map((a) => normAxis(a, c.x.rank)).sort((a, b) => a - b);
}

/** The reduced output's gradient with the reduced axes restored as 1s (ready to broadcast against x). */
function keepDims(c: GradContext, dy: Value, axes: number[]): Value {
  return c.node.attrs.keepdims === 0 ? unsqueeze(dy, axes) : dy;
}

/** The number of elements a reduction averaged, as a constant or computed from run-time sizes. */
function reducedCount(x: Value, axes: number[]): Value {
  const dims = axes.map((a) => x.shape[a]);
  if (dims.every((d) => typeof d === "number")) {
    return scalar(x.graph, count(dims as number[]), x.dtype);
  }
  return cast(reduceProd(gather(shapeOf(x), ints(x.graph, axes), 0)), x.dtype);
}

/** d/dx of the tanh-approximated GELU: y = x/2·(1 + t), t = tanh(√(2/π)(x + 0.044715x³)). */
function geluTanhDerivative(x: Value): Value {
  // y' = (1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²)
  const k = Math.sqrt(2 / Math.PI);
  const x2 = mul(x, x);
  const t = tanh(mul(mul(x, add(mul(x2, 0.044715), 1)), k));
  const left = mul(add(t, 1), 0.5);
  const right = mul(mul(mul(x, 0.5), sub(1, mul(t, t))), mul(add(mul(x2, 3 * 0.044715), 1), k));
  return add(left, right);
}

/** For a Gelu input x: t = x/√2 and e1 = 1 + erf(t), built once per backward pass (Gelu and MatMul rules). */
function geluParts(c: GradContext, x: Value): { t: Value; e1: Value } {
  const key = `gelu:${x.name}`;
  let parts = c.memo.get(key);
  if (!parts) {
    const t = mul(x, Math.SQRT1_2);
    c.memo.set(key, parts = [t, add(erf(t), 1)]);
  }
  return { t: parts[0], e1: parts[1] };
}

/**
 * The erf-form Gelu derivative in as few elementwise passes as found (figures: docs/benchmarks.md,
 * "Measurements behind the code"). With t = x/√2: 2·gelu'(x) = 1 + erf(t) + (2/√π)·t·e^(−t²), and
 * (2/√π)·e^(−t²) = e^(ln(2/√π) − t²), so one Sub both negates and scales; the ½ sits on dy, where ORT folds
 * it into the producing MatMul's alpha.
 */
function geluErfGrad(c: GradContext): Value {
  const { t, e1 } = geluParts(c, c.x);
  const p = exp(sub(Math.log(2 / Math.sqrt(Math.PI)), mul(t, t)));
  return mul(mul(c.dy, 0.5), add(e1, mul(t, p)));
}

/**
 * When `a` is the output of an erf `Gelu`, gelu(x) = x·Φ(x) = √½·t·(1 + erf t) rebuilt from the parts the
 * Gelu rule needs anyway (one extra Mul; the √½ folds into the MatMul's alpha in ORT), so that the forward
 * GELU output need not be kept for the backward pass, a large share of a step's peak memory (figures:
 * docs/benchmarks.md, "Measurements behind the code"). Otherwise undefined.
 */
function geluRecomputed(c: GradContext, a: Value): Value | undefined {
  const n = c.g.nodes.find((n) => n.outputs[0] === a.name);
  if (!n || n.opType !== "Gelu" || n.domain || String(n.attrs.approximate ?? "none") !== "none") {
    return undefined;
  }
  const { t, e1 } = geluParts(c, c.g.values.get(n.inputs[0])!);
  return mul(mul(t, e1), Math.SQRT1_2);
}

/** Y = A·B (batched, broadcast) → dA = dY·Bᵀ, dB = Aᵀ·dY, each summed over broadcast batch axes. */
function matMulGrad(c: GradContext): (Value | undefined)[] {
  const [a, b] = c.inputs as Value[];
  let dy = c.dy;
  // Rank-1 operands are matrices with a 1 inserted (numpy rule); the 1 is inserted into dY too.
  const a2 = a.rank === 1 ? unsqueeze(a, [0]) : a;
  const b2 = b.rank === 1 ? unsqueeze(b, [1]) : b;
  if (a.rank === 1) dy = unsqueeze(dy, [dy.rank - (b.rank === 1 ? 0 : 1)]);
  if (b.rank === 1) dy = unsqueeze(dy, [dy.rank]);
  let da: Value | undefined, db: Value | undefined;
  if (c.needs[0]) {
    da = unbroadcast(matMul(dy, mT(b2)), a2.shape);
    if (a.rank === 1) da = squeeze(da, [0]);
  }
  if (c.needs[1]) {
    const k = a2.shape[a2.rank - 1], n = dy.shape[dy.rank - 1];
    if (b2.rank === 2 && a2.rank > 2 && typeof k === "number" && typeof n === "number") {
      // A weight shared over a batch: one (K, B·M)·(B·M, N) product instead of a batched one then a sum.
      const af = reshape(geluRecomputed(c, a2) ?? a2, [-1, k]);
      const dyf = reshape(dy, [-1, n]);
      db = matMul(transpose(af, [1, 0]), dyf);
    } else db = unbroadcast(matMul(mT(a2), dy), b2.shape);
    if (b.rank === 1) db = squeeze(db, [1]);
  }
  return [da, db];
}

/** Y = α·A'·B' + β·C (A' = Aᵀ if transA …) → dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY, dC = β·dY (unbroadcast). */
function gemmGrad(c: GradContext): (Value | undefined)[] {
  const [a, b, cc] = c.inputs;
  const dy = c.dy;
  const ta = Number(c.node.attrs.transA ?? 0) !== 0, tb = Number(c.node.attrs.transB ?? 0) !== 0;
  const alpha = attrNumber(c.node.attrs, "alpha", 1), beta = attrNumber(c.node.attrs, "beta", 1);
  const mm = (p: Value, q: Value, transA: boolean, transB: boolean) => gemm(p, q, { alpha, transA, transB });
  const da = !c.needs[0] ? undefined : ta ? mm(b!, dy, tb, true) : mm(dy, b!, false, !tb);
  const db = !c.needs[1] ? undefined : tb ? mm(dy, a!, true, ta) : mm(a!, dy, !ta, false);
  const dc = cc && c.needs[2] ? unbroadcast(beta === 1 ? dy : mul(dy, beta), cc.shape) : undefined;
  return [da, db, dc];
}

/**
 * y = (x − μ)·rstd·γ + β over axes ≥ axis → x̂ = (x − μ)·rstd, dγ = Σ dy·x̂, dβ = Σ dy,
 * dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ.
 */
function layerNormGrad(c: GradContext): (Value | undefined)[] {
  if (c.grads[1] || c.grads[2]) {
    throw new Error("LayerNormalization: no gradient rule for its Mean/InvStdDev outputs");
  }
  const [x, scale, bias] = c.inputs as [Value, Value, Value | undefined];
  const dy = c.dy;
  const a = normAxis(axisOf(c, -1), x.rank);
  const normAxes = x.shape.map((_, i) => i).filter((i) => i >= a);
  const normShape = x.shape.slice(a);
  const epsilon = attrNumber(c.node.attrs, "epsilon", 1e-5);
  // x̂ and rstd from a second normalisation with unit scale: no (y − β)/γ division, no separate statistics.
  const ones = normShape.every((d) => typeof d === "number")
    ? c.g.constant(tensor(x.dtype, normShape, new Array(count(normShape as number[])).fill(1)))
    : constantOfShape(shapeOf(x, a), 1, x.dtype, normShape);
  const [xhat, , rstd] = layerNormStats(x, ones, axisOf(c, -1), epsilon);
  let dx: Value | undefined;
  if (c.needs[0]) {
    const dxhat = mul(dy, scale);
    // ORT keeps the statistics in float32 (stash_type 1); float64 graphs recompute rstd in double.
    const r = rstd.dtype === x.dtype
      ? rstd
      : x.dtype !== "float64"
      ? cast(rstd, x.dtype)
      : rstdOf(x, normAxes, epsilon);
    const mean = (v: Value) => reduceMean(v, normAxes, true);
    dx = mul(r, sub(sub(dxhat, mean(dxhat)), mul(xhat, mean(mul(dxhat, xhat)))));
  }
  const dscale = c.needs[1] ? unbroadcast(mul(dy, xhat), scale.shape) : undefined;
  const dbias = bias && c.needs[2] ? unbroadcast(dy, bias.shape) : undefined;
  return [dx, dscale, dbias];
}

/** 1/√(var(x) + ε) over `axes`, in x's own precision. */
function rstdOf(x: Value, axes: number[], epsilon: number): Value {
  const centred = sub(x, reduceMean(x, axes, true));
  return div(1, sqrt(add(reduceMean(mul(centred, centred), axes, true), epsilon)));
}

/**
 * y = data[idx] along axis → ddata = scatter-add of dy into zeros at idx. ScatterElements, not ScatterND:
 * ORT's multi-threaded CPU ScatterND-add loses updates on repeated indices (microsoft/onnxruntime#18048);
 * ScatterElements is exact.
 */
function gatherGrad(c: GradContext): (Value | undefined)[] {
  if (!c.needs[0]) return [];
  const [data, idx] = c.inputs as Value[];
  let dy = c.dy;
  const k = normAxis(axisOf(c, 0), data.rank);
  const g = c.g;
  const r = idx.rank;
  // Move the indexed axes to the front so that rows of dy scatter onto rows of the (permuted) table.
  const dims = [data.shape[k], ...data.shape.slice(0, k), ...data.shape.slice(k + 1)];
  if (k > 0) {
    const perm = [...Array(r).keys()].map((i) => i + k);
    for (let i = 0; i < k; i++) perm.push(i);
    for (let i = k + r; i < dy.rank; i++) perm.push(i);
    dy = transpose(dy, perm);
  }
  const dataPerm = k > 0
    ? [k, ...[...Array(k).keys()], ...[...Array(data.rank).keys()].slice(k + 1)]
    : undefined;
  const shape = k === 0
    ? shapeValue(data)
    : dims.every((d) => typeof d === "number")
    ? ints(g, dims as number[])
    : gather(shapeOf(data), ints(g, dataPerm!), 0);
  const zeros = zerosLike(data, shape, dims);
  // dy as one row per index, (n, …rest); the indices as (n, 1, …, 1) broadcast to it.
  const rest = slice(shape, [1], [data.rank]);
  // One symbolic name per node: ORT takes equal names for equal sizes across the graph.
  const rows = reshapeLike(dy, concat([ints(g, [-1]), rest], 0), [g.fresh("index_rows"), ...dims.slice(1)]);
  const flatIdx = reshape(cast(idx, "int64"), [-1, ...Array(data.rank - 1).fill(1)]);
  const index = expandLike(flatIdx, shapeOf(rows), rows.shape);
  const dd = scatterElements(zeros, index, rows, 0, "add");
  return [k > 0 ? transpose(dd, dataPerm!.map((_, i) => dataPerm!.indexOf(i))) : dd];
}

/** y = concat(xᵢ) → dxᵢ = the slice of dy that xᵢ filled (one Split). */
function concatGrad(c: GradContext): (Value | undefined)[] {
  const xs = c.inputs as Value[];
  const a = normAxis(axisOf(c, 0), xs[0].rank);
  const sizes = xs.map((x) => x.shape[a]);
  const split_ = sizes.every((d) => typeof d === "number")
    ? sizes as number[]
    : concat(xs.map((x) => shapeOf(x, a, a + 1)), 0);
  return split(c.dy, split_, a, xs.map((x) => x.shape));
}

/** y = x[starts:ends] (step 1) → dx = dy padded with zeros back to x's extent. */
function sliceGrad(c: GradContext): (Value | undefined)[] {
  const [x, s, e, ax, st] = c.inputs as [Value, Value, Value, Value | undefined, Value | undefined];
  const starts = constInts(c.g, s), ends = constInts(c.g, e);
  const axes = ax ? constInts(c.g, ax) : starts?.map((_, i) => i);
  const steps = st ? constInts(c.g, st) : starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) {
    throw new Error("Slice: gradient needs constant starts, ends, axes and steps");
  }
  const pads = new Array(2 * x.rank).fill(0);
  axes.forEach((ax0, i) => {
    const a = normAxis(ax0, x.rank);
    const d = x.shape[a];
    if (steps[i] !== 1) {
      throw new Error(`Slice: gradient supports step 1 only, got step ${steps[i]} on axis ${a}`);
    }
    const big = ends[i] >= 2 ** 31 - 1;
    if (typeof d !== "number") {
      if (starts[i] < 0 || !big) {
        throw new Error(`Slice: gradient on symbolic axis ${a} of ${x} needs start ≥ 0 and end = ∞`);
      }
      pads[a] = starts[i];
      return;
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const b = clamp(starts[i]), en = Math.max(b, clamp(ends[i]));
    pads[a] = b;
    pads[x.rank + a] = d - en;
  });
  return [pad(c.dy, pads, x.shape)];
}

/** Binary elementwise rule from the two partial derivatives (each unbroadcast to its input). */
function binaryRule(
  da: (dy: Value, a: Value, b: Value, y: Value) => Value,
  db: (dy: Value, a: Value, b: Value, y: Value) => Value,
): GradRule {
  return (c) => {
    const [a, b] = c.inputs as Value[];
    return [
      c.needs[0] ? unbroadcast(da(c.dy, a, b, c.y), a.shape) : undefined,
      c.needs[1] ? unbroadcast(db(c.dy, a, b, c.y), b.shape) : undefined,
    ];
  };
}

/** y = aᵇ → da = dy·b·aᵇ⁻¹ (b in a's type). */
function powBaseGrad(dy: Value, a: Value, b: Value): Value {
  const bb = cast(b, a.dtype);
  return mul(dy, mul(bb, pow(a, sub(bb, 1))));
}

/** Ops whose output is piecewise constant in their inputs: no gradient flows (not an error). */
const zeroGradient: GradRule = () => [];

/** The gradient table, one entry per op (the math in the comment, the rule in ops.ts helpers). */
export const GRADIENTS: Record<string, GradRule> = {
  // y = x
  Identity: (c) => [c.dy],
  // y = −x → dx = −dy
  Neg: (c) => [neg(c.dy)],
  // y = a + b → da = dy, db = dy (each summed over its broadcast axes)
  Add: binaryRule((dy) => dy, (dy) => dy),
  // y = a − b → da = dy, db = −dy
  Sub: binaryRule((dy) => dy, (dy) => neg(dy)),
  // y = a·b → da = dy·b, db = dy·a
  Mul: binaryRule((dy, _a, b) => mul(dy, b), (dy, a) => mul(dy, a)),
  // y = a/b → da = dy/b, db = −dy·a/b² = −dy·y/b
  Div: binaryRule((dy, _a, b) => div(dy, b), (dy, _a, b, y) => neg(div(mul(dy, y), b))),
  // y = aᵇ → da = dy·b·aᵇ⁻¹, db = dy·y·ln a
  Pow: binaryRule(powBaseGrad, (dy, a, _b, y) => mul(dy, mul(y, log(a)))),
  // y = Σ xᵢ → dxᵢ = dy
  Sum: (c) => c.inputs.map((x, i) => (c.needs[i] ? unbroadcast(c.dy, x!.shape) : undefined)),
  // y = √x → dx = dy/(2y)
  Sqrt: (c) => [div(mul(c.dy, 0.5), c.y)],
  // y = eˣ → dx = dy·y
  Exp: (c) => [mul(c.dy, c.y)],
  // y = ln x → dx = dy/x
  Log: (c) => [div(c.dy, c.x)],
  // y = 1/x → dx = −dy·y²
  Reciprocal: (c) => [neg(mul(c.dy, mul(c.y, c.y)))],
  // y = tanh x → dx = dy·(1 − y²)
  Tanh: (c) => [mul(c.dy, sub(1, mul(c.y, c.y)))],
  // y = σ(x) → dx = dy·y·(1 − y)
  Sigmoid: (c) => [mul(c.dy, mul(c.y, sub(1, c.y)))],
  // y = erf x → dx = dy·(2/√π)·e^(−x²)
  Erf: (c) => [mul(c.dy, mul(exp(neg(mul(c.x, c.x))), 2 / Math.sqrt(Math.PI)))],
  // y = x·Φ(x) → dx = dy·(Φ(x) + x·φ(x)); the tanh approximation's derivative when `approximate="tanh"`
  Gelu: (c) => [c.node.attrs.approximate === "tanh" ? mul(c.dy, geluTanhDerivative(c.x)) : geluErfGrad(c)],
  // y = max(x, 0) → dx = dy where x > 0
  Relu: (c) => [where(greater(c.x, 0), c.dy, 0)],
  // y = |x| → dx = dy·sign(x)
  Abs: (c) => [mul(c.dy, sign(c.x))],
  // y = softmax(x) → dx = y·(dy − Σ dy·y) along the axis (reuses the forward y)
  Softmax: (c) => [mul(c.y, sub(c.dy, reduceSum(mul(c.dy, c.y), [axisOf(c, -1)], true)))],
  // y = log softmax(x) → dx = dy − eʸ·Σ dy
  LogSoftmax: (c) => [sub(c.dy, mul(exp(c.y), reduceSum(c.dy, [axisOf(c, -1)], true)))],
  MatMul: matMulGrad,
  Gemm: gemmGrad,
  // y = Σ over axes → dx = dy broadcast back
  ReduceSum: (c) => {
    const axes = reduceAxes(c);
    return [axes ? expandTo(keepDims(c, c.dy, axes), c.x) : c.dy];
  },
  // y = mean over axes → dx = dy/n broadcast back
  ReduceMean: (c) => {
    const axes = reduceAxes(c);
    return [axes ? expandTo(div(keepDims(c, c.dy, axes), reducedCount(c.x, axes)), c.x) : c.dy];
  },
  // y = max over axes → dx = dy at the maxima, shared equally between ties
  ReduceMax: (c) => {
    const axes = reduceAxes(c);
    if (!axes) return [c.dy];
    const hit = cast(equal(c.x, keepDims(c, c.y, axes)), c.x.dtype);
    return [mul(div(hit, reduceSum(hit, axes, true)), keepDims(c, c.dy, axes))];
  },
  LayerNormalization: layerNormGrad,
  Gather: gatherGrad,
  // y = data[…idx…] elementwise along axis → ddata = ScatterElements-add of dy into zeros
  GatherElements: (c) => {
    if (!c.needs[0]) return [];
    return [scatterElements(zerosLike(c.x), c.inputs[1]!, c.dy, axisOf(c, 0), "add")];
  },
  // Pure data movement: the gradient moves back the same way.
  Reshape: (c) => [reshapeTo(c.dy, c.x)],
  Flatten: (c) => [reshapeTo(c.dy, c.x)],
  // y = transpose(x, p) → dx = transpose(dy, p⁻¹)
  Transpose: (c) => {
    const perm = (c.node.attrs.perm as number[] | undefined) ?? c.x.shape.map((_, i) => c.x.rank - 1 - i);
    return [transpose(c.dy, perm.map((_, i) => perm.indexOf(i)))];
  },
  Unsqueeze: (c) => [squeeze(c.dy, c.inputs[1]!)],
  Squeeze: (c) => [c.inputs[1] ? unsqueeze(c.dy, c.inputs[1]) : reshapeTo(c.dy, c.x)],
  Concat: concatGrad,
  // y = split(x) → dx = concat(dyᵢ), zeros for outputs that do not reach the loss
  Split: (c) => [concat(c.outputs.map((o, i) => c.grads[i] ?? zerosLike(o)), axisOf(c, 0))],
  Slice: sliceGrad,
  // y = expand(x) → dx = dy summed over the expanded axes
  Expand: (c) => [unbroadcast(c.dy, c.x.shape)],
  // y = c ? a : b → da = c ? dy : 0, db = c ? 0 : dy
  Where: (c) => {
    const [cond, a, b] = c.inputs as Value[];
    return [
      undefined,
      c.needs[1] ? unbroadcast(where(cond, c.dy, 0), a.shape) : undefined,
      c.needs[2] ? unbroadcast(where(cond, 0, c.dy), b.shape) : undefined,
    ];
  },
  // y = cast(x) → dx = cast(dy) back to x's type (floats only)
  Cast: (c) => [isFloat(c.x.dtype) ? cast(c.dy, c.x.dtype) : undefined],
  // Piecewise constant: zero gradient almost everywhere.
  Floor: zeroGradient,
  Ceil: zeroGradient,
  Round: zeroGradient,
  Sign: zeroGradient,
};

/** Whether a value's type can carry a gradient. */
export function differentiable(v: Value): boolean {
  return v instanceof Value && isFloat(v.dtype);
}
