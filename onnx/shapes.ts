/**
 * Output types of ONNX ops: one rule per op, each checking its inputs and failing with a message that
 * names the shapes involved. Symbolic dimensions are strings; a product of symbols is written `"a*b"`.
 * @module
 */
import type { Attrs, Dim, Graph, Value, ValueType } from "./graph.ts";
import { attrInts, attrNumber } from "./graph.ts";
import { at, type DType, dtypeOf, type Tensor } from "./tensor.ts";

type Rule = (inputs: (Value | undefined)[], attrs: Attrs, g: Graph) => ValueType[];

const fmt = (s: Dim[]) => `[${s.join(", ")}]`;

/** Numpy-style broadcast of shapes; a symbol meets 1 or itself, numbers must agree or be 1. */
export function broadcastShapes(...shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1 || d === dim) continue;
      if (dim === 1) dim = d;
      else if (typeof d === "number" && typeof dim === "number") {
        throw new Error(`cannot broadcast ${shapes.map(fmt).join(" with ")}`);
      } else if (typeof d === "number") dim = d; // a symbol that must equal the fixed size
    }
    out.push(dim);
  }
  return out;
}

function need(inputs: (Value | undefined)[], n: number, op: string): Value[] {
  for (let i = 0; i < n; i++) if (!inputs[i]) throw new Error(`${op} needs input ${i}`);
  return inputs as Value[];
}

function sameDtype(xs: Value[], op: string): DType {
  const d = xs[0].dtype;
  for (const x of xs) {
    if (x.dtype !== d) throw new Error(`${op} inputs differ in type: ${xs.map(String).join(" and ")}`);
  }
  return d;
}

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The integer values of a constant input, or undefined when it is not a constant. */
export function constInts(g: Graph, v: Value | undefined): number[] | undefined {
  if (!v) return undefined;
  const t: Tensor | undefined = g.constValue(v);
  if (!t) return undefined;
  return Array.from({ length: t.data.length }, (_, i) => at(t, i));
}

/** Splits a dimension into its numeric factor and its symbols. */
function factors(d: Dim): { n: number; syms: string[] } {
  if (typeof d === "number") return { n: d, syms: [] };
  let n = 1;
  const syms: string[] = [];
  for (const p of d.split("*")) {
    if (/^\d+$/.test(p)) n *= Number(p);
    else syms.push(p);
  }
  return { n, syms };
}

/** The product of dims as one dim (a number, a symbol, or `"a*b"`). */
export function productDim(dims: Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    const f = factors(d);
    n *= f.n;
    syms.push(...f.syms);
  }
  if (!syms.length) return n;
  syms.sort();
  return n === 1 ? syms.join("*") : [String(n), ...syms].join("*");
}

const elementwise: Rule = (inputs) => {
  const [x] = need(inputs, 1, "op");
  return [{ dtype: x.dtype, shape: [...x.shape] }];
};

const broadcasting = (out?: DType): Rule => (inputs) => {
  const xs = inputs.filter((x): x is Value => !!x);
  if (xs.length < 2 && out === undefined) throw new Error("needs two inputs");
  const dtype = sameDtype(xs, "op");
  return [{ dtype: out ?? dtype, shape: broadcastShapes(...xs.map((x) => x.shape)) }];
};

const reduce: Rule = (inputs, attrs, g) => {
  const x = need(inputs, 1, "Reduce")[0];
  const keep = attrNumber(attrs, "keepdims", 1) === 1;
  let axes = inputs[1] ? constInts(g, inputs[1]) : attrInts(attrs, "axes");
  if (inputs[1] && !axes) throw new Error("reduction axes must be a constant");
  if (!axes || axes.length === 0) {
    if (attrNumber(attrs, "noop_with_empty_axes", 0) === 1) return [{ dtype: x.dtype, shape: [...x.shape] }];
    axes = x.shape.map((_, i) => i);
  }
  const set = new Set(axes.map((a) => normAxis(a, x.rank, "Reduce")));
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!set.has(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
};

function matmulShape(a: Dim[], b: Dim[]): Dim[] {
  if (a.length === 0 || b.length === 0) throw new Error("MatMul needs inputs of rank ≥ 1");
  const aa = a.length === 1 ? [1, a[0]] : a;
  const bb = b.length === 1 ? [b[0], 1] : b;
  const k1 = aa[aa.length - 1], k2 = bb[bb.length - 2];
  if (typeof k1 === "number" && typeof k2 === "number" && k1 !== k2) {
    throw new Error(`MatMul inner dimensions differ: ${fmt(a)} × ${fmt(b)}`);
  }
  const batch = broadcastShapes(aa.slice(0, -2), bb.slice(0, -2));
  const out = [...batch, aa[aa.length - 2], bb[bb.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.pop();
  return out;
}

function reshapeShape(g: Graph, x: Value, target: number[], allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
  const unknown = out.indexOf(-1);
  if (out.filter((d) => d === -1).length > 1) throw new Error(`Reshape: more than one -1 in ${fmt(target)}`);
  const inF = factors(productDim(x.shape));
  const rest = out.filter((_, i) => i !== unknown);
  const outF = factors(productDim(rest));
  if (unknown >= 0) {
    const syms = [...inF.syms];
    for (const s of outF.syms) {
      const k = syms.indexOf(s);
      if (k < 0) return out.map((d, i) => (i === unknown ? g.freshDim("reshape") : d));
      syms.splice(k, 1);
    }
    if (inF.n % outF.n !== 0) {
      throw new Error(`Reshape: cannot reshape ${x} to ${fmt(target)}`);
    }
    out[unknown] = productDim([inF.n / outF.n, ...syms]);
  } else if (!inF.syms.length && !outF.syms.length && inF.n !== outF.n) {
    throw new Error(`Reshape: ${x} has ${inF.n} elements, ${fmt(target)} needs ${outF.n}`);
  }
  return out;
}

const RULES: Record<string, Rule> = {
  Identity: elementwise,
  Neg: elementwise,
  Abs: elementwise,
  Sqrt: elementwise,
  Exp: elementwise,
  Log: elementwise,
  Tanh: elementwise,
  Erf: elementwise,
  Sigmoid: elementwise,
  Relu: elementwise,
  Reciprocal: elementwise,
  Floor: elementwise,
  Ceil: elementwise,
  Sign: elementwise,
  Sin: elementwise,
  Cos: elementwise,
  Gelu: elementwise,
  Softmax: elementwise,
  LogSoftmax: elementwise,
  Clip: elementwise,
  CumSum: elementwise,
  Not: elementwise,
  IsNaN: (inputs) => [{ dtype: "bool", shape: [...need(inputs, 1, "IsNaN")[0].shape] }],
  IsInf: (inputs) => [{ dtype: "bool", shape: [...need(inputs, 1, "IsInf")[0].shape] }],
  Add: broadcasting(),
  Sub: broadcasting(),
  Mul: broadcasting(),
  Div: broadcasting(),
  Mod: broadcasting(),
  Max: broadcasting(),
  Min: broadcasting(),
  Sum: (
    inputs,
  ) => [{
    dtype: sameDtype(inputs as Value[], "Sum"),
    shape: broadcastShapes(...(inputs as Value[]).map((x) => x.shape)),
  }],
  Pow: (inputs) => {
    const [a, b] = need(inputs, 2, "Pow");
    return [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape) }];
  },
  Equal: broadcasting("bool"),
  Less: broadcasting("bool"),
  LessOrEqual: broadcasting("bool"),
  Greater: broadcasting("bool"),
  GreaterOrEqual: broadcasting("bool"),
  And: broadcasting("bool"),
  Or: broadcasting("bool"),
  Xor: broadcasting("bool"),
  Where: (inputs) => {
    const [c, a, b] = need(inputs, 3, "Where");
    if (c.dtype !== "bool") throw new Error(`Where condition must be bool, got ${c}`);
    return [{ dtype: sameDtype([a, b], "Where"), shape: broadcastShapes(c.shape, a.shape, b.shape) }];
  },
  Cast: (inputs, attrs) => {
    const x = need(inputs, 1, "Cast")[0];
    return [{ dtype: dtypeOf(attrNumber(attrs, "to", 0)), shape: [...x.shape] }];
  },
  MatMul: (inputs) => {
    const [a, b] = need(inputs, 2, "MatMul");
    return [{ dtype: sameDtype([a, b], "MatMul"), shape: matmulShape(a.shape, b.shape) }];
  },
  Gemm: (inputs, attrs) => {
    const [a, b] = need(inputs, 2, "Gemm");
    if (a.rank !== 2 || b.rank !== 2) throw new Error(`Gemm needs rank-2 inputs, got ${a} and ${b}`);
    const at_ = attrNumber(attrs, "transA", 0) ? [a.shape[1], a.shape[0]] : a.shape;
    const bt = attrNumber(attrs, "transB", 0) ? [b.shape[1], b.shape[0]] : b.shape;
    return [{ dtype: a.dtype, shape: matmulShape(at_, bt) }];
  },
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceProd: reduce,
  ReduceL2: reduce,
  ReduceSumSquare: reduce,
  ReduceLogSumExp: reduce,
  ArgMax: (inputs, attrs) => {
    const x = need(inputs, 1, "ArgMax")[0];
    const axis = normAxis(attrNumber(attrs, "axis", 0), x.rank, "ArgMax");
    const keep = attrNumber(attrs, "keepdims", 1) === 1;
    const shape = x.shape.flatMap((d, i) => (i !== axis ? [d] : keep ? [1] : []));
    return [{ dtype: "int64", shape }];
  },
  LayerNormalization: (inputs, attrs) => {
    const [x, scale] = need(inputs, 2, "LayerNormalization");
    const axis = normAxis(attrNumber(attrs, "axis", -1), x.rank, "LayerNormalization");
    const normShape = x.shape.slice(axis);
    broadcastShapes(normShape, scale.shape);
    if (inputs[2]) broadcastShapes(normShape, inputs[2].shape);
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    const statType = attrNumber(attrs, "stash_type", 1) === 1 ? "float32" : x.dtype;
    // ONNX Runtime 1.30 keeps Mean/InvStdDev in float32 for float64 inputs too when stash_type = 1.
    return [
      { dtype: x.dtype, shape: [...x.shape] },
      { dtype: statType as DType, shape: statShape },
      { dtype: statType as DType, shape: statShape },
    ];
  },
  Gather: (inputs, attrs) => {
    const [data, idx] = need(inputs, 2, "Gather");
    if (!idx.dtype.startsWith("int")) throw new Error(`Gather indices must be integers, got ${idx}`);
    const axis = normAxis(attrNumber(attrs, "axis", 0), data.rank, "Gather");
    return [{
      dtype: data.dtype,
      shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)],
    }];
  },
  GatherElements: (inputs, attrs) => {
    const [data, idx] = need(inputs, 2, "GatherElements");
    if (data.rank !== idx.rank) throw new Error(`GatherElements ranks differ: ${data} and ${idx}`);
    normAxis(attrNumber(attrs, "axis", 0), data.rank, "GatherElements");
    return [{ dtype: data.dtype, shape: [...idx.shape] }];
  },
  ScatterND: (inputs) => {
    const [data, idx, upd] = need(inputs, 3, "ScatterND");
    const k = idx.shape[idx.rank - 1];
    if (typeof k === "number") {
      const expected = [...idx.shape.slice(0, -1), ...data.shape.slice(k)];
      broadcastShapes(expected, upd.shape); // a cheap consistency check
      if (expected.length !== upd.rank) {
        throw new Error(`ScatterND updates ${upd} should have shape ${fmt(expected)}`);
      }
    }
    return [{ dtype: data.dtype, shape: [...data.shape] }];
  },
  ScatterElements: (inputs) => {
    const [data, idx, upd] = need(inputs, 3, "ScatterElements");
    if (idx.rank !== data.rank || upd.rank !== data.rank) {
      throw new Error(`ScatterElements ranks differ: ${data}, ${idx}, ${upd}`);
    }
    return [{ dtype: data.dtype, shape: [...data.shape] }];
  },
  Reshape: (inputs, attrs, g) => {
    const [x, s] = need(inputs, 2, "Reshape");
    const target = constInts(g, s);
    if (!target) {
      const n = s.shape[0];
      if (typeof n !== "number") throw new Error(`Reshape shape ${s} has unknown length`);
      return [{ dtype: x.dtype, shape: Array.from({ length: n }, () => g.freshDim("reshape")) }];
    }
    return [{ dtype: x.dtype, shape: reshapeShape(g, x, target, attrNumber(attrs, "allowzero", 0) === 1) }];
  },
  Flatten: (inputs, attrs) => {
    const x = need(inputs, 1, "Flatten")[0];
    const axis = attrNumber(attrs, "axis", 1);
    const a = axis < 0 ? axis + x.rank : axis;
    return [{ dtype: x.dtype, shape: [productDim(x.shape.slice(0, a)), productDim(x.shape.slice(a))] }];
  },
  Transpose: (inputs, attrs) => {
    const x = need(inputs, 1, "Transpose")[0];
    const perm = attrInts(attrs, "perm") ?? x.shape.map((_, i) => x.rank - 1 - i);
    if (perm.length !== x.rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
      throw new Error(`Transpose perm [${perm}] does not fit ${x}`);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  Unsqueeze: (inputs, _attrs, g) => {
    const [x, a] = need(inputs, 2, "Unsqueeze");
    const axes = constInts(g, a);
    if (!axes) throw new Error("Unsqueeze axes must be a constant");
    const rank = x.rank + axes.length;
    const set = new Set(axes.map((ax) => normAxis(ax, rank, "Unsqueeze")));
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape }];
  },
  Squeeze: (inputs, _attrs, g) => {
    const x = need(inputs, 1, "Squeeze")[0];
    const axes = inputs[1] ? constInts(g, inputs[1]) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    if (!axes) throw new Error("Squeeze axes must be a constant");
    const set = new Set(axes.map((ax) => normAxis(ax, x.rank, "Squeeze")));
    for (const i of set) {
      if (typeof x.shape[i] === "number" && x.shape[i] !== 1) {
        throw new Error(`Squeeze axis ${i} of ${x} is not 1`);
      }
    }
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !set.has(i)) }];
  },
  Concat: (inputs, attrs) => {
    const xs = inputs.filter((x): x is Value => !!x);
    const dtype = sameDtype(xs, "Concat");
    const axis = normAxis(attrNumber(attrs, "axis", 0), xs[0].rank, "Concat");
    for (const x of xs) {
      if (x.rank !== xs[0].rank) throw new Error(`Concat ranks differ: ${xs.map(String).join(", ")}`);
      x.shape.forEach((d, i) => {
        const d0 = xs[0].shape[i];
        if (i !== axis && typeof d === "number" && typeof d0 === "number" && d !== d0) {
          throw new Error(`Concat shapes differ off axis ${axis}: ${xs.map(String).join(", ")}`);
        }
      });
    }
    const shape = [...xs[0].shape];
    shape[axis] = productDimSum(xs.map((x) => x.shape[axis]));
    return [{ dtype, shape }];
  },
  Split: (inputs, attrs, g) => {
    const x = need(inputs, 1, "Split")[0];
    const axis = normAxis(attrNumber(attrs, "axis", 0), x.rank, "Split");
    const sizes = constInts(g, inputs[1]);
    if (!sizes) throw new Error("Split needs constant split sizes");
    return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? s : d)) }));
  },
  Slice: (inputs, _attrs, g) => {
    const [x] = need(inputs, 3, "Slice");
    const starts = constInts(g, inputs[1]), ends = constInts(g, inputs[2]);
    const axes = inputs[3] ? constInts(g, inputs[3]) : starts?.map((_, i) => i);
    const steps = inputs[4] ? constInts(g, inputs[4]) : starts?.map(() => 1);
    const shape = [...x.shape];
    if (!starts || !ends || !axes || !steps) {
      return [{ dtype: x.dtype, shape: shape.map(() => g.freshDim("slice")) }];
    }
    axes.forEach((ax, k) => {
      const a = normAxis(ax, x.rank, "Slice");
      const d = x.shape[a];
      const step = steps[k];
      if (typeof d !== "number") {
        const s = starts[k], e = ends[k];
        // Symbolic extent: only the "whole axis" and "fixed count from a fixed start" cases are known.
        if (step === 1 && s >= 0 && e >= 0 && e < 2 ** 31 - 1) shape[a] = Math.max(0, e - s);
        else if (!(step === 1 && s === 0 && e >= 2 ** 31 - 1)) shape[a] = g.freshDim("slice");
        return;
      }
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
      let s = starts[k] < 0 ? starts[k] + d : starts[k];
      let e = ends[k] < 0 ? ends[k] + d : ends[k];
      if (step > 0) {
        s = clamp(s, 0, d);
        e = clamp(e, 0, d);
        shape[a] = Math.max(0, Math.ceil((e - s) / step));
      } else {
        s = clamp(s, 0, d - 1); // ONNX: starts clamp to [0, d-1] and ends to [-1, d-1] when stepping back
        e = clamp(e, -1, d - 1);
        shape[a] = Math.max(0, Math.ceil((e - s) / step));
      }
    });
    return [{ dtype: x.dtype, shape }];
  },
  Expand: (inputs, _attrs, g) => {
    const [x, s] = need(inputs, 2, "Expand");
    const target = constInts(g, s);
    if (!target) {
      const n = s.shape[0];
      if (typeof n !== "number") throw new Error(`Expand shape ${s} has unknown length`);
      return [{
        dtype: x.dtype,
        shape: broadcastShapes(x.shape, Array.from({ length: n }, () => g.freshDim("expand"))),
      }];
    }
    return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, target) }];
  },
  Tile: (inputs, _attrs, g) => {
    const [x, r] = need(inputs, 2, "Tile");
    const reps = constInts(g, r);
    return [{
      dtype: x.dtype,
      shape: x.shape.map((d, i) => (reps ? productDim([d, reps[i]]) : g.freshDim("tile"))),
    }];
  },
  Shape: (inputs, attrs) => {
    const x = need(inputs, 1, "Shape")[0];
    const start = attrNumber(attrs, "start", 0), end = attrNumber(attrs, "end", x.rank);
    const s = start < 0 ? start + x.rank : start, e = end < 0 ? end + x.rank : Math.min(end, x.rank);
    return [{ dtype: "int64", shape: [Math.max(0, e - s)] }];
  },
  Size: () => [{ dtype: "int64", shape: [] }],
  ConstantOfShape: (inputs, attrs, g) => {
    const s = need(inputs, 1, "ConstantOfShape")[0];
    const v = attrs.value as Tensor | undefined;
    const target = constInts(g, s);
    const n = s.shape[0];
    const shape = target ?? (typeof n === "number" ? Array.from({ length: n }, () => g.freshDim("cos")) : []);
    return [{ dtype: v?.dtype ?? "float32", shape }];
  },
  Range: (inputs, _attrs, g) => {
    const [start] = need(inputs, 3, "Range");
    return [{ dtype: start.dtype, shape: [g.freshDim("range")] }];
  },
  OneHot: (inputs, attrs, g) => {
    const [idx, depth, values] = need(inputs, 3, "OneHot");
    const d = constInts(g, depth)?.[0] ?? g.freshDim("depth");
    const axis = attrNumber(attrs, "axis", -1);
    const shape = [...idx.shape];
    shape.splice(axis < 0 ? shape.length + 1 + axis : axis, 0, d);
    return [{ dtype: values.dtype, shape }];
  },
  Pad: (inputs, _attrs, g) => {
    const [x, p] = need(inputs, 2, "Pad");
    if (inputs[3]) throw new Error("Pad: no shape rule for the axes input; pass explicit output types");
    const pads = constInts(g, p);
    if (pads && pads.length !== 2 * x.rank) throw new Error(`Pad: ${pads.length} pads for ${x}`);
    return [{
      dtype: x.dtype,
      shape: x.shape.map((d, i) => {
        const n = pads ? pads[i] + pads[x.rank + i] : undefined;
        return n === 0 ? d : typeof d === "number" && n !== undefined ? d + n : g.freshDim("pad");
      }),
    }];
  },
  Trilu: elementwise,
  Dropout: (inputs) => {
    const x = need(inputs, 1, "Dropout")[0];
    return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: "bool", shape: [...x.shape] }];
  },
};

function productDimSum(ds: Dim[]): Dim {
  if (ds.every((d) => typeof d === "number")) return (ds as number[]).reduce((a, b) => a + b, 0);
  return ds.join("+");
}

/** The output types of `opType` applied to `inputs`; throws for unknown ops or bad shapes. */
export function inferTypes(
  opType: string,
  inputs: (Value | undefined)[],
  attrs: Attrs,
  g: Graph,
  domain = "",
): ValueType[] {
  const rule = domain === "" || domain === "ai.onnx" ? RULES[opType] : undefined;
  if (!rule) {
    throw new Error(`no shape rule for ${domain ? domain + "." : ""}${opType}; pass explicit output types`);
  }
  return rule(inputs, attrs, g);
}

/** Ops that have a shape rule. */
export const KNOWN_OPS: readonly string[] = Object.keys(RULES);
