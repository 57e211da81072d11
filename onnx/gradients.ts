/**
 * THE table of gradient rules: one entry per ONNX op, each returning one gradient per input (`undefined`
 * for inputs that take none or were not asked for). Every rule is written in standard ONNX ops only, so
 * the training graphs run on any execution provider. Broadcasting is undone in one place, `unbroadcast`.
 * Rules reuse forward values (softmax/sigmoid/tanh/exp outputs) rather than recomputing them.
 * @module
 */
import { attrNumber, type Dim, float, type Graph, type Node, Value } from "./graph.ts";
import {
  add,
  cast,
  div,
  equal,
  erf,
  exp,
  ints,
  log,
  matMul,
  mul,
  neg,
  reduceMean,
  reduceSum,
  reshape,
  scalar,
  sub,
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
}

/** A gradient rule: one gradient per input, or undefined. */
export type GradRule = (c: GradContext) => (Value | undefined)[];

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
  if (k === 0) return summed;
  return grad.graph.op("Squeeze", [summed, ints(grad.graph, axes.slice(0, k))])[0];
}

/**
 * Σ over every axis but the last (bias and LayerNorm-scale gradients), reshaped to `shape` (static: 1s and
 * the last size `c`): one (1, N)·(N, c) MatMul with a row of ones rather than a ReduceSum, which ONNX
 * Runtime's CPU kernel runs up to ~10× slower on these shapes (issue 9: 28 ms vs 2 ms for N = 4096, c = 1024).
 */
function sumRows(grad: Value, c: number, shape: number[]): Value {
  const g = grad.graph;
  const rows = grad.shape.slice(0, -1).every((d) => typeof d === "number")
    ? (grad.shape.slice(0, -1) as number[]).reduce((p, q) => p * q, 1)
    : g.fresh("rows");
  const flat =
    g.op("Reshape", [grad, ints(g, [-1, c])], {}, { types: [{ dtype: grad.dtype, shape: [rows, c] }] })[0];
  const ones = g.op(
    "ConstantOfShape",
    [
      g.op("Concat", [ints(g, [1]), g.op("Shape", [flat], { start: 0, end: 1 })[0]], { axis: 0 })[0],
    ],
    { value: tensor(grad.dtype, [1], [1]) },
    { types: [{ dtype: grad.dtype, shape: [1, rows] }] },
  )[0];
  return g.op("Reshape", [matMul(ones, flat), ints(g, shape)], {}, {
    types: [{ dtype: grad.dtype, shape: [...shape] }],
  })[0];
}

/** The run-time shape of `x` as a constant when static, else a `Shape` node. */
function shapeValue(x: Value): Value {
  if (x.shape.every((d) => typeof d === "number")) return ints(x.graph, x.shape as number[]);
  return x.graph.op("Shape", [x])[0];
}

/** Reshape `y` to the (possibly symbolic) shape of `like`, keeping `like`'s static type. */
function reshapeTo(y: Value, like: Value): Value {
  return y.graph.op("Reshape", [y, shapeValue(like)], {}, {
    types: [{ dtype: y.dtype, shape: [...like.shape] }],
  })[0];
}

/** Zeros of `like`'s shape and dtype (`ConstantOfShape`, so no table-sized constant lands in the file). */
export function zerosLike(like: Value, shape: Value = shapeValue(like), dims: Dim[] = like.shape): Value {
  return like.graph.op("ConstantOfShape", [shape], { value: tensor(like.dtype, [1], [0]) }, {
    types: [{ dtype: like.dtype, shape: [...dims] }],
  })[0];
}

/** Swap the last two axes. */
function mT(x: Value): Value {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

/** Normalised, sorted reduction axes of a Reduce* node (input 1 or the `axes` attribute; empty = all). */
function reduceAxes(c: GradContext): number[] | undefined {
  const x = c.inputs[0]!;
  let axes = c.inputs[1] ? constInts(c.g, c.inputs[1]) : (c.node.attrs.axes as number[] | undefined);
  if (c.inputs[1] && !axes) throw new Error(`${c.node.opType}: gradient needs constant axes`);
  if (!axes || !axes.length) {
    if (c.node.attrs.noop_with_empty_axes === 1) return undefined;
    axes = x.shape.map((_, i) => i);
  }
  return axes.map((a) => (a < 0 ? a + x.rank : a)).sort((a, b) => a - b);
}

/** The reduced output's gradient with the reduced axes restored as 1s (ready to broadcast against x). */
function keepDims(c: GradContext, dy: Value, axes: number[]): Value {
  return c.node.attrs.keepdims === 0 ? unsqueeze(dy, axes) : dy;
}

/** The number of elements a reduction averaged, as a constant or computed from run-time sizes. */
function reducedCount(x: Value, axes: number[]): Value {
  const dims = axes.map((a) => x.shape[a]);
  if (dims.every((d) => typeof d === "number")) {
    return scalar(
      x.graph,
      (dims as number[]).reduce((p, q) => p * q, 1),
      x.dtype,
    );
  }
  const g = x.graph;
  const shape = g.op("Shape", [x])[0];
  const picked = g.op("Gather", [shape, ints(g, axes)], { axis: 0 })[0];
  return cast(g.op("ReduceProd", [picked], { keepdims: 0 })[0], x.dtype);
}

/** Broadcast `y` to the shape of `like` (for ReduceSum/ReduceMean gradients). */
function expandTo(y: Value, like: Value): Value {
  return y.graph.op("Expand", [y, shapeValue(like)], {}, {
    types: [{ dtype: y.dtype, shape: [...like.shape] }],
  })[0];
}

/** The Gelu derivative d/dx [x·Φ(x)] = Φ(x) + x·φ(x) (erf form) or that of the tanh approximation. */
function geluDerivative(x: Value, approximate: string): Value {
  const g = x.graph;
  if (approximate === "tanh") {
    // y = x/2·(1 + tanh u), u = √(2/π)(x + 0.044715x³); y' = (1 + t)/2 + x/2·(1 − t²)·√(2/π)(1 + 3·0.044715x²)
    const k = Math.sqrt(2 / Math.PI);
    const x2 = mul(x, x);
    const t = g.op("Tanh", [mul(mul(x, add(mul(x2, 0.044715), 1)), k)])[0];
    const left = mul(add(t, 1), 0.5);
    const right = mul(mul(mul(x, 0.5), sub(1, mul(t, t))), mul(add(mul(x2, 3 * 0.044715), 1), k));
    return add(left, right);
  }
  // Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^(−x²/2)/√(2π)
  const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
  const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return add(cdf, mul(x, pdf));
}

/** Per graph and Gelu input x: t = x/√2 and e1 = 1 + erf(t), built once, shared by the Gelu rule and `geluRecomputed`. */
const geluCache = new WeakMap<Graph, Map<string, { t: Value; e1: Value }>>();
function geluParts(x: Value): { t: Value; e1: Value } {
  let m = geluCache.get(x.graph);
  if (!m) geluCache.set(x.graph, m = new Map());
  let p = m.get(x.name);
  if (!p) {
    const t = mul(x, Math.SQRT1_2);
    m.set(x.name, p = { t, e1: add(erf(t), 1) });
  }
  return p;
}

/**
 * When `a` is the output of an erf `Gelu`, gelu(x) = x·Φ(x) = √½·t·(1 + erf t) rebuilt from the parts the
 * Gelu rule needs anyway (one extra Mul; the √½ folds into the MatMul's alpha in ORT), so that the forward
 * GELU output (B·T×FFN floats per layer, 16 MiB at 32×128 in ELECTRA-small) need not be kept for the
 * backward pass (issue 9: −190 MiB peak for a 12-layer fine-tuning step). Otherwise undefined.
 */
function geluRecomputed(g: Graph, a: Value): Value | undefined {
  const n = g.nodes.find((n) => n.outputs[0] === a.name);
  if (!n || n.opType !== "Gelu" || n.domain || String(n.attrs.approximate ?? "none") !== "none") {
    return undefined;
  }
  const { t, e1 } = geluParts(g.values.get(n.inputs[0])!);
  return mul(mul(t, e1), Math.SQRT1_2);
}

/** 1/√(var(x) + ε) over `axes`, in x's own precision. */
function rstdOf(x: Value, axes: number[], epsilon: number): Value {
  const centred = sub(x, reduceMean(x, axes, true));
  return div(1, sqrtOf(add(reduceMean(mul(centred, centred), axes, true), epsilon)));
}

const sqrtOf = (x: Value): Value => x.graph.op("Sqrt", [x])[0];

/** Binary elementwise rule from the two partial derivatives (each unbroadcast to its input). */
function binaryRule(
  da: (c: GradContext, dy: Value) => Value,
  db: (c: GradContext, dy: Value) => Value,
): GradRule {
  return (c) => {
    const dy = c.grads[0]!;
    const [a, b] = c.inputs as Value[];
    return [
      c.needs[0] ? unbroadcast(da(c, dy), a.shape) : undefined,
      c.needs[1] ? unbroadcast(db(c, dy), b.shape) : undefined,
    ];
  };
}

/** Ops whose output is piecewise constant in their inputs: no gradient flows (not an error). */
const zeroGradient: GradRule = () => [];

/** The gradient table, one entry per op. */
export const GRADIENTS: Record<string, GradRule> = {
  // y = x
  Identity: (c) => [c.grads[0]],
  // y = −x → dx = −dy
  Neg: (c) => [neg(c.grads[0]!)],
  // y = a + b → da = dy, db = dy (each summed over its broadcast axes)
  Add: binaryRule((_, dy) => dy, (_, dy) => dy),
  // y = a − b → da = dy, db = −dy
  Sub: binaryRule((_, dy) => dy, (_, dy) => neg(dy)),
  // y = a·b → da = dy·b, db = dy·a
  Mul: binaryRule((c, dy) => mul(dy, c.inputs[1]!), (c, dy) => mul(dy, c.inputs[0]!)),
  // y = a/b → da = dy/b, db = −dy·a/b² = −dy·y/b
  Div: binaryRule((c, dy) => div(dy, c.inputs[1]!), (c, dy) => neg(div(mul(dy, c.outputs[0]), c.inputs[1]!))),
  // y = aᵇ → da = dy·b·aᵇ⁻¹, db = dy·y·ln a
  Pow: binaryRule(
    (c, dy) => {
      const [a, b] = c.inputs as Value[];
      const bb = b.dtype === a.dtype ? b : cast(b, a.dtype);
      return mul(dy, mul(bb, c.g.op("Pow", [a, sub(bb, 1)])[0]));
    },
    (c, dy) => mul(dy, mul(c.outputs[0], log(c.inputs[0]!))),
  ),
  // y = Σ xᵢ → dxᵢ = dy
  Sum: (c) => c.inputs.map((x, i) => (c.needs[i] ? unbroadcast(c.grads[0]!, x!.shape) : undefined)),
  // y = √x → dx = dy/(2y)
  Sqrt: (c) => [div(mul(c.grads[0]!, 0.5), c.outputs[0])],
  // y = eˣ → dx = dy·y
  Exp: (c) => [mul(c.grads[0]!, c.outputs[0])],
  // y = ln x → dx = dy/x
  Log: (c) => [div(c.grads[0]!, c.inputs[0]!)],
  // y = 1/x → dx = −dy·y²
  Reciprocal: (c) => [neg(mul(c.grads[0]!, mul(c.outputs[0], c.outputs[0])))],
  // y = tanh x → dx = dy·(1 − y²)
  Tanh: (c) => [mul(c.grads[0]!, sub(1, mul(c.outputs[0], c.outputs[0])))],
  // y = σ(x) → dx = dy·y·(1 − y)
  Sigmoid: (c) => [mul(c.grads[0]!, mul(c.outputs[0], sub(1, c.outputs[0])))],
  // y = erf x → dx = dy·(2/√π)·e^(−x²)
  Erf: (c) => {
    const x = c.inputs[0]!;
    return [mul(c.grads[0]!, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  // y = x·Φ(x) → dx = dy·(Φ(x) + x·φ(x)); tanh approximation when `approximate="tanh"`
  Gelu: (c) => {
    const approximate = String(c.node.attrs.approximate ?? "none");
    if (approximate === "tanh") return [mul(c.grads[0]!, geluDerivative(c.inputs[0]!, approximate))];
    // Erf form in 9 elementwise passes instead of 11 (issue 9: ~6% of a train step went to this rule). With
    // t = x/√2: 2·gelu'(x) = 1 + erf(t) + (2/√π)·t·e^(−t²), and (2/√π)·e^(−t²) = e^(ln(2/√π) − t²), so one
    // Sub both negates and scales; the ½ sits on dy, where ORT folds it into the producing MatMul's alpha.
    // (A 3-input Sum with the 1 broadcast measured slower than two Adds.)
    const { t, e1 } = geluParts(c.inputs[0]!);
    const p = exp(sub(Math.log(2 / Math.sqrt(Math.PI)), mul(t, t)));
    return [mul(mul(c.grads[0]!, 0.5), add(e1, mul(t, p)))];
  },
  // y = max(x, 0) → dx = dy where x > 0
  Relu: (
    c,
  ) => [where(c.g.op("Greater", [c.inputs[0]!, scalar(c.g, 0, c.inputs[0]!.dtype)])[0], c.grads[0]!, 0)],
  // y = |x| → dx = dy·sign(x)
  Abs: (c) => [mul(c.grads[0]!, c.g.op("Sign", [c.inputs[0]!])[0])],
  // y = softmax(x) → dx = y·(dy − Σ dy·y) along the axis (reuses the forward y)
  Softmax: (c) => {
    const y = c.outputs[0], dy = c.grads[0]!;
    const axis = Number(c.node.attrs.axis ?? -1);
    return [mul(y, sub(dy, reduceSum(mul(dy, y), [axis], true)))];
  },
  // y = log softmax(x) → dx = dy − eʸ·Σ dy
  LogSoftmax: (c) => {
    const y = c.outputs[0], dy = c.grads[0]!;
    const axis = Number(c.node.attrs.axis ?? -1);
    return [sub(dy, mul(exp(y), reduceSum(dy, [axis], true)))];
  },
  // y = A·B (batched, broadcast) → dA = dY·Bᵀ, dB = Aᵀ·dY, each summed over broadcast batch axes
  MatMul: (c) => {
    const [a, b] = c.inputs as Value[];
    let dy = c.grads[0]!;
    // Rank-1 operands are matrices with a 1 inserted (numpy rule); the 1 is inserted into dY too.
    const a2 = a.rank === 1 ? unsqueeze(a, [0]) : a;
    const b2 = b.rank === 1 ? unsqueeze(b, [1]) : b;
    if (a.rank === 1) dy = unsqueeze(dy, [dy.rank - (b.rank === 1 ? 0 : 1)]);
    if (b.rank === 1) dy = unsqueeze(dy, [dy.rank]);
    let da: Value | undefined, db: Value | undefined;
    if (c.needs[0]) {
      da = unbroadcast(matMul(dy, mT(b2)), a2.shape);
      if (a.rank === 1) da = c.g.op("Squeeze", [da, ints(c.g, [0])])[0];
    }
    if (c.needs[1]) {
      const k = a2.shape[a2.rank - 1], n = dy.shape[dy.rank - 1];
      if (b2.rank === 2 && a2.rank > 2 && typeof k === "number" && typeof n === "number") {
        // A weight shared over a batch: one (K, B·M)·(B·M, N) product instead of a batched one then a sum.
        const af = c.g.op("Reshape", [geluRecomputed(c.g, a2) ?? a2, ints(c.g, [-1, k])])[0];
        const dyf = c.g.op("Reshape", [dy, ints(c.g, [-1, n])])[0];
        db = matMul(transpose(af, [1, 0]), dyf);
      } else db = unbroadcast(matMul(mT(a2), dy), b2.shape);
      if (b.rank === 1) db = c.g.op("Squeeze", [db, ints(c.g, [1])])[0];
    }
    return [da, db];
  },
  // Y = α·A'·B' + β·C (A' = Aᵀ if transA …) → dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY, dC = β·dY (unbroadcast)
  Gemm: (c) => {
    const [a, b, cc] = c.inputs;
    const dy = c.grads[0]!;
    const ta = Number(c.node.attrs.transA ?? 0), tb = Number(c.node.attrs.transB ?? 0);
    const alpha = attrNumber(c.node.attrs, "alpha", 1), beta = attrNumber(c.node.attrs, "beta", 1);
    const gemm = (p: Value, q: Value, tp: number, tq: number) =>
      c.g.op("Gemm", [p, q], { alpha: float(alpha), transA: tp, transB: tq })[0];
    const da = !c.needs[0] ? undefined : ta ? gemm(b!, dy, tb, 1) : gemm(dy, b!, 0, 1 - tb);
    const db = !c.needs[1] ? undefined : tb ? gemm(dy, a!, 1, ta) : gemm(a!, dy, 1 - ta, 0);
    const dc = cc && c.needs[2] ? unbroadcast(beta === 1 ? dy : mul(dy, beta), cc.shape) : undefined;
    return [da, db, dc];
  },
  // y = Σ over axes → dx = dy broadcast back
  ReduceSum: (c) => {
    const axes = reduceAxes(c);
    return [axes ? expandTo(keepDims(c, c.grads[0]!, axes), c.inputs[0]!) : c.grads[0]];
  },
  // y = mean over axes → dx = dy/n broadcast back
  ReduceMean: (c) => {
    const x = c.inputs[0]!;
    const axes = reduceAxes(c);
    if (!axes) return [c.grads[0]];
    return [expandTo(div(keepDims(c, c.grads[0]!, axes), reducedCount(x, axes)), x)];
  },
  // y = max over axes → dx = dy at the maxima, shared equally between ties
  ReduceMax: (c) => {
    const x = c.inputs[0]!;
    const axes = reduceAxes(c);
    if (!axes) return [c.grads[0]];
    const hit = cast(equal(x, keepDims(c, c.outputs[0], axes)), x.dtype);
    return [mul(div(hit, reduceSum(hit, axes, true)), keepDims(c, c.grads[0]!, axes))];
  },
  // y = (x − μ)·rstd·γ + β over axes ≥ axis → x̂ = (x − μ)·rstd, dγ = Σ dy·x̂, dβ = Σ dy,
  // dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ
  LayerNormalization: (c) => {
    if (c.grads[1] || c.grads[2]) {
      throw new Error("LayerNormalization: no gradient rule for its Mean/InvStdDev outputs");
    }
    const [x, scale, bias] = c.inputs;
    const dy = c.grads[0]!;
    const axis = Number(c.node.attrs.axis ?? -1);
    const a = axis < 0 ? axis + x!.rank : axis;
    const normAxes = x!.shape.map((_, i) => i).filter((i) => i >= a);
    const normShape = x!.shape.slice(a);
    // x̂ and rstd from a second normalisation with unit scale: no (y − β)/γ division, no separate statistics.
    const ones = normShape.every((d) => typeof d === "number")
      ? c.g.constant(
        tensor(
          x!.dtype,
          normShape as number[],
          new Array(normShape.reduce((p: number, q) => p * (q as number), 1)).fill(1),
        ),
      )
      : c.g.op("ConstantOfShape", [c.g.op("Shape", [x!], { start: a })[0]], {
        value: tensor(x!.dtype, [1], [1]),
      }, {
        types: [{ dtype: x!.dtype, shape: normShape }],
      })[0];
    const epsilon = c.node.attrs.epsilon ?? float(1e-5);
    const [xhat, , rstd] = c.g.op("LayerNormalization", [x!, ones], { axis, epsilon }, { outputs: 3 });
    let dx: Value | undefined;
    if (c.needs[0]) {
      const dxhat = mul(dy, scale!);
      // ORT keeps the statistics in float32 (stash_type 1); float64 graphs recompute rstd in double.
      const r = rstd.dtype === x!.dtype
        ? rstd
        : x!.dtype !== "float64"
        ? cast(rstd, x!.dtype)
        : rstdOf(x!, normAxes, attrNumber(c.node.attrs, "epsilon", 1e-5));
      dx = mul(
        r,
        sub(
          sub(dxhat, reduceMean(dxhat, normAxes, true)),
          mul(xhat, reduceMean(mul(dxhat, xhat), normAxes, true)),
        ),
      );
    }
    const dscale = c.needs[1] ? unbroadcast(mul(dy, xhat), scale!.shape) : undefined;
    const dbias = bias && c.needs[2] ? unbroadcast(dy, bias.shape) : undefined;
    return [dx, dscale, dbias];
  },
  // y = data[idx] along axis → ddata = scatter-add of dy into zeros at idx. ScatterElements, not ScatterND:
  // ORT's CPU ScatterND with reduction "add" updates repeated indices from several threads at once and loses
  // some (measured: 8.5 % off with 2 threads, issue microsoft/onnxruntime#18048); ScatterElements is exact.
  Gather: (c) => {
    if (!c.needs[0]) return [];
    const [data, idx] = c.inputs as Value[];
    let dy = c.grads[0]!;
    const axis = Number(c.node.attrs.axis ?? 0);
    const k = axis < 0 ? axis + data.rank : axis;
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
      : g.op("Gather", [g.op("Shape", [data])[0], ints(g, dataPerm!)], { axis: 0 })[0];
    const zeros = zerosLike(data, shape, dims);
    // dy as one row per index, (n, …rest); the indices as (n, 1, …, 1) broadcast to it.
    const rest = g.op("Slice", [shape, ints(g, [1]), ints(g, [data.rank])])[0];
    const rows = g.op("Reshape", [dy, g.op("Concat", [ints(g, [-1]), rest], { axis: 0 })[0]], {}, {
      // One symbolic name per node: ORT takes equal names for equal sizes across the graph.
      types: [{ dtype: dy.dtype, shape: [g.fresh("index_rows"), ...dims.slice(1)] }],
    })[0];
    const flatIdx = reshape(idx.dtype === "int64" ? idx : cast(idx, "int64"), [
      -1,
      ...Array(data.rank - 1).fill(1),
    ]);
    const index = g.op("Expand", [flatIdx, g.op("Shape", [rows])[0]], {}, {
      types: [{ dtype: "int64", shape: rows.shape }],
    })[0];
    let dd = g.op("ScatterElements", [zeros, index, rows], { axis: 0, reduction: "add" })[0];
    if (k > 0) dd = transpose(dd, dataPerm!.map((_, i) => dataPerm!.indexOf(i)));
    return [dd];
  },
  // y = data[…idx…] elementwise along axis → ddata = ScatterElements-add of dy into zeros
  GatherElements: (c) => {
    if (!c.needs[0]) return [];
    const [data, idx] = c.inputs as Value[];
    const axis = Number(c.node.attrs.axis ?? 0);
    return [c.g.op("ScatterElements", [zerosLike(data), idx, c.grads[0]!], { axis, reduction: "add" })[0]];
  },
  // Pure data movement: the gradient moves back the same way.
  Reshape: (c) => [reshapeTo(c.grads[0]!, c.inputs[0]!)],
  Flatten: (c) => [reshapeTo(c.grads[0]!, c.inputs[0]!)],
  // y = transpose(x, p) → dx = transpose(dy, p⁻¹)
  Transpose: (c) => {
    const x = c.inputs[0]!;
    const perm = (c.node.attrs.perm as number[] | undefined) ?? x.shape.map((_, i) => x.rank - 1 - i);
    return [transpose(c.grads[0]!, perm.map((_, i) => perm.indexOf(i)))];
  },
  Unsqueeze: (c) => [c.g.op("Squeeze", [c.grads[0]!, c.inputs[1]!])[0]],
  Squeeze: (
    c,
  ) => [
    c.inputs[1] ? c.g.op("Unsqueeze", [c.grads[0]!, c.inputs[1]])[0] : reshapeTo(c.grads[0]!, c.inputs[0]!),
  ],
  // y = concat(xᵢ) → dxᵢ = the slice of dy that xᵢ filled (one Split)
  Concat: (c) => {
    const xs = c.inputs as Value[];
    const axis = Number(c.node.attrs.axis ?? 0);
    const a = axis < 0 ? axis + xs[0].rank : axis;
    const sizes = xs.map((x) => x.shape[a]);
    const split = sizes.every((d) => typeof d === "number")
      ? ints(c.g, sizes as number[])
      : c.g.op("Concat", xs.map((x) => c.g.op("Shape", [x], { start: a, end: a + 1 })[0]), { axis: 0 })[0];
    return c.g.op("Split", [c.grads[0]!, split], { axis: a }, {
      types: xs.map((x) => ({ dtype: x.dtype, shape: [...x.shape] })),
    });
  },
  // y = split(x) → dx = concat(dyᵢ), zeros for outputs that do not reach the loss
  Split: (
    c,
  ) => [
    c.g.op("Concat", c.outputs.map((o, i) => c.grads[i] ?? zerosLike(o)), {
      axis: Number(c.node.attrs.axis ?? 0),
    })[0],
  ],
  // y = x[starts:ends] (step 1) → dx = dy padded with zeros back to x's extent
  Slice: (c) => {
    const [x, s, e, ax, st] = c.inputs;
    const starts = constInts(c.g, s), ends = constInts(c.g, e);
    const axes = ax ? constInts(c.g, ax) : starts?.map((_, i) => i);
    const steps = st ? constInts(c.g, st) : starts?.map(() => 1);
    if (!starts || !ends || !axes || !steps) {
      throw new Error("Slice: gradient needs constant starts, ends, axes and steps");
    }
    const pads = new Array(2 * x!.rank).fill(0);
    axes.forEach((ax0, i) => {
      const a = ax0 < 0 ? ax0 + x!.rank : ax0;
      const d = x!.shape[a];
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
      pads[x!.rank + a] = d - en;
    });
    return [
      c.g.op("Pad", [c.grads[0]!, ints(c.g, pads)], { mode: "constant" }, {
        types: [{ dtype: x!.dtype, shape: [...x!.shape] }],
      })[0],
    ];
  },
  // y = expand(x) → dx = dy summed over the expanded axes
  Expand: (c) => [unbroadcast(c.grads[0]!, c.inputs[0]!.shape)],
  // y = c ? a : b → da = c ? dy : 0, db = c ? 0 : dy
  Where: (c) => {
    const [cond, a, b] = c.inputs as Value[];
    const dy = c.grads[0]!;
    return [
      undefined,
      c.needs[1] ? unbroadcast(where(cond, dy, 0), a.shape) : undefined,
      c.needs[2] ? unbroadcast(where(cond, 0, dy), b.shape) : undefined,
    ];
  },
  // y = cast(x) → dx = cast(dy) back to x's type (floats only)
  Cast: (c) => [isFloat(c.inputs[0]!.dtype) ? cast(c.grads[0]!, c.inputs[0]!.dtype) : undefined],
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
