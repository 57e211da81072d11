/**
 * Every op helper in `onnx/ops.ts`, built into a tiny graph and run on onnxruntime-node (`cpu`) and
 * onnxruntime-web (`wasm`), against values written out by hand (or computed with `Math.*` for
 * transcendental functions). Each output's declared shape is also checked against what ORT returns.
 */
import assert from "node:assert/strict";
import { type Dim, Graph } from "../../onnx/graph.ts";
import * as ops from "../../onnx/ops.ts";
import {
  abs,
  add,
  and,
  cast,
  concat,
  constantOfShape,
  div,
  equal,
  erf,
  exp,
  expand,
  expandLike,
  gather,
  gatherElements,
  gelu,
  gemm,
  greater,
  identity,
  ints,
  layerNorm,
  layerNormStats,
  less,
  linear,
  log,
  matMul,
  max,
  min,
  mul,
  neg,
  not,
  pad,
  pow,
  reduceMax,
  reduceMean,
  reduceProd,
  reduceSum,
  relu,
  reshape,
  reshapeLike,
  scalar,
  scatterElements,
  shapeOf,
  sigmoid,
  sign,
  slice,
  softmax,
  split,
  sqrt,
  squeeze,
  sub,
  tanh,
  transpose,
  unsqueeze,
  where,
} from "../../onnx/ops.ts";
import { openSession, type Provider, type Session } from "../../onnx/runtime.ts";
import { type DType, type Tensor, tensor } from "../../onnx/tensor.ts";

const PROVIDERS: Provider[] = ["cpu", "wasm"];

/** Helpers each step below exercises; the last test checks that this covers every export of ops.ts. */
const covered = new Set<string>();

// Fixed inputs used by many steps.
const X = [1, 2, 3, 4, 5, 6]; // (2, 3)
const Y = [0.5, -1, 2, -4, 0.25, 1]; // (2, 3)
const R = [10, 20, 30]; // (3)
const C = [100, 200]; // (2, 1)

/** One expected output: exact values (`tol` absent) or within `rel`·|e| + `abs`. */
interface Expected {
  dtype: DType;
  dims: number[];
  values: number[];
  tol?: { rel: number; abs: number };
}

const exact = (dtype: DType, dims: number[], values: number[]): Expected => ({ dtype, dims, values });
const close = (dims: number[], values: number[], rel = 1e-6, abs = 1e-7): Expected => ({
  dtype: "float32",
  dims,
  values,
  tol: { rel, abs },
});

function valuesOf(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Product-aware evaluation of a declared dim, binding new symbols to what ORT returned. */
function checkShape(
  declared: Dim[],
  actual: readonly number[],
  bound: Map<string, number>,
  what: string,
): void {
  assert.equal(actual.length, declared.length, `${what}: rank of [${actual}] vs declared [${declared}]`);
  declared.forEach((d, i) => {
    if (typeof d === "number") {
      assert.equal(actual[i], d, `${what}: dim ${i} of [${actual}] vs declared [${declared}]`);
      return;
    }
    const parts = d.split("*");
    if (parts.length === 1 && !/^\d+$/.test(d)) {
      if (!bound.has(d)) bound.set(d, actual[i]);
      assert.equal(actual[i], bound.get(d), `${what}: dim ${i} "${d}" of [${actual}]`);
      return;
    }
    let n = 1;
    for (const p of parts) {
      const v = /^\d+$/.test(p) ? Number(p) : bound.get(p);
      assert.ok(v !== undefined, `${what}: symbol "${p}" of "${d}" is unbound`);
      n *= v;
    }
    assert.equal(actual[i], n, `${what}: dim ${i} "${d}" of [${actual}]`);
  });
}

function compare(provider: Provider, name: string, got: Tensor, want: Expected): void {
  const what = `${provider} ${name}`;
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  assert.deepEqual(got.dims, want.dims, `${what}: dims`);
  const g = valuesOf(got);
  if (!want.tol) {
    assert.deepEqual(g, want.values, `${what}: values`);
    return;
  }
  assert.equal(g.length, want.values.length, `${what}: element count`);
  want.values.forEach((e, i) => {
    const bound = want.tol!.rel * Math.abs(e) + want.tol!.abs;
    assert.ok(Math.abs(g[i] - e) <= bound, `${what}[${i}]: got ${g[i]}, expected ${e} ± ${bound}`);
  });
}

/** Opens `g` on each provider, runs it on `feeds` and compares every output listed in `expected`. */
async function check(
  g: Graph,
  feeds: Record<string, Tensor>,
  expected: Record<string, Expected>,
): Promise<void> {
  assert.deepEqual(g.outputs.map((o) => o.name).sort(), Object.keys(expected).sort(), "outputs under test");
  const bytes = g.toBytes();
  for (const provider of PROVIDERS) {
    const session = await openSession(bytes, { provider });
    try {
      const out = await session.run(feeds);
      const bound = new Map<string, number>();
      for (const i of g.inputs) checkShape(i.shape, feeds[i.name].dims, bound, `${provider} input ${i.name}`);
      for (const o of g.outputs) {
        compare(provider, o.name, out[o.name], expected[o.name]);
        checkShape(o.shape, out[o.name].dims, bound, `${provider} ${o.name} (declared ${o})`);
      }
    } finally {
      await session.release();
    }
  }
}

/** A fresh graph named after the step. */
function graph(name: string): Graph {
  return new Graph(name);
}
const f32 = (dims: number[], v: number[]) => tensor("float32", dims, v);
const i64 = (dims: number[], v: number[]) => tensor("int64", dims, v);
const bool = (dims: number[], v: number[]) => tensor("bool", dims, v);

/** erf by its Maclaurin series (exact to double precision for |x| ≤ 3). */
function erfRef(x: number): number {
  let sum = 0, term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const V = [-3, -1.5, -0.5, 0, 0.25, 1, 2, 3];

Deno.test("op helpers match hand-computed results on cpu and wasm", async (t) => {
  await t.step("add broadcasts rows, columns, scalars and a leading number", async () => {
    covered.add("add");
    const g = graph("add");
    const x = g.input("x", "float32", [2, 3]);
    const r = g.input("r", "float32", [3]);
    const c = g.input("c", "float32", [2, 1]);
    g.output(add(x, r), "rows");
    g.output(add(x, c), "cols");
    g.output(add(x, 1), "scalar");
    g.output(add(0.5, r), "left");
    g.output(add(r, c), "outer");
    await check(g, { x: f32([2, 3], X), r: f32([3], R), c: f32([2, 1], C) }, {
      rows: exact("float32", [2, 3], [11, 22, 33, 14, 25, 36]),
      cols: exact("float32", [2, 3], [101, 102, 103, 204, 205, 206]),
      scalar: exact("float32", [2, 3], [2, 3, 4, 5, 6, 7]),
      left: exact("float32", [3], [10.5, 20.5, 30.5]),
      outer: exact("float32", [2, 3], [110, 120, 130, 210, 220, 230]),
    });
  });

  await t.step("sub, mul and div, elementwise and broadcast, with numbers on either side", async () => {
    covered.add("sub").add("mul").add("div");
    const g = graph("arith");
    const x = g.input("x", "float32", [2, 3]);
    const y = g.input("y", "float32", [2, 3]);
    const c = g.input("c", "float32", [2, 1]);
    g.output(sub(x, y), "sub");
    g.output(sub(1, x), "rsub");
    g.output(mul(x, y), "mul");
    g.output(mul(x, c), "mulc");
    g.output(div(x, y), "div");
    g.output(div(x, 2), "half");
    g.output(div(6, x), "rdiv");
    await check(g, { x: f32([2, 3], X), y: f32([2, 3], Y), c: f32([2, 1], C) }, {
      sub: exact("float32", [2, 3], [0.5, 3, 1, 8, 4.75, 5]),
      rsub: exact("float32", [2, 3], [0, -1, -2, -3, -4, -5]),
      mul: exact("float32", [2, 3], [0.5, -2, 6, -16, 1.25, 6]),
      mulc: exact("float32", [2, 3], [100, 200, 300, 800, 1000, 1200]),
      div: exact("float32", [2, 3], [2, -2, 1.5, -1, 20, 6]),
      half: exact("float32", [2, 3], [0.5, 1, 1.5, 2, 2.5, 3]),
      rdiv: close([2, 3], [6, 3, 2, 1.5, 1.2, 1]),
    });
  });

  await t.step("pow with a scalar and a broadcast exponent", async () => {
    covered.add("pow");
    const g = graph("pow");
    const x = g.input("x", "float32", [2, 3]);
    const e = g.input("e", "float32", [3]);
    g.output(pow(x, 2), "square");
    g.output(pow(x, e), "rows");
    await check(g, { x: f32([2, 3], X), e: f32([3], [0, 0.5, -1]) }, {
      square: exact("float32", [2, 3], [1, 4, 9, 16, 25, 36]),
      rows: close([2, 3], [1, Math.sqrt(2), 1 / 3, 1, Math.sqrt(5), 1 / 6]),
    });
  });

  await t.step("max and min broadcast a column and a scalar", async () => {
    covered.add("max").add("min");
    const g = graph("maxmin");
    const x = g.input("x", "float32", [2, 3]);
    const c = g.input("c", "float32", [2, 1]);
    g.output(max(x, c), "max");
    g.output(min(x, c), "min");
    g.output(max(x, 3.5), "maxs");
    g.output(min(-1, x), "mins");
    await check(g, { x: f32([2, 3], X), c: f32([2, 1], [2, 5]) }, {
      max: exact("float32", [2, 3], [2, 2, 3, 5, 5, 6]),
      min: exact("float32", [2, 3], [1, 2, 2, 4, 5, 5]),
      maxs: exact("float32", [2, 3], [3.5, 3.5, 3.5, 4, 5, 6]),
      mins: exact("float32", [2, 3], [-1, -1, -1, -1, -1, -1]),
    });
  });

  await t.step("equal, less and greater give bool, broadcasting", async () => {
    covered.add("equal").add("less").add("greater");
    const g = graph("compare");
    const x = g.input("x", "float32", [2, 3]);
    const r = g.input("r", "float32", [3]);
    const c = g.input("c", "float32", [2, 1]);
    g.output(equal(x, r), "eq");
    g.output(less(x, 3), "lt");
    g.output(greater(x, c), "gt");
    await check(g, { x: f32([2, 3], X), r: f32([3], [1, 5, 3]), c: f32([2, 1], [2, 4]) }, {
      eq: exact("bool", [2, 3], [1, 0, 1, 0, 1, 0]),
      lt: exact("bool", [2, 3], [1, 1, 0, 0, 0, 0]),
      gt: exact("bool", [2, 3], [0, 0, 1, 0, 1, 1]),
    });
  });

  await t.step("and and not on bool tensors, and on comparisons", async () => {
    covered.add("and").add("not");
    const g = graph("logic");
    const a = g.input("a", "bool", [4]);
    const b = g.input("b", "bool", [4]);
    const x = g.input("x", "float32", [2, 3]);
    g.output(and(a, b), "and");
    g.output(not(a), "not");
    g.output(and(greater(x, 1), less(x, 4)), "between");
    await check(g, { a: bool([4], [1, 1, 0, 0]), b: bool([4], [1, 0, 1, 0]), x: f32([2, 3], X) }, {
      and: exact("bool", [4], [1, 0, 0, 0]),
      not: exact("bool", [4], [0, 0, 1, 1]),
      between: exact("bool", [2, 3], [0, 1, 1, 0, 0, 0]),
    });
  });

  await t.step("neg, abs, relu, sqrt and identity", async () => {
    covered.add("neg").add("abs").add("relu").add("sqrt").add("identity");
    const g = graph("unary");
    const y = g.input("y", "float32", [2, 3]);
    const s = g.input("s", "float32", [5]);
    g.output(neg(y), "neg");
    g.output(abs(y), "abs");
    g.output(relu(y), "relu");
    g.output(sqrt(s), "sqrt");
    g.output(identity(y), "id");
    await check(g, { y: f32([2, 3], Y), s: f32([5], [0, 0.25, 4, 9, 2]) }, {
      neg: exact("float32", [2, 3], [-0.5, 1, -2, 4, -0.25, -1]),
      abs: exact("float32", [2, 3], [0.5, 1, 2, 4, 0.25, 1]),
      relu: exact("float32", [2, 3], [0.5, 0, 2, 0, 0.25, 1]),
      sqrt: close([5], [0, 0.5, 2, 3, Math.SQRT2]),
      id: exact("float32", [2, 3], Y),
    });
  });

  await t.step("exp, log, tanh, erf, sigmoid and gelu match Math within 1e-6 relative", async () => {
    covered.add("exp").add("log").add("tanh").add("erf").add("sigmoid").add("gelu");
    const g = graph("transcendental");
    const v = g.input("v", "float32", [2, 4]);
    const w = g.input("w", "float32", [6]);
    g.output(exp(v), "exp");
    g.output(log(w), "log");
    g.output(tanh(v), "tanh");
    g.output(erf(v), "erf");
    g.output(sigmoid(v), "sigmoid");
    g.output(gelu(v), "gelu");
    const W = [0.125, 0.5, 1, 2, 3, 10];
    await check(g, { v: f32([2, 4], V), w: f32([6], W) }, {
      exp: close([2, 4], V.map(Math.exp)),
      log: close([6], W.map(Math.log)),
      tanh: close([2, 4], V.map(Math.tanh)),
      erf: close([2, 4], V.map(erfRef)),
      sigmoid: close([2, 4], V.map((x) => 1 / (1 + Math.exp(-x)))),
      gelu: close([2, 4], V.map((x) => (x / 2) * (1 + erfRef(x / Math.SQRT2)))),
    });
  });

  await t.step("matMul: matrix, batched against a matrix, and matrix-vector", async () => {
    covered.add("matMul");
    const g = graph("matmul");
    const a = g.input("a", "float32", [2, 3]);
    const b = g.input("b", "float32", [3, 2]);
    const p = g.input("p", "float32", [2, 2, 2]);
    const q = g.input("q", "float32", [2, 1]);
    const v = g.input("v", "float32", [3]);
    g.output(matMul(a, b), "ab");
    g.output(matMul(p, q), "batched");
    g.output(matMul(a, v), "av");
    await check(g, {
      a: f32([2, 3], X),
      b: f32([3, 2], [1, 2, 0, -1, 3, 0.5]),
      p: f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]),
      q: f32([2, 1], [2, 1]),
      v: f32([3], [1, 1, 1]),
    }, {
      // [1 2 3; 4 5 6] · [1 2; 0 -1; 3 0.5] = [1+0+9, 2-2+1.5; 4+0+18, 8-5+3]
      ab: exact("float32", [2, 2], [10, 1.5, 22, 6]),
      // each 2×2 block times [2; 1]
      batched: exact("float32", [2, 2, 1], [4, 10, 16, 22]),
      av: exact("float32", [2], [6, 15]),
    });
  });

  await t.step("linear adds the bias to x·w, and without a bias is x·w", async () => {
    covered.add("linear");
    const g = graph("linear");
    const x = g.input("x", "float32", [2, 3]);
    const w = g.param("w", f32([3, 2], [1, 2, 0, -1, 3, 0.5]));
    const b = g.param("b", f32([2], [0.5, -1]));
    g.output(linear(x, w, b), "y");
    g.output(linear(x, w), "xw");
    await check(g, { x: f32([2, 3], X) }, {
      y: exact("float32", [2, 2], [10.5, 0.5, 22.5, 5]),
      xw: exact("float32", [2, 2], [10, 1.5, 22, 6]),
    });
  });

  await t.step("softmax along the last axis and along axis 0", async () => {
    covered.add("softmax");
    const g = graph("softmax");
    const x = g.input("x", "float32", [2, 3]);
    g.output(softmax(x), "last");
    g.output(softmax(x, 0), "first");
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    const row = [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z];
    const lo = 1 / (1 + Math.exp(3)), hi = 1 / (1 + Math.exp(-3));
    await check(g, { x: f32([2, 3], X) }, {
      last: close([2, 3], [...row, ...row]),
      first: close([2, 3], [lo, lo, lo, hi, hi, hi]),
    });
  });

  await t.step("reduceSum, reduceMean and reduceMax with and without keepdims", async () => {
    covered.add("reduceSum").add("reduceMean").add("reduceMax");
    const g = graph("reduce");
    const x = g.input("x", "float32", [2, 3]);
    const y = g.input("y", "float32", [2, 3]);
    g.output(reduceSum(x, [1]), "sum1");
    g.output(reduceSum(x, [0], true), "sum0k");
    g.output(reduceSum(x, [-1], true), "sumlk");
    g.output(reduceSum(x), "sumall");
    g.output(reduceMean(x, [1]), "mean1");
    g.output(reduceMean(x, [], true), "meanallk");
    g.output(reduceMax(y, [0]), "max0");
    g.output(reduceMax(y, [1], true), "max1k");
    g.output(reduceMax(y), "maxall");
    await check(g, { x: f32([2, 3], X), y: f32([2, 3], Y) }, {
      sum1: exact("float32", [2], [6, 15]),
      sum0k: exact("float32", [1, 3], [5, 7, 9]),
      sumlk: exact("float32", [2, 1], [6, 15]),
      sumall: exact("float32", [], [21]),
      mean1: exact("float32", [2], [2, 5]),
      meanallk: exact("float32", [1, 1], [3.5]),
      max0: exact("float32", [3], [0.5, 0.25, 2]),
      max1k: exact("float32", [2, 1], [2, 1]),
      maxall: exact("float32", [], [2]),
    });
  });

  await t.step("layerNorm normalises the last axis with scale, bias and epsilon", async () => {
    covered.add("layerNorm");
    const g = graph("layernorm");
    const x = g.input("x", "float32", [2, 3]);
    const scale = g.param("scale", f32([3], [1, 2, 0.5]));
    const bias = g.param("bias", f32([3], [0, 1, -1]));
    g.output(layerNorm(x, scale, bias, 1e-5), "y");
    g.output(layerNorm(x, scale, bias), "tiny");
    // rows [1 2 3] and [4 5 6] both have mean m and variance 2/3
    const ln = (eps: number) => {
      const s = Math.sqrt(2 / 3 + eps);
      const row = [(-1 / s) * 1 + 0, 0 * 2 + 1, (1 / s) * 0.5 - 1];
      return [...row, ...row];
    };
    await check(g, { x: f32([2, 3], X) }, {
      y: close([2, 3], ln(1e-5), 1e-6, 1e-6),
      tiny: close([2, 3], ln(1e-12), 1e-6, 1e-6),
    });
  });

  await t.step("gather with 2-D indices on axis 0 and 1, negative and int32 indices", async () => {
    covered.add("gather");
    const g = graph("gather");
    const d = g.input("d", "float32", [3, 2]);
    const x = g.input("x", "float32", [2, 3]);
    const i = g.input("i", "int64", [2, 2]);
    const j = g.input("j", "int64", [1, 2]);
    const k = g.input("k", "int32", [2]);
    g.output(gather(d, i), "rows");
    g.output(gather(x, j, 1), "cols");
    g.output(gather(d, k), "i32");
    await check(g, {
      d: f32([3, 2], [1, 2, 3, 4, 5, 6]),
      x: f32([2, 3], X),
      i: i64([2, 2], [0, 2, 1, -1]),
      j: i64([1, 2], [2, 0]),
      k: tensor("int32", [2], [1, 1]),
    }, {
      rows: exact("float32", [2, 2, 2], [1, 2, 5, 6, 3, 4, 5, 6]),
      cols: exact("float32", [2, 1, 2], [3, 1, 6, 4]),
      i32: exact("float32", [2, 2], [3, 4, 3, 4]),
    });
  });

  await t.step("gatherElements along axis 1 and axis 0", async () => {
    covered.add("gatherElements");
    const g = graph("gatherElements");
    const x = g.input("x", "float32", [2, 3]);
    const i = g.input("i", "int64", [2, 2]);
    const j = g.input("j", "int64", [1, 3]);
    g.output(gatherElements(x, i, 1), "ax1");
    g.output(gatherElements(x, j, 0), "ax0");
    await check(g, { x: f32([2, 3], X), i: i64([2, 2], [2, 0, 1, 1]), j: i64([1, 3], [1, 0, 1]) }, {
      ax1: exact("float32", [2, 2], [3, 1, 5, 5]),
      ax0: exact("float32", [1, 3], [4, 2, 6]),
    });
  });

  await t.step("reshape with fixed sizes, 0 and -1; reshapeLike and shapeOf at run time", async () => {
    covered.add("reshape").add("reshapeLike").add("shapeOf");
    const g = graph("reshape");
    const x = g.input("x", "float32", [2, 3]);
    g.output(reshape(x, [3, 2]), "r32");
    g.output(reshape(x, [0, -1, 1]), "r0m1");
    g.output(reshape(x, [-1]), "flat");
    const xt = transpose(x, [1, 0]);
    g.output(shapeOf(xt), "shape");
    g.output(reshapeLike(x, shapeOf(xt)), "like");
    await check(g, { x: f32([2, 3], X) }, {
      r32: exact("float32", [3, 2], X),
      r0m1: exact("float32", [2, 3, 1], X),
      flat: exact("float32", [6], X),
      shape: exact("int64", [2], [3, 2]),
      like: exact("float32", [3, 2], X),
    });
  });

  await t.step("transpose of a matrix and a 3-D permutation", async () => {
    covered.add("transpose");
    const g = graph("transpose");
    const x = g.input("x", "float32", [2, 3]);
    const z = g.input("z", "float32", [2, 3, 4]);
    g.output(transpose(x, [1, 0]), "xt");
    g.output(transpose(z, [2, 0, 1]), "zp");
    const Z = Array.from({ length: 24 }, (_, i) => i); // z[i][j][k] = 12i + 4j + k
    const zp: number[] = [];
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) zp.push(12 * i + 4 * j + k);
    }
    await check(g, { x: f32([2, 3], X), z: f32([2, 3, 4], Z) }, {
      xt: exact("float32", [3, 2], [1, 4, 2, 5, 3, 6]),
      zp: exact("float32", [4, 2, 3], zp),
    });
  });

  await t.step("unsqueeze and squeeze, with negative axes", async () => {
    covered.add("unsqueeze").add("squeeze");
    const g = graph("squeeze");
    const r = g.input("r", "float32", [3]);
    const c = g.input("c", "float32", [2, 1]);
    const u = unsqueeze(r, [0, 2]);
    g.output(u, "u02");
    g.output(unsqueeze(c, [-1]), "ulast");
    g.output(squeeze(c, [1]), "s1");
    g.output(squeeze(u, [0, -1]), "sboth");
    await check(g, { r: f32([3], R), c: f32([2, 1], C) }, {
      u02: exact("float32", [1, 3, 1], R),
      ulast: exact("float32", [2, 1, 1], C),
      s1: exact("float32", [2], C),
      sboth: exact("float32", [3], R),
    });
  });

  await t.step("concat along axis 0, axis 1 and axis -1", async () => {
    covered.add("concat");
    const g = graph("concat");
    const x = g.input("x", "float32", [2, 3]);
    const y = g.input("y", "float32", [2, 3]);
    const c = g.input("c", "float32", [2, 1]);
    g.output(concat([x, y], 0), "rows");
    g.output(concat([x, c], 1), "cols");
    g.output(concat([c, x, c], -1), "last");
    await check(g, { x: f32([2, 3], X), y: f32([2, 3], Y), c: f32([2, 1], C) }, {
      rows: exact("float32", [4, 3], [...X, ...Y]),
      cols: exact("float32", [2, 4], [1, 2, 3, 100, 4, 5, 6, 200]),
      last: exact("float32", [2, 5], [100, 1, 2, 3, 100, 200, 4, 5, 6, 200]),
    });
  });

  await t.step("slice with negative starts and ends, steps, negative steps and axes", async () => {
    covered.add("slice");
    const g = graph("slice");
    const s = g.input("s", "float32", [10]);
    const x = g.input("x", "float32", [2, 3]);
    g.output(slice(s, [-3], [Number.MAX_SAFE_INTEGER]), "tail");
    g.output(slice(s, [1], [8], [0], [2]), "step2");
    g.output(slice(s, [8], [1], [0], [-3]), "back3");
    g.output(slice(s, [-1], [-1000], [0], [-1]), "reverse");
    g.output(slice(s, [-1000], [-2000], [0], [-1]), "front");
    g.output(slice(s, [2], [-2]), "inner");
    g.output(slice(x, [0, -1], [2, -4], [0, 1], [1, -1]), "fliprows");
    g.output(slice(x, [1], [2], [-2]), "row1");
    g.output(slice(x, [-2], [-1], [-1]), "mid");
    await check(g, { s: f32([10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), x: f32([2, 3], X) }, {
      tail: exact("float32", [3], [7, 8, 9]),
      step2: exact("float32", [4], [1, 3, 5, 7]),
      back3: exact("float32", [3], [8, 5, 2]),
      reverse: exact("float32", [10], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
      front: exact("float32", [1], [0]),
      inner: exact("float32", [6], [2, 3, 4, 5, 6, 7]),
      fliprows: exact("float32", [2, 3], [3, 2, 1, 6, 5, 4]),
      row1: exact("float32", [1, 3], [4, 5, 6]),
      mid: exact("float32", [2, 1], [2, 5]),
    });
  });

  await t.step("expand to a static shape and expandLike to a run-time shape", async () => {
    covered.add("expand").add("expandLike");
    const g = graph("expand");
    const x = g.input("x", "float32", [2, 3]);
    const r = g.input("r", "float32", [3]);
    const c = g.input("c", "float32", [2, 1]);
    g.output(expand(r, [2, 3]), "rows");
    g.output(expand(c, [1, 3]), "cols");
    g.output(expandLike(c, shapeOf(x)), "like");
    await check(g, { x: f32([2, 3], X), r: f32([3], R), c: f32([2, 1], C) }, {
      rows: exact("float32", [2, 3], [...R, ...R]),
      cols: exact("float32", [2, 3], [100, 100, 100, 200, 200, 200]),
      like: exact("float32", [2, 3], [100, 100, 100, 200, 200, 200]),
    });
  });

  await t.step(
    "explicit result shapes and constant axis values (as the gradient rules use them)",
    async () => {
      const g = graph("explicit");
      const x = g.input("x", "float32", [2, 3]);
      const r = g.input("r", "float32", [3]);
      const c = g.input("c", "float32", [2, 1]);
      g.output(reshapeLike(x, shapeOf(transpose(x, [1, 0])), ["rows", "cols"]), "like");
      g.output(expandLike(c, shapeOf(x), [2, 3]), "wide");
      g.output(unsqueeze(r, ints(g, [0])), "u0");
      g.output(squeeze(c, ints(g, [1])), "s1");
      g.output(shapeOf(x, 1), "tail");
      g.output(shapeOf(x, 0, 1), "head");
      await check(g, { x: f32([2, 3], X), r: f32([3], R), c: f32([2, 1], C) }, {
        like: exact("float32", [3, 2], X),
        wide: exact("float32", [2, 3], [100, 100, 100, 200, 200, 200]),
        u0: exact("float32", [1, 3], R),
        s1: exact("float32", [2], C),
        tail: exact("int64", [1], [3]),
        head: exact("int64", [1], [2]),
      });
    },
  );

  await t.step("sign, reduceProd, and gemm with alpha and transposes", async () => {
    covered.add("sign").add("reduceProd").add("gemm");
    const g = graph("signprodgemm");
    const v = g.input("v", "float32", [8]);
    const x = g.input("x", "float32", [2, 3]);
    const y = g.input("y", "float32", [2, 3]);
    g.output(sign(v), "sign");
    g.output(reduceProd(x, [1]), "prod1");
    g.output(reduceProd(x, [0], true), "prod0k");
    g.output(reduceProd(x), "prodall");
    g.output(gemm(x, y, { transB: true }), "abt");
    g.output(gemm(x, y, { alpha: 2, transA: true }), "atb");
    await check(g, { v: f32([8], V), x: f32([2, 3], X), y: f32([2, 3], Y) }, {
      sign: exact("float32", [8], [-1, -1, -1, 0, 1, 1, 1, 1]),
      prod1: exact("float32", [2], [6, 120]),
      prod0k: exact("float32", [1, 3], [4, 10, 18]),
      prodall: exact("float32", [], [720]),
      abt: exact("float32", [2, 2], [4.5, -0.5, 9, -8.75]),
      atb: exact("float32", [3, 3], [-31, 0, 12, -38, -1.5, 18, -45, -3, 24]),
    });
  });

  await t.step(
    "pad with zeros, split by fixed and run-time sizes, scatterElements with and without add",
    async () => {
      covered.add("pad").add("split").add("scatterElements");
      const g = graph("padsplitscatter");
      const x = g.input("x", "float32", [2, 3]);
      const c = g.input("c", "float32", [2, 1]);
      const i = g.input("i", "int64", [2, 2]);
      const j = g.input("j", "int64", [2, 2]);
      const u = g.input("u", "float32", [2, 2]);
      g.output(pad(x, [0, 1, 1, 0]), "padded");
      g.output(pad(x, [1, 0, 0, 0], ["rows", 3]), "padnamed");
      const [left, right] = split(x, [1, 2], 1);
      g.output(left, "left");
      g.output(right, "right");
      const sizes = concat([shapeOf(c, 1, 2), ints(g, [2])], 0); // [1, 2], read at run time
      const [top, rest] = split(x, sizes, 1, [[2, 1], [2, 2]]);
      g.output(top, "top");
      g.output(rest, "rest");
      g.output(scatterElements(x, i, u, 1), "written");
      g.output(scatterElements(x, j, u, 1, "add"), "added");
      await check(g, {
        x: f32([2, 3], X),
        c: f32([2, 1], C),
        i: i64([2, 2], [2, 0, 1, 0]),
        j: i64([2, 2], [2, 0, 1, 1]),
        u: f32([2, 2], [10, 20, 30, 40]),
      }, {
        padded: exact("float32", [3, 4], [0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0]),
        padnamed: exact("float32", [3, 3], [0, 0, 0, ...X]),
        left: exact("float32", [2, 1], [1, 4]),
        right: exact("float32", [2, 2], [2, 3, 5, 6]),
        top: exact("float32", [2, 1], [1, 4]),
        rest: exact("float32", [2, 2], [2, 3, 5, 6]),
        written: exact("float32", [2, 3], [20, 2, 10, 40, 30, 6]),
        added: exact("float32", [2, 3], [21, 2, 13, 4, 75, 6]),
      });
    },
  );

  await t.step("constantOfShape fills run-time shapes; layerNormStats gives mean and 1/σ", async () => {
    covered.add("constantOfShape").add("layerNormStats");
    const g = graph("constlnstats");
    const x = g.input("x", "float32", [2, 3]);
    g.output(constantOfShape(shapeOf(x), 7), "sevens");
    g.output(constantOfShape(ints(g, [2]), 1, "int64"), "ones");
    g.output(constantOfShape(shapeOf(x), 0, "float32", ["n", 3]), "zeros");
    const [y, mean, invStd] = layerNormStats(x, g.constant(f32([3], [1, 1, 1])), -1, 1e-5);
    g.output(y, "y");
    g.output(mean, "mean");
    g.output(invStd, "invstd");
    const r = 1 / Math.sqrt(2 / 3 + 1e-5); // rows [1 2 3] and [4 5 6]: variance 2/3
    await check(g, { x: f32([2, 3], X) }, {
      sevens: exact("float32", [2, 3], [7, 7, 7, 7, 7, 7]),
      ones: exact("int64", [2], [1, 1]),
      zeros: exact("float32", [2, 3], [0, 0, 0, 0, 0, 0]),
      y: close([2, 3], [-r, 0, r, -r, 0, r], 1e-6, 1e-6),
      mean: close([2, 1], [2, 5]),
      invstd: close([2, 1], [r, r], 1e-6, 1e-6),
    });
  });

  await t.step("where broadcasts the condition and lifts numbers", async () => {
    covered.add("where");
    const g = graph("where");
    const x = g.input("x", "float32", [2, 3]);
    const y = g.input("y", "float32", [2, 3]);
    const m = g.input("m", "bool", [3]);
    g.output(where(greater(x, 3), x, y), "pick");
    g.output(where(m, x, 0), "mask");
    g.output(where(m, -1, y), "fill");
    await check(g, { x: f32([2, 3], X), y: f32([2, 3], Y), m: bool([3], [1, 0, 1]) }, {
      pick: exact("float32", [2, 3], [0.5, -1, 2, 4, 5, 6]),
      mask: exact("float32", [2, 3], [1, 0, 3, 4, 0, 6]),
      fill: exact("float32", [2, 3], [-1, -1, -1, -1, 0.25, -1]),
    });
  });

  await t.step(
    "cast float→int64 truncates, float→bool tests non-zero, int64→float32 and bool→int32",
    async () => {
      covered.add("cast");
      const g = graph("cast");
      const z = g.input("z", "float32", [6]);
      const n = g.input("n", "int64", [3]);
      const b = g.input("b", "bool", [2]);
      assert.equal(cast(z, "float32"), z, "a cast to the same type is the value itself");
      g.output(cast(z, "int64"), "i64");
      g.output(cast(z, "bool"), "bool");
      g.output(cast(n, "float32"), "f32");
      g.output(cast(b, "int32"), "i32");
      await check(g, {
        z: f32([6], [-1.5, -0.5, 0, 0.75, 2.9, 3]),
        n: i64([3], [-2, 0, 7]),
        b: bool([2], [1, 0]),
      }, {
        i64: exact("int64", [6], [-1, 0, 0, 0, 2, 3]),
        bool: exact("bool", [6], [1, 1, 0, 1, 1, 1]),
        f32: exact("float32", [3], [-2, 0, 7]),
        i32: exact("int32", [2], [1, 0]),
      });
    },
  );

  await t.step("scalar and ints make shared constants of the requested type", async () => {
    covered.add("scalar").add("ints");
    const g = graph("constants");
    const x = g.input("x", "float64", [3]);
    const k = scalar(g, 2.5, "float64");
    assert.equal(scalar(g, 2.5, "float64"), k, "equal constants are shared");
    assert.notEqual(scalar(g, 2.5, "float32"), k, "constants of another dtype are not");
    assert.deepEqual([k.dtype, k.shape], ["float64", []]);
    const s = ints(g, [3, -1]);
    assert.deepEqual([s.dtype, s.shape], ["int64", [2]]);
    g.output(add(x, k), "shifted");
    g.output(identity(s), "ints");
    g.output(identity(scalar(g, 7, "int32")), "i32");
    await check(g, { x: tensor("float64", [3], [0.25, -1, 1e-3]) }, {
      shifted: exact("float64", [3], [2.75, 1.5, 2.501]),
      ints: exact("int64", [2], [3, -1]),
      i32: exact("int32", [], [7]),
    });
  });
});

Deno.test("op helpers keep symbolic dims through reshape and transpose, run at two batch sizes", async () => {
  const g = new Graph("symbolic");
  const x = g.input("x", "float32", ["batch", "seq", 4]);
  const bias = g.param("bias", f32([4], [0, 10, 20, 30]));
  const y = add(x, bias); // (batch, seq, 4)
  const heads = transpose(reshape(y, [0, 0, 2, 2]), [0, 2, 1, 3]); // (batch, 2, seq, 2)
  const flat = reshape(y, [-1, 4]); // (batch*seq, 4)
  const mean = reduceMean(x, [-1], true); // (batch, seq, 1)
  const joined = concat([x, mean], -1); // (batch, seq, 5)
  assert.deepEqual(heads.shape, ["batch", 2, "seq", 2]);
  assert.deepEqual(flat.shape, ["batch*seq", 4]);
  assert.deepEqual(mean.shape, ["batch", "seq", 1]);
  assert.deepEqual(joined.shape, ["batch", "seq", 5]);
  g.output(heads, "heads");
  g.output(flat, "flat");
  g.output(joined, "joined");
  const bytes = g.toBytes();
  for (const provider of PROVIDERS) {
    const session: Session = await openSession(bytes, { provider });
    try {
      for (const [batch, seq] of [[1, 3], [2, 3], [3, 2]]) {
        const n = batch * seq * 4;
        const xs = Array.from({ length: n }, (_, i) => i); // x[b][s][c] = (b·seq + s)·4 + c
        const out = await session.run({ x: f32([batch, seq, 4], xs) });
        const what = `${provider} batch=${batch} seq=${seq}`;
        const yv = (b: number, s: number, c: number) => (b * seq + s) * 4 + c + 10 * c;
        const heads: number[] = [];
        for (let b = 0; b < batch; b++) {
          for (let h = 0; h < 2; h++) {
            for (let s = 0; s < seq; s++) for (let d = 0; d < 2; d++) heads.push(yv(b, s, 2 * h + d));
          }
        }
        assert.deepEqual(out.heads.dims, [batch, 2, seq, 2], what);
        assert.deepEqual(valuesOf(out.heads), heads, what);
        assert.deepEqual(out.flat.dims, [batch * seq, 4], what);
        assert.deepEqual(valuesOf(out.flat), xs.map((v, i) => v + 10 * (i % 4)), what);
        const joined: number[] = [];
        for (let r = 0; r < batch * seq; r++) {
          const row = [0, 1, 2, 3].map((c) => 4 * r + c);
          joined.push(...row, (row[0] + row[1] + row[2] + row[3]) / 4);
        }
        assert.deepEqual(out.joined.dims, [batch, seq, 5], what);
        assert.deepEqual(valuesOf(out.joined), joined, what);
      }
    } finally {
      await session.release();
    }
  }
});

Deno.test("every exported op helper has a test here", () => {
  const helpers = Object.entries(ops).filter(([, v]) => typeof v === "function").map(([k]) => k).sort();
  const missing = helpers.filter((h) => !covered.has(h));
  assert.deepEqual(missing, [], `op helpers without a test in tests/onnx/ops_test.ts: ${missing.join(", ")}`);
});
