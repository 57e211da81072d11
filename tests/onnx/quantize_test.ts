import assert from "node:assert/strict";
import { DataType, decodeModel, encodeModel, type ModelProto, type TensorProto } from "../../onnx/proto.ts";
import {
  float16Bits,
  float16Value,
  float16Weights,
  INT8_COMPUTE_QMAX,
  int8Compute,
  int8Weights,
  quantizeInt8,
} from "../../onnx/quantize.ts";
import { Graph } from "../../onnx/graph.ts";
import { openSession, type Provider } from "../../onnx/runtime.ts";
import { tensor } from "../../onnx/tensor.ts";

Deno.test("float16Bits() rounds to nearest even, with hand-computed bit patterns", () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66], // 0.0999755859375, the nearer of 0x2e66/0x2e67
    [65504, 0x7bff], // largest finite half
    [65519, 0x7bff], // below the midpoint to 65536 stays finite
    [65520, 0x7c00], // the midpoint rounds (to even) to Infinity
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // a tie between 0 and 2^-24: even is 0
    [3 * 2 ** -26, 0x0001], // 0.75 × 2^-24 rounds up
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even mantissa 0
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even
    [1 - 2 ** -12, 0x3c00], // tie between 0x3bff and 1: the carry out of the mantissa bumps the exponent
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ];
  for (const [x, h] of cases) assert.equal(float16Bits(x), h, `${x} → 0x${h.toString(16)}`);
  assert.equal(float16Bits(NaN) & 0x7e00, 0x7e00, "NaN stays NaN");
});

Deno.test("float16Value() inverts float16Bits() on every finite half", () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00) continue; // Infinity and NaN
    assert.equal(float16Bits(float16Value(h)), h, `0x${h.toString(16)}`);
  }
  assert.equal(float16Value(0x3555), 0.333251953125);
});

Deno.test("quantizeInt8() scales per channel by max |w| / 127", () => {
  const w = Float32Array.of(1, -1.5, 0.25, 4); // [[1, -1.5], [0.25, 4]]
  const cols = quantizeInt8(w, [2, 2], 1);
  assert.deepEqual(Array.from(cols.scale), [1 / 127, 4 / 127].map(Math.fround));
  assert.deepEqual(Array.from(cols.q), [127, -48, 32, 127]); // -1.5·127/4 = -47.6 → -48; 0.25·127 = 31.75 → 32
  const rows = quantizeInt8(w, [2, 2], 0);
  assert.deepEqual(Array.from(rows.scale), [1.5 / 127, 4 / 127].map(Math.fround));
  assert.deepEqual(Array.from(rows.q), [85, -127, 8, 127]); // 127/1.5 = 84.7 → 85; 0.25·127/4 = 7.9 → 8
  assert.deepEqual(
    Array.from(quantizeInt8(new Float32Array(2), [1, 2], 1).scale),
    [1, 1],
    "all-zero channels get scale 1",
  );
});

/** The model with every picked float initializer replaced by `f(values, tensor)`, still float32. */
function withValues(
  model: ModelProto,
  pick: (t: TensorProto) => boolean,
  f: (v: Float32Array, t: TensorProto) => Float32Array,
): ModelProto {
  const initializer = model.graph!.initializer!.map((t) => {
    if (t.dataType !== DataType.FLOAT || !pick(t)) return t;
    const raw = t.rawData!.slice();
    const out = f(new Float32Array(raw.buffer, 0, raw.length / 4), t);
    return { ...t, rawData: new Uint8Array(out.buffer) };
  });
  return { ...model, graph: { ...model.graph, initializer } };
}

Deno.test("float16/int8 weight storage: smaller files computing exactly with the rounded weights, on cpu and wasm", async () => {
  const bytes = await Deno.readFile("fixtures/ner-tiny/inference.onnx");
  const model = decodeModel(bytes);
  const size = (t: TensorProto) => (t.dims ?? []).reduce((a, d) => a * d, 1);
  const half = encodeModel(float16Weights(model, { minElements: 16 }));
  const int8 = encodeModel(int8Weights(model, { minElements: 16 }));
  assert.ok(half.length < 0.6 * bytes.length, `fp16 ${half.length} vs ${bytes.length} bytes`);
  assert.ok(int8.length < 0.4 * bytes.length, `int8 ${int8.length} vs ${bytes.length} bytes`);
  const ops = (b: Uint8Array) => new Set(decodeModel(b).graph!.node!.map((n) => n.opType));
  assert.ok(ops(half).has("Cast") && ops(int8).has("Mul"));
  // References: float32 models holding the values the stored weights decode to.
  const halfRef = encodeModel(
    withValues(model, (t) => size(t) >= 16, (v) => v.map((x) => float16Value(float16Bits(x)))),
  );
  const gathered = new Set(model.graph!.node!.filter((n) => n.opType === "Gather").map((n) => n.input![0]));
  const int8Ref = encodeModel(
    withValues(model, (t) => (t.dims ?? []).length === 2 && size(t) >= 16, (v, t) => {
      const { q, scale } = quantizeInt8(v, t.dims!, gathered.has(t.name!) ? 0 : 1);
      const cols = t.dims![1];
      return Float32Array.from(
        q,
        (x, i) => x * scale[gathered.has(t.name!) ? Math.floor(i / cols) : i % cols],
      );
    }),
  );
  const feeds = {
    input_ids: tensor("int64", [2, 5], [2, 7, 9, 11, 3, 2, 8, 3, 0, 0]),
    attention_mask: tensor("int64", [2, 5], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
    token_type_ids: tensor("int64", [2, 5], new Array(10).fill(0)),
  };
  for (const provider of ["cpu", "wasm"] as Provider[]) {
    const logits = async (b: Uint8Array) => {
      const s = await openSession(b, { provider });
      try {
        return Array.from((await s.run(feeds)).logits.data as Float32Array);
      } finally {
        await s.release();
      }
    };
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    const [f32, h, hRef, q, qRef] = await Promise.all([bytes, half, halfRef, int8, int8Ref].map(logits));
    assert.ok(maxDiff(h, hRef) < 1e-5, `${provider}: fp16 graph vs rounded weights ${maxDiff(h, hRef)}`);
    assert.ok(maxDiff(q, qRef) < 1e-5, `${provider}: int8 graph vs dequantised weights ${maxDiff(q, qRef)}`);
    assert.ok(maxDiff(h, f32) > 0 && maxDiff(q, f32) > 0, "the weights really changed");
  }
});

/** Deterministic values in [-1, 1) (a small LCG), so the reference below sees the same inputs as ORT. */
function lcg(n: number, seed: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 31) - 1);
}

/**
 * ONNX Runtime's `DynamicQuantizeMatMul` by hand: `DynamicQuantizeLinear` of `a` over the whole tensor
 * (scale = (max(0, max a) − min(0, min a)) / 255, zero point = round(−min / scale), rounding half to even),
 * an integer product with the (7-bit) int8 weight, then × scale_a · scale_w[col] + bias.
 */
function dynamicQuantizeMatMulRef(
  a: Float32Array,
  k: number,
  w: Float32Array,
  n: number,
  bias?: Float32Array,
): Float32Array {
  const f = Math.fround;
  const even = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
  const lo = Math.min(0, ...a), hi = Math.max(0, ...a);
  const sa = f((hi - lo) / 255);
  const zp = Math.max(0, Math.min(255, even(f(-lo / sa))));
  const aq = Array.from(a, (x) => Math.max(0, Math.min(255, even(f(x / sa)) + zp)));
  const { q, scale } = quantizeInt8(w, [k, n], 1, INT8_COMPUTE_QMAX);
  const m = a.length / k;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let t = 0; t < k; t++) acc += (aq[i * k + t] - zp) * q[t * n + j];
      out[i * n + j] = acc * sa * scale[j] + (bias ? bias[j] : 0);
    }
  }
  return out;
}

Deno.test("int8Compute(): MatMul and Gemm weights become DynamicQuantizeMatMul, equal to the hand-computed integer product", async () => {
  // x (2, 3, 8) → MatMul W1 (8, 16) → reshape (6, 16) → Gemm W2 (16, 4) + b2; a tiny Gemm weight stays float.
  const g = new Graph("int8");
  const x = g.input("x", "float32", [2, 3, 8]);
  const w1 = lcg(8 * 16, 1), w2 = lcg(16 * 4, 2), b2 = lcg(4, 3), w3 = lcg(4 * 2, 4);
  const h = g.op("MatMul", [x, g.initializer("w1", tensor("float32", [8, 16], w1))])[0];
  const h2 = g.op("Reshape", [h, g.constant(tensor("int64", [2], [6, 16]))])[0];
  const y = g.op("Gemm", [
    h2,
    g.initializer("w2", tensor("float32", [16, 4], w2)),
    g.initializer("b2", tensor("float32", [4], b2)),
  ])[0];
  g.output(y, "y");
  g.output(g.op("Gemm", [y, g.initializer("w3", tensor("float32", [4, 2], w3))])[0], "z");
  const model = decodeModel(g.toBytes());
  const q = int8Compute(model, { minElements: 16 });
  const ops = q.graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === "DynamicQuantizeMatMul").length, 2);
  assert.equal(
    ops.filter((o) => o === "Gemm").length,
    1,
    "the 4×2 weight (8 elements < 16) stays a float Gemm",
  );
  assert.ok(q.opsetImport!.some((o) => o.domain === "com.microsoft"));
  assert.ok(
    !q.graph!.initializer!.some((t) => t.name === "w1" || t.name === "w2"),
    "no float copy of the quantised weights",
  );

  const xs = lcg(2 * 3 * 8, 5);
  const s = await openSession(encodeModel(q), { provider: "cpu" });
  const f = await openSession(g.toBytes(), { provider: "cpu" });
  try {
    const got = (await s.run({ x: tensor("float32", [2, 3, 8], xs) }, ["y"])).y.data as Float32Array;
    const exact = (await f.run({ x: tensor("float32", [2, 3, 8], xs) }, ["y"])).y.data as Float32Array;
    // The reference chains the two quantised products as ORT runs them (the Gemm quantises the MatMul's output).
    const hRef = dynamicQuantizeMatMulRef(xs, 8, w1, 16);
    const yRef = dynamicQuantizeMatMulRef(hRef, 16, w2, 4, b2);
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    assert.ok(maxDiff(got, yRef) < 1e-4, `int8 graph vs hand-computed ${maxDiff(got, yRef)}`);
    // Against float32: within 2% of the output range (7-bit weights, 8-bit activations, two layers).
    const err = maxDiff(got, exact), range = Math.max(...Array.from(exact, Math.abs));
    assert.ok(
      err > 0 && err < 0.02 * range,
      `int8 vs float32: ${err} of ${range} (rounding of weights and activations)`,
    );
  } finally {
    await s.release();
    await f.release();
  }
});
