/** Shape rules of `onnx/shapes.ts`, checked through `Graph.op` and the op helpers without running ORT. */
import assert from "node:assert/strict";
import { Graph } from "../../onnx/graph.ts";
import {
  add,
  concat,
  gather,
  ints,
  matMul,
  pad,
  reduceMean,
  reduceSum,
  reshape,
  reshapeLike,
  slice,
  squeeze,
  transpose,
  unsqueeze,
  where,
} from "../../onnx/ops.ts";
import { broadcastShapes, inferTypes, KNOWN_OPS, productDim } from "../../onnx/shapes.ts";
import { tensor } from "../../onnx/tensor.ts";

/** "To the end" for Slice: 2 ** 63 - 1 is not a safe integer and does not fit int64 once rounded. */
const INT64_MAX = Number.MAX_SAFE_INTEGER;

Deno.test("broadcastShapes() follows numpy rules and keeps symbolic dims", async (t) => {
  const cases: [string, (number | string)[][], (number | string)[]][] = [
    ["row vector", [[2, 3], [3]], [2, 3]],
    ["column against row", [[2, 1], [1, 3]], [2, 3]],
    ["scalar", [[2, 3], []], [2, 3]],
    ["rank extension", [[4], [2, 3, 1]], [2, 3, 4]],
    ["three shapes", [[2, 1, 1], [1, 3, 1], [4]], [2, 3, 4]],
    ["symbol meets 1", [["batch", 1, 4], [1, "seq", 4]], ["batch", "seq", 4]],
    ["symbol meets itself", [["batch", "seq"], ["batch", "seq"]], ["batch", "seq"]],
    ["symbol against a size takes the size", [["n", 3], [5, 3]], [5, 3]],
    ["size against a symbol keeps the size", [[5, 3], ["n", 3]], [5, 3]],
    ["product symbol", [["batch*seq", 4], [4]], ["batch*seq", 4]],
  ];
  for (const [name, shapes, expected] of cases) {
    await t.step(name, () => assert.deepEqual(broadcastShapes(...shapes), expected));
  }
  await t.step("incompatible sizes name every shape", () => {
    assert.throws(() => broadcastShapes([2, 3], [4]), { message: "cannot broadcast [2, 3] with [4]" });
    assert.throws(
      () => broadcastShapes(["b", 2], [1, 1], [3]),
      /cannot broadcast \[b, 2\] with \[1, 1\] with \[3\]/,
    );
  });
});

Deno.test("productDim() multiplies numbers and sorts symbols", () => {
  assert.equal(productDim([2, 3, 4]), 24);
  assert.equal(productDim([]), 1);
  assert.equal(productDim(["batch", "seq"]), "batch*seq");
  assert.equal(productDim(["seq", "batch"]), "batch*seq");
  assert.equal(productDim([2, "seq", 3]), "6*seq");
  assert.equal(productDim(["2*seq", "batch", 2]), "4*batch*seq");
});

Deno.test("Graph.op() errors name the node, its scope and the shapes", async (t) => {
  await t.step("MatMul inner mismatch names both shapes", () => {
    const g = new Graph("m");
    const a = g.input("a", "float32", [2, 3]);
    const b = g.input("b", "float32", [4, 5]);
    assert.throws(() => matMul(a, b), {
      message: "MatMul_0: MatMul inner dimensions differ: [2, 3] × [4, 5]",
    });
  });
  await t.step("broadcast failure inside scopes names the scoped node", () => {
    const g = new Graph("s");
    const a = g.input("a", "float32", [2, 3]);
    const b = g.input("b", "float32", [4]);
    add(a, a);
    g.push("encoder");
    g.push("layer.0");
    assert.throws(() => add(a, b), { message: "encoder/layer.0/Add_1: cannot broadcast [2, 3] with [4]" });
    g.pop();
    g.pop();
    assert.throws(() => g.pop(), /no scope to leave/);
  });
  await t.step("mixed dtypes name both values", () => {
    const g = new Graph("d");
    const a = g.input("a", "float32", [2]);
    const b = g.input("b", "int64", [2]);
    assert.throws(() => add(a, b), /Add_0: .*differ in type: a: float32\[2\] and b: int64\[2\]$/);
  });
  await t.step("an op without a rule asks for explicit types", () => {
    const g = new Graph("u");
    const a = g.input("a", "float32", [2]);
    assert.throws(() => g.op("FancyOp", [a]), {
      message: "FancyOp_0: no shape rule for FancyOp; pass explicit output types",
    });
    assert.throws(
      () => g.op("Add", [a, a], {}, { domain: "com.example" }),
      /no shape rule for com\.example\.Add/,
    );
    const [y] = g.op("FancyOp", [a], {}, { types: [{ dtype: "int32", shape: ["k"] }] });
    assert.deepEqual([y.dtype, y.shape], ["int32", ["k"]]);
  });
  await t.step("a value of another graph is refused", () => {
    const g = new Graph("one"), h = new Graph("two");
    const a = g.input("a", "float32", [2]);
    h.input("b", "float32", [2]);
    assert.throws(() => h.op("Neg", [a]), /Neg: input "a" belongs to another graph/);
  });
  await t.step("a failed op adds no node and defines no value", () => {
    const g = new Graph("clean");
    const a = g.input("a", "float32", [2, 3]);
    const b = g.input("b", "float32", [4]);
    assert.throws(() => add(a, b));
    assert.equal(g.nodes.length, 0);
    assert.deepEqual([...g.values.keys()], ["a", "b"]);
  });
});

Deno.test("MatMul and Gemm rules batch, squeeze vectors and keep symbols", () => {
  const g = new Graph("mm");
  const x = g.input("x", "float32", ["batch", "seq", 256]);
  const w = g.input("w", "float32", [256, 64]);
  const v = g.input("v", "float32", [256]);
  const q = g.input("q", "float32", ["batch", 4, "seq", 64]);
  const k = g.input("k", "float32", ["batch", 4, 64, "seq"]);
  assert.deepEqual(matMul(x, w).shape, ["batch", "seq", 64]);
  assert.deepEqual(matMul(x, v).shape, ["batch", "seq"]);
  assert.deepEqual(matMul(v, w).shape, [64]);
  assert.deepEqual(matMul(q, k).shape, ["batch", 4, "seq", "seq"]);
  const a = g.input("a", "float32", [3, 5]);
  const b = g.input("b", "float32", [7, 5]);
  assert.deepEqual(g.op("Gemm", [a, b], { transB: 1 })[0].shape, [3, 7]);
  assert.throws(() => g.op("Gemm", [a, b]), /inner dimensions differ: \[3, 5\] × \[7, 5\]/);
  assert.throws(() => matMul(x, g.input("s", "float32", [])), /rank ≥ 1/);
});

Deno.test("Reshape rule resolves 0 and -1, including symbolic products", async (t) => {
  const g = new Graph("r");
  const x = g.input("x", "float32", [2, 3, 4]);
  const s = g.input("s", "float32", ["batch", "seq", 256]);
  const p = g.input("p", "float32", ["batch*seq", 256]);
  await t.step("fixed sizes", () => {
    assert.deepEqual(reshape(x, [0, -1]).shape, [2, 12]);
    assert.deepEqual(reshape(x, [-1]).shape, [24]);
    assert.deepEqual(reshape(x, [4, 0, -1]).shape, [4, 3, 2]);
    assert.deepEqual(reshape(x, [6, 4]).shape, [6, 4]);
  });
  await t.step("symbolic dims copied by 0 and folded into -1", () => {
    assert.deepEqual(reshape(s, [0, 0, 4, 64]).shape, ["batch", "seq", 4, 64]);
    assert.deepEqual(reshape(s, [0, 0, 4, -1]).shape, ["batch", "seq", 4, 64]);
    assert.deepEqual(reshape(s, [-1, 256]).shape, ["batch*seq", 256]);
    assert.deepEqual(reshape(s, [0, -1]).shape, ["batch", "256*seq"]);
    assert.deepEqual(reshape(s, [-1]).shape, ["256*batch*seq"]);
  });
  await t.step("a product symbol splits back when one factor is kept", () => {
    const back = reshape(p, [0, 4, 64]);
    assert.deepEqual(back.shape, ["batch*seq", 4, 64]);
    const g2 = new Graph("r2");
    const y = g2.input("y", "float32", ["batch", 6]);
    assert.deepEqual(reshape(y, [3, -1]).shape, [3, "2*batch"]);
  });
  await t.step("allowzero keeps a literal 0", () => {
    const e = g.input("e", "float32", [0, 3]);
    assert.deepEqual(g.op("Reshape", [e, ints(g, [3, 0])], { allowzero: 1 })[0].shape, [3, 0]);
  });
  await t.step("a run-time shape gives fresh symbols of the right rank", () => {
    const [r] = g.op("Reshape", [x, g.input("shape", "int64", [3])]);
    assert.equal(r.rank, 3);
    for (const d of r.shape) assert.equal(typeof d, "string");
    assert.throws(
      () => reshapeLike(x, g.input("shape2", "int64", ["n"])),
      /Reshape shape shape2: int64\[n\] has unknown length/,
    );
  });
  await t.step("mismatches are refused with both shapes", () => {
    assert.throws(
      () => reshape(x, [5, 5]),
      /Reshape: x: float32\[2, 3, 4\] has 24 elements, \[5, 5\] needs 25/,
    );
    assert.throws(() => reshape(x, [5, -1]), /Reshape: cannot reshape x: float32\[2, 3, 4\] to \[5, -1\]/);
    assert.throws(() => reshape(x, [-1, -1]), /more than one -1 in \[-1, -1\]/);
  });
});

Deno.test("Slice rule handles negative indices, steps, axes and symbolic dims", async (t) => {
  const g = new Graph("sl");
  const v = g.input("v", "float32", [10]);
  const m = g.input("m", "float32", [4, 6]);
  const s = g.input("s", "float32", ["batch", "seq", 8]);
  const cases: [string, () => unknown[], unknown[]][] = [
    ["tail", () => slice(v, [-3], [INT64_MAX]).shape, [3]],
    ["every other", () => slice(v, [1], [8], [0], [2]).shape, [4]],
    ["backwards by 3", () => slice(v, [8], [1], [0], [-3]).shape, [3]],
    ["reverse all", () => slice(v, [-1], [-INT64_MAX], [0], [-1]).shape, [10]],
    ["reverse from a start before the front", () => slice(v, [-1000], [-2000], [0], [-1]).shape, [1]],
    ["empty", () => slice(v, [5], [2]).shape, [0]],
    ["clamped end", () => slice(v, [7], [100]).shape, [3]],
    ["negative axis", () => slice(m, [1], [-1], [-1]).shape, [4, 4]],
    ["two axes", () => slice(m, [0, 5], [4, 0], [0, 1], [2, -2]).shape, [2, 3]],
    ["fixed count on a symbolic axis", () => slice(s, [0], [1], [1]).shape, ["batch", 1, 8]],
    ["whole symbolic axis", () => slice(s, [0], [INT64_MAX], [0]).shape, ["batch", "seq", 8]],
    ["empty count on a symbolic axis", () => slice(s, [5], [2], [1]).shape, ["batch", 0, 8]],
  ];
  for (const [name, got, expected] of cases) await t.step(name, () => assert.deepEqual(got(), expected));
  await t.step("an unknown extent on a symbolic axis becomes a fresh symbol", () => {
    const [d0, d1, d2] = slice(s, [1], [INT64_MAX], [1]).shape;
    assert.deepEqual([d0, d2], ["batch", 8]);
    assert.equal(typeof d1, "string");
    assert.notEqual(d1, "seq");
  });
  await t.step("an axis out of range names the rank", () => {
    assert.throws(() => slice(m, [0], [1], [2]), /Slice: axis 2 is out of range for rank 2/);
  });
});

Deno.test("Pad rule adds constant pads, keeps unpadded symbolic axes and names the rest afresh", () => {
  const g = new Graph("pad");
  const s = g.input("s", "float32", ["batch", "seq", 8]);
  assert.deepEqual(pad(s, [0, 0, 1, 0, 0, 2]).shape, ["batch", "seq", 11]);
  const [d0, d1, d2] = pad(s, [0, 1, 0, 0, 0, 0]).shape;
  assert.deepEqual([d0, d2], ["batch", 8]);
  assert.ok(typeof d1 === "string" && d1 !== "seq", `padded symbolic axis: ${d1}`);
  assert.throws(() => pad(s, [1, 1]), /Pad: 2 pads for s: float32\[batch, seq, 8\]/);
});

Deno.test("Squeeze, Unsqueeze, Transpose and Concat rules", async (t) => {
  const g = new Graph("sq");
  const x = g.input("x", "float32", [1, 3, 1]);
  const y = g.input("y", "float32", ["batch", 3]);
  await t.step("Squeeze", () => {
    assert.deepEqual(squeeze(x, [0]).shape, [3, 1]);
    assert.deepEqual(squeeze(x, [0, -1]).shape, [3]);
    assert.deepEqual(g.op("Squeeze", [x])[0].shape, [3]);
    assert.throws(() => squeeze(x, [1]), /Squeeze axis 1 of x: float32\[1, 3, 1\] is not 1/);
    assert.throws(() => squeeze(x, [3]), /axis 3 is out of range for rank 3/);
  });
  await t.step("Unsqueeze", () => {
    assert.deepEqual(unsqueeze(y, [0]).shape, [1, "batch", 3]);
    assert.deepEqual(unsqueeze(y, [1, -1]).shape, ["batch", 1, 3, 1]);
    assert.deepEqual(unsqueeze(y, [0, 1, 2, 3]).shape, [1, 1, 1, 1, "batch", 3]);
    assert.throws(() => unsqueeze(y, [4]), /axis 4 is out of range for rank 3/);
    assert.throws(
      () => g.op("Unsqueeze", [y, g.input("ax", "int64", [1])]),
      /Unsqueeze axes must be a constant/,
    );
  });
  await t.step("Transpose", () => {
    const z = g.input("z", "float32", ["batch", "seq", 4, 64]);
    assert.deepEqual(transpose(z, [0, 2, 1, 3]).shape, ["batch", 4, "seq", 64]);
    assert.deepEqual(g.op("Transpose", [y])[0].shape, [3, "batch"]);
    assert.throws(
      () => transpose(z, [0, 1, 2]),
      /Transpose perm \[0,1,2\] does not fit z: float32\[batch, seq, 4, 64\]/,
    );
    assert.throws(() => transpose(z, [0, 1, 1, 3]), /does not fit/);
    const big = g.input("big", "float32", Array.from({ length: 11 }, (_, i) => i + 1));
    const perm = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
    assert.deepEqual(transpose(big, perm).shape, perm.map((p) => p + 1));
  });
  await t.step("Concat", () => {
    const a = g.input("a", "float32", [2, 3]);
    const b = g.input("b", "float32", [2, 1]);
    const c = g.input("c", "float32", [5, 3]);
    assert.deepEqual(concat([a, b], 1).shape, [2, 4]);
    assert.deepEqual(concat([a, b, a], -1).shape, [2, 7]);
    assert.deepEqual(concat([a, c], 0).shape, [7, 3]);
    assert.deepEqual(concat([y, y], 1).shape, ["batch", 6]);
    assert.deepEqual(concat([y, a], 0).shape, ["batch+2", 3]);
    assert.throws(
      () => concat([a, c], 1),
      /Concat shapes differ off axis 1: a: float32\[2, 3\], c: float32\[5, 3\]/,
    );
    assert.throws(() => concat([a, g.input("r", "float32", [3])], 0), /Concat ranks differ/);
    assert.throws(() => concat([a, g.input("i", "int64", [2, 3])], 0), /differ in type/);
  });
});

Deno.test("Gather, GatherElements, Where, Cast and reduction rules", async (t) => {
  const g = new Graph("ga");
  const emb = g.input("emb", "float32", [35000, 128]);
  const ids = g.input("ids", "int64", ["batch", "seq"]);
  await t.step("Gather", () => {
    assert.deepEqual(gather(emb, ids).shape, ["batch", "seq", 128]);
    const x = g.input("x", "float32", [2, 3, 4]);
    assert.deepEqual(gather(x, g.input("j", "int32", [5]), 1).shape, [2, 5, 4]);
    assert.deepEqual(gather(x, g.input("k", "int64", []), -1).shape, [2, 3]);
    assert.throws(
      () => gather(emb, g.input("f", "float32", [2])),
      /Gather indices must be integers, got f: float32\[2\]/,
    );
    assert.throws(() => gather(emb, ids, 2), /Gather: axis 2 is out of range for rank 2/);
  });
  await t.step("GatherElements", () => {
    const l = g.input("l", "float32", ["batch", 5]);
    const i = g.input("i", "int64", ["batch", 1]);
    assert.deepEqual(g.op("GatherElements", [l, i], { axis: 1 })[0].shape, ["batch", 1]);
    assert.throws(() => g.op("GatherElements", [l, g.input("i1", "int64", [3])]), /ranks differ/);
  });
  await t.step("Where", () => {
    const c = g.input("c", "bool", ["batch", 1]);
    const a = g.input("a", "float32", ["batch", "seq"]);
    assert.deepEqual(where(c, a, 0).shape, ["batch", "seq"]);
    assert.throws(() => where(a, a, a), /Where condition must be bool, got a: float32\[batch, seq\]/);
  });
  await t.step("Cast", () => {
    assert.deepEqual(g.op("Cast", [ids], { to: 1 })[0].dtype, "float32");
    assert.throws(() => g.op("Cast", [ids], { to: 8 }), /Unsupported ONNX data type 8/);
  });
  await t.step("reductions", () => {
    const x = g.input("rx", "float32", ["batch", "seq", 4]);
    assert.deepEqual(reduceSum(x, [-1]).shape, ["batch", "seq"]);
    assert.deepEqual(reduceSum(x, [-1], true).shape, ["batch", "seq", 1]);
    assert.deepEqual(reduceMean(x, [0, 2], true).shape, [1, "seq", 1]);
    assert.deepEqual(reduceSum(x).shape, []);
    assert.deepEqual(reduceSum(x, [], true).shape, [1, 1, 1]);
    assert.deepEqual(g.op("ReduceMax", [x], { axes: [1], keepdims: 0 })[0].shape, ["batch", 4]);
    assert.deepEqual(g.op("ReduceSum", [x], { noop_with_empty_axes: 1 })[0].shape, ["batch", "seq", 4]);
    assert.throws(() => reduceSum(x, [3]), /axis 3 is out of range for rank 3/);
    assert.throws(
      () => g.op("ReduceSum", [x, g.input("ax", "int64", [1])]),
      /reduction axes must be a constant/,
    );
  });
  await t.step("LayerNormalization checks scale and bias against the normalised shape", () => {
    const x = g.input("lx", "float32", ["batch", "seq", 256]);
    const ok = g.op("LayerNormalization", [
      x,
      g.input("sc", "float32", [256]),
      g.input("bi", "float32", [256]),
    ]);
    assert.deepEqual(ok.map((v) => v.shape), [["batch", "seq", 256], ["batch", "seq", 1], [
      "batch",
      "seq",
      1,
    ]]);
    assert.throws(
      () => g.op("LayerNormalization", [x, g.input("bad", "float32", [128])]),
      /LayerNormalization_\d+: cannot broadcast \[256\] with \[128\]/,
    );
  });
});

Deno.test("inferTypes() knows the ops the project uses", () => {
  for (
    const op of ["MatMul", "Gelu", "LayerNormalization", "Softmax", "Gather", "ScatterND", "Where", "Slice"]
  ) {
    assert.ok(KNOWN_OPS.includes(op), op);
  }
  const g = new Graph("k");
  const x = g.input("x", "float32", [2]);
  assert.deepEqual(inferTypes("Shape", [x], {}, g), [{ dtype: "int64", shape: [1] }]);
  assert.deepEqual(inferTypes("Shape", [g.input("y", "float32", [2, 3, 4])], { start: -2 }, g)[0].shape, [2]);
  assert.deepEqual(inferTypes("IsNaN", [x], {}, g), [{ dtype: "bool", shape: [2] }]);
  assert.deepEqual(
    inferTypes("ConstantOfShape", [g.constant(tensor("int64", [2], [3, 4]))], {
      value: tensor("int64", [1], [0]),
    }, g),
    [{ dtype: "int64", shape: [3, 4] }],
  );
});
