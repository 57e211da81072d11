/**
 * Smaller weight storage for a finished inference graph, with the computation left in float32:
 * `float16Weights` stores large float initializers as IEEE half floats followed by a `Cast` back to float,
 * `int8Weights` stores 2-D weights as symmetric per-channel int8 followed by `Cast` and `Mul` by the scales.
 * Both are standard ONNX (no contrib ops), so the same file runs on every execution provider; ONNX Runtime
 * folds these constant subgraphs into float32 initializers when the session opens.
 * @module
 */
import { AttributeType, DataType, type ModelProto, type NodeProto, type TensorProto } from "./proto.ts";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of `x`, rounded to nearest even (overflow → ±Infinity, NaN kept NaN). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: the value is m × 2^-24 with m = (1.mant) shifted right by 14 − e.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rem = full & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** The number whose binary16 bits are `h`. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Options of the weight-storage transforms. */
export interface WeightStorageOptions {
  /** Initializers with fewer elements stay float32 (biases and LayerNorm parameters cost little). */
  minElements?: number;
}

function floatValues(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length) {
    // A fresh aligned copy: protobufjs may hand out a Node Buffer, whose slice() is an unaligned view.
    const copy = new Uint8Array(t.rawData.length);
    copy.set(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

const count = (t: TensorProto) => (t.dims ?? []).reduce((a, d) => a * Number(d), 1);

function bytesOf(a: Uint16Array | Int8Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A `Cast` of `input` to float named after the weight it produces. */
function castToFloat(input: string, output: string, weight: string): NodeProto {
  return {
    opType: "Cast",
    input: [input],
    output: [output],
    name: `${weight}/Cast`,
    attribute: [{ name: "to", type: AttributeType.INT, i: DataType.FLOAT }],
  };
}

/** Rewrites `model.graph`: each picked float initializer becomes stored data plus nodes producing the original name. */
function rewrite(
  model: ModelProto,
  pick: (t: TensorProto) => boolean,
  convert: (t: TensorProto, values: Float32Array) => { initializers: TensorProto[]; nodes: NodeProto[] },
): ModelProto {
  const graph = model.graph ?? {};
  const kept: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT || !pick(t)) {
      kept.push(t);
      continue;
    }
    const r = convert(t, floatValues(t));
    kept.push(...r.initializers);
    nodes.push(...r.nodes);
  }
  return { ...model, graph: { ...graph, initializer: kept, node: [...nodes, ...(graph.node ?? [])] } };
}

/** The model with float initializers of ≥ `minElements` (default 1024) stored as float16 and cast back to float. */
export function float16Weights(model: ModelProto, options: WeightStorageOptions = {}): ModelProto {
  const min = options.minElements ?? 1024;
  return rewrite(model, (t) => count(t) >= min, (t, values) => {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = float16Bits(values[i]);
    const stored = `${t.name}.fp16`;
    return {
      initializers: [{ name: stored, dims: t.dims, dataType: DataType.FLOAT16, rawData: bytesOf(half) }],
      nodes: [castToFloat(stored, t.name!, t.name!)],
    };
  });
}

/**
 * Symmetric int8 quantisation of `values` (shape `dims`, 2-D) with one scale per index of `axis`:
 * scale = max|w| / qmax over the channel (qmax 127, or 63 for 7-bit "reduced range"), q = round(w / scale).
 * Returns the int8 data and the scales.
 */
export function quantizeInt8(
  values: Float32Array,
  dims: readonly number[],
  axis: 0 | 1,
  qmax = 127,
): { q: Int8Array; scale: Float32Array } {
  const [rows, cols] = dims;
  const channels = axis === 0 ? rows : cols;
  const scale = new Float32Array(channels);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const ch = axis === 0 ? r : c;
      scale[ch] = Math.max(scale[ch], Math.abs(values[r * cols + c]));
    }
  }
  for (let ch = 0; ch < channels; ch++) scale[ch] = scale[ch] > 0 ? scale[ch] / qmax : 1;
  const q = new Int8Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = scale[axis === 0 ? r : c];
      q[r * cols + c] = Math.max(-qmax, Math.min(qmax, Math.round(values[r * cols + c] / s)));
    }
  }
  return { q, scale };
}

/**
 * The model with 2-D float initializers of ≥ `minElements` (default 4096) stored as int8 with a float scale
 * per channel — per row for tables read by `Gather` (embeddings), per output column for MatMul/Gemm weights
 * (stored (in, out)) — and turned back into float32 by `Cast` and `Mul`. Not `DequantizeLinear`: with it,
 * ONNX Runtime's CPU optimiser fuses the weights' dequantisation into integer MatMuls that also quantise
 * the activations (measured: logits off by 1.1 on the fixture), whereas `Cast`·`Mul` of constants is folded
 * into a float32 initializer when the session opens, so the model computes exactly with the stored weights.
 */
export function int8Weights(model: ModelProto, options: WeightStorageOptions = {}): ModelProto {
  const min = options.minElements ?? 4096;
  const gathered = new Set(
    (model.graph?.node ?? []).filter((n) => n.opType === "Gather").map((n) => n.input?.[0]),
  );
  return rewrite(model, (t) => (t.dims ?? []).length === 2 && count(t) >= min, (t, values) => {
    const axis = gathered.has(t.name) ? 0 : 1;
    const dims = (t.dims ?? []).map(Number);
    const { q, scale } = quantizeInt8(values, dims, axis);
    const base = t.name!;
    // Per-row scales broadcast as (rows, 1), per-column ones as (cols).
    const scaleDims = axis === 0 ? [scale.length, 1] : [scale.length];
    return {
      initializers: [
        { name: `${base}.int8`, dims, dataType: DataType.INT8, rawData: bytesOf(q) },
        { name: `${base}.scale`, dims: scaleDims, dataType: DataType.FLOAT, rawData: bytesOf(scale) },
      ],
      nodes: [
        castToFloat(`${base}.int8`, `${base}.unscaled`, base),
        { opType: "Mul", input: [`${base}.unscaled`, `${base}.scale`], output: [base], name: `${base}/Mul` },
      ],
    };
  });
}

/** Largest weight magnitude `int8Compute` stores (7 bits; see there). */
export const INT8_COMPUTE_QMAX = 63;

/** Gemm attributes that `DynamicQuantizeMatMul` can stand in for: alpha = beta = 1, no transposes. */
function plainGemm(n: NodeProto): boolean {
  const attr = (name: string, dflt: number) => {
    const a = (n.attribute ?? []).find((x) => x.name === name);
    return a ? (a.type === AttributeType.FLOAT ? a.f ?? 0 : Number(a.i ?? 0)) : dflt;
  };
  return attr("alpha", 1) === 1 && attr("beta", 1) === 1 && attr("transA", 0) === 0 &&
    attr("transB", 0) === 0;
}

/**
 * int8 *computation* for CPU inference: every `MatMul` and plain `Gemm` whose weight (input B, stored
 * (in, out)) is a 2-D float initializer of ≥ `minElements` becomes ONNX Runtime's contrib
 * `com.microsoft.DynamicQuantizeMatMul`: the weight as int8 with a scale per output column (as
 * `int8Weights`), the activations quantised to uint8 per tensor at run time, the product in integers
 * (MLAS u8×s8 kernels), then scaled back to float and the bias added. Other large weights (embeddings,
 * attention's packed QKV) keep `int8Weights`'s storage with float computation. The weights use 7 bits
 * (±63, ORT's "reduce_range"): MLAS's AVX2 u8×s8 kernel sums pairs of products in int16, and 2·255·127
 * overflows it (measured: rows off by up to 1.6 against the exact integer product; 2·255·63 fits).
 * Changes the logits (the rounding of weights and activations): measure the F1 of a model before shipping
 * it this way. CPU execution provider only (a contrib op): give it as a variant beside the float graph.
 */
export function int8Compute(model: ModelProto, options: WeightStorageOptions = {}): ModelProto {
  const min = options.minElements ?? 4096;
  const graph = model.graph ?? {};
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const quantizable = (n: NodeProto) => {
    const w = inits.get(n.input?.[1] ?? "");
    return (n.opType === "MatMul" || (n.opType === "Gemm" && plainGemm(n))) && !n.domain && w !== undefined &&
      w.dataType === DataType.FLOAT && (w.dims ?? []).length === 2 && count(w) >= min &&
      (n.opType === "MatMul" || (n.input ?? []).length < 3 ||
        (inits.get(n.input![2])?.dims ?? []).length === 1);
  };
  // Weights read by anything else too stay float-computed (quantised storage only).
  const uses = new Map<string, NodeProto[]>();
  for (const n of graph.node ?? []) {
    for (const i of n.input ?? []) uses.has(i) ? uses.get(i)!.push(n) : uses.set(i, [n]);
  }
  const target = new Set(
    (graph.node ?? []).filter((n) => quantizable(n) && uses.get(n.input![1])!.every(quantizable)).map((n) =>
      n.input![1]
    ),
  );
  const added: TensorProto[] = [];
  for (const name of target) {
    const t = inits.get(name)!;
    const dims = (t.dims ?? []).map(Number);
    const { q, scale } = quantizeInt8(floatValues(t), dims, 1, INT8_COMPUTE_QMAX);
    added.push(
      { name: `${name}.int8`, dims, dataType: DataType.INT8, rawData: bytesOf(q) },
      { name: `${name}.scale`, dims: [dims[1]], dataType: DataType.FLOAT, rawData: bytesOf(scale) },
      {
        name: `${name}.zero_point`,
        dims: [dims[1]],
        dataType: DataType.INT8,
        rawData: new Uint8Array(dims[1]),
      },
    );
  }
  const nodes = (graph.node ?? []).map((n): NodeProto => {
    const w = n.input?.[1];
    if (!w || !target.has(w)) return n;
    const inputs = [
      n.input![0],
      `${w}.int8`,
      `${w}.scale`,
      `${w}.zero_point`,
      ...(n.opType === "Gemm" && n.input![2] ? [n.input![2]] : []),
    ];
    return {
      opType: "DynamicQuantizeMatMul",
      domain: "com.microsoft",
      input: inputs,
      output: n.output,
      name: `${n.name ?? w}/int8`,
    };
  });
  const rest: ModelProto = {
    ...model,
    graph: {
      ...graph,
      node: nodes,
      initializer: [...(graph.initializer ?? []).filter((t) => !target.has(t.name!)), ...added],
    },
  };
  const opsets = model.opsetImport ?? [];
  const withMs = opsets.some((o) => o.domain === "com.microsoft")
    ? opsets
    : [...opsets, { domain: "com.microsoft", version: 1 }];
  return int8Weights({ ...rest, opsetImport: withMs }, options);
}
