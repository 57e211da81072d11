/**
 * Op helpers that read like the math: `add(matMul(x, w), b)`. Each takes values of one graph (plain
 * numbers become scalar constants of the other operand's dtype) and returns typed values.
 * @module
 */
import { type Attrs, type Dim, float, type Graph, type OpOptions, Value } from "./graph.ts";
import { type DType, onnxType, tensor } from "./tensor.ts";

/** A value, or a number to turn into a scalar constant. */
export type Operand = Value | number;

function graphOf(...xs: Operand[]): Graph {
  for (const x of xs) if (x instanceof Value) return x.graph;
  throw new Error("op helper: at least one operand must be a graph value");
}

function dtypeOfOperands(...xs: Operand[]): DType {
  for (const x of xs) if (x instanceof Value) return x.dtype;
  return "float32";
}

/** A scalar constant in graph `g`. */
export function scalar(g: Graph, value: number, dtype: DType = "float32"): Value {
  return g.constant(tensor(dtype, [], [value]));
}

/** A 1-D int64 constant (shapes, axes, indices). */
export function ints(g: Graph, values: number[]): Value {
  return g.constant(tensor("int64", [values.length], values));
}

function lift(g: Graph, x: Operand, dtype: DType): Value {
  return x instanceof Value ? x : scalar(g, x, dtype);
}

/** Explicit output type for ops whose result shape the shape rule cannot know (sizes read at run time). */
function typed(dtype: DType, dims: Dim[] | undefined): OpOptions {
  return dims ? { types: [{ dtype, shape: [...dims] }] } : {};
}

/** Axes as given, or as a constant. */
function axesValue(g: Graph, axes: number[] | Value): Value {
  return axes instanceof Value ? axes : ints(g, axes);
}

function unary(op: string, attrs: Attrs = {}) {
  return (x: Value): Value => x.graph.op(op, [x], attrs)[0];
}

function binary(op: string) {
  return (a: Operand, b: Operand): Value => {
    const g = graphOf(a, b);
    const dtype = dtypeOfOperands(a, b);
    return g.op(op, [lift(g, a, dtype), lift(g, b, dtype)])[0];
  };
}

/** a + b (broadcasting). */
export const add: (a: Operand, b: Operand) => Value = binary("Add");
/** a - b (broadcasting). */
export const sub: (a: Operand, b: Operand) => Value = binary("Sub");
/** a * b (broadcasting). */
export const mul: (a: Operand, b: Operand) => Value = binary("Mul");
/** a / b (broadcasting). */
export const div: (a: Operand, b: Operand) => Value = binary("Div");
/** a ** b (broadcasting). */
export const pow: (a: Operand, b: Operand) => Value = binary("Pow");
/** Elementwise maximum. */
export const max: (a: Operand, b: Operand) => Value = binary("Max");
/** Elementwise minimum. */
export const min: (a: Operand, b: Operand) => Value = binary("Min");
/** a == b as bool. */
export const equal: (a: Operand, b: Operand) => Value = binary("Equal");
/** a < b as bool. */
export const less: (a: Operand, b: Operand) => Value = binary("Less");
/** a > b as bool. */
export const greater: (a: Operand, b: Operand) => Value = binary("Greater");
/** Logical and. */
export const and: (a: Operand, b: Operand) => Value = binary("And");

/** -x. */
export const neg: (x: Value) => Value = unary("Neg");
/** √x. */
export const sqrt: (x: Value) => Value = unary("Sqrt");
/** eˣ. */
export const exp: (x: Value) => Value = unary("Exp");
/** ln x. */
export const log: (x: Value) => Value = unary("Log");
/** tanh x. */
export const tanh: (x: Value) => Value = unary("Tanh");
/** erf x. */
export const erf: (x: Value) => Value = unary("Erf");
/** 1 / (1 + e⁻ˣ). */
export const sigmoid: (x: Value) => Value = unary("Sigmoid");
/** max(x, 0). */
export const relu: (x: Value) => Value = unary("Relu");
/** |x|. */
export const abs: (x: Value) => Value = unary("Abs");
/** Logical not. */
export const not: (x: Value) => Value = unary("Not");
/** −1, 0 or 1 by the sign of x. */
export const sign: (x: Value) => Value = unary("Sign");
/** Copies x (also used to rename). */
export const identity: (x: Value) => Value = unary("Identity");

/** erf-form GELU, `x/2 · (1 + erf(x/√2))`, as the opset-20 `Gelu` op. */
export function gelu(x: Value): Value {
  return x.graph.op("Gelu", [x])[0];
}

/** Matrix product with numpy batching. */
export function matMul(a: Value, b: Value): Value {
  return a.graph.op("MatMul", [a, b])[0];
}

/** `alpha · A' · B'` of 2-D `a` and `b`, each transposed first when its flag says so. */
export function gemm(
  a: Value,
  b: Value,
  o: { alpha?: number; transA?: boolean; transB?: boolean } = {},
): Value {
  const attrs = { alpha: float(o.alpha ?? 1), transA: o.transA ? 1 : 0, transB: o.transB ? 1 : 0 };
  return a.graph.op("Gemm", [a, b], attrs)[0];
}

/** `x @ w + b` with `w` of shape (in, out), as Hugging Face `Linear` stores its transpose. */
export function linear(x: Value, w: Value, b?: Value): Value {
  const y = matMul(x, w);
  return b ? add(y, b) : y;
}

/** Softmax along `axis`. */
export function softmax(x: Value, axis = -1): Value {
  return x.graph.op("Softmax", [x], { axis })[0];
}

/** A reduction over `axes` (all when empty), keeping them as 1s when `keepdims`. */
type Reduction = (x: Value, axes?: number[], keepdims?: boolean) => Value;

function reduction(op: string): Reduction {
  return (x, axes = [], keepdims = false) => {
    const g = x.graph;
    return g.op(op, axes.length ? [x, ints(g, axes)] : [x], { keepdims: keepdims ? 1 : 0 })[0];
  };
}

/** Sum over `axes` (all when empty). */
export const reduceSum: Reduction = reduction("ReduceSum");
/** Mean over `axes` (all when empty). */
export const reduceMean: Reduction = reduction("ReduceMean");
/** Maximum over `axes` (all when empty). */
export const reduceMax: Reduction = reduction("ReduceMax");
/** Product over `axes` (all when empty). */
export const reduceProd: Reduction = reduction("ReduceProd");

/** LayerNormalization over the last axis (opset 17), returning only the normalised output. */
export function layerNorm(x: Value, scale: Value, bias: Value, epsilon = 1e-12): Value {
  return x.graph.op("LayerNormalization", [x, scale, bias], { axis: -1, epsilon: float(epsilon) }, {
    outputs: 1,
  })[0];
}

/**
 * LayerNormalization over the axes from `axis` on, without bias, returning its three outputs: the
 * normalised values and the statistics `Mean` and `InvStdDev` (float32 unless the stash type says otherwise).
 */
export function layerNormStats(x: Value, scale: Value, axis: number, epsilon: number): Value[] {
  return x.graph.op("LayerNormalization", [x, scale], { axis, epsilon: float(epsilon) }, { outputs: 3 });
}

/** `data[indices]` along `axis` (embedding lookup). */
export function gather(data: Value, indices: Value, axis = 0): Value {
  return data.graph.op("Gather", [data, indices], { axis })[0];
}

/** `data[..., indices[...], ...]` elementwise along `axis`. */
export function gatherElements(data: Value, indices: Value, axis: number): Value {
  return data.graph.op("GatherElements", [data, indices], { axis })[0];
}

/** Reshape to a static target (0 copies a dim, -1 infers one). */
export function reshape(x: Value, shape: number[]): Value {
  return x.graph.op("Reshape", [x, ints(x.graph, shape)])[0];
}

/** Reshape to a shape computed at run time; `dims` states the result's shape where the rule cannot know it. */
export function reshapeLike(x: Value, shape: Value, dims?: Dim[]): Value {
  return x.graph.op("Reshape", [x, shape], {}, typed(x.dtype, dims))[0];
}

/** Permute dimensions. */
export function transpose(x: Value, perm: number[]): Value {
  return x.graph.op("Transpose", [x], { perm })[0];
}

/** Insert size-1 axes (numbers, or a constant value of them). */
export function unsqueeze(x: Value, axes: number[] | Value): Value {
  return x.graph.op("Unsqueeze", [x, axesValue(x.graph, axes)])[0];
}

/** Remove size-1 axes (numbers, or a constant value of them). */
export function squeeze(x: Value, axes: number[] | Value): Value {
  return x.graph.op("Squeeze", [x, axesValue(x.graph, axes)])[0];
}

/** Join along `axis`. */
export function concat(xs: Value[], axis: number): Value {
  return xs[0].graph.op("Concat", xs, { axis })[0];
}

/** Cut along `axis` into pieces of `sizes`; `shapes` states the pieces' shapes when sizes are known at run time only. */
export function split(x: Value, sizes: number[] | Value, axis: number, shapes?: Dim[][]): Value[] {
  const g = x.graph;
  const types = shapes?.map((s) => ({ dtype: x.dtype, shape: [...s] }));
  return g.op(
    "Split",
    [x, sizes instanceof Value ? sizes : ints(g, sizes)],
    { axis },
    types ? { types } : {},
  );
}

/** `x[starts:ends:steps]` on `axes`. */
export function slice(x: Value, starts: number[], ends: number[], axes?: number[], steps?: number[]): Value {
  const g = x.graph;
  const inputs = [x, ints(g, starts), ints(g, ends)];
  if (axes) inputs.push(ints(g, axes));
  if (steps) inputs.push(ints(g, steps));
  return g.op("Slice", inputs)[0];
}

/** Broadcast to a static shape. */
export function expand(x: Value, shape: number[]): Value {
  return x.graph.op("Expand", [x, ints(x.graph, shape)])[0];
}

/** Broadcast to a run-time shape; `dims` states the result's shape where the rule cannot know it. */
export function expandLike(x: Value, shape: Value, dims?: Dim[]): Value {
  return x.graph.op("Expand", [x, shape], {}, typed(x.dtype, dims))[0];
}

/** Zero padding: `pads` holds every axis's count before, then every axis's count after. */
export function pad(x: Value, pads: number[], dims?: Dim[]): Value {
  return x.graph.op("Pad", [x, ints(x.graph, pads)], { mode: "constant" }, typed(x.dtype, dims))[0];
}

/** Run-time shape of x (int64), or of its axes `start` to `end` − 1. */
export function shapeOf(x: Value, start?: number, end?: number): Value {
  const attrs: Attrs = {};
  if (start !== undefined) attrs.start = start;
  if (end !== undefined) attrs.end = end;
  return x.graph.op("Shape", [x], attrs)[0];
}

/** A tensor of the run-time `shape` filled with `value`; `dims` states its shape where the rule cannot know it. */
export function constantOfShape(shape: Value, value: number, dtype: DType = "float32", dims?: Dim[]): Value {
  return shape.graph.op(
    "ConstantOfShape",
    [shape],
    { value: tensor(dtype, [1], [value]) },
    typed(dtype, dims),
  )[0];
}

/** `data` with `updates` written (or, with a reduction, added) at `indices` along `axis`. */
export function scatterElements(
  data: Value,
  indices: Value,
  updates: Value,
  axis: number,
  reduction?: "add" | "mul" | "max" | "min",
): Value {
  const attrs: Attrs = reduction ? { axis, reduction } : { axis };
  return data.graph.op("ScatterElements", [data, indices, updates], attrs)[0];
}

/** `cond ? a : b` (broadcasting). */
export function where(cond: Value, a: Operand, b: Operand): Value {
  const g = cond.graph;
  const dtype = dtypeOfOperands(a, b);
  return g.op("Where", [cond, lift(g, a, dtype), lift(g, b, dtype)])[0];
}

/** Convert element type. */
export function cast(x: Value, to: DType): Value {
  if (x.dtype === to) return x;
  return x.graph.op("Cast", [x], { to: onnxType(to) })[0];
}
