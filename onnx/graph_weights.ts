/**
 * The float32 weights stored in a finished inference graph, read back out of its initializers: plain float
 * initializers as they are, and the stored forms `quantize.ts` writes turned back into float32 —
 * `NAME.int8` · `NAME.scale` (int8 storage, and `int8Compute`'s `DynamicQuantizeMatMul` weights with their
 * zero `NAME.zero_point`) and `NAME.fp16`. This lets a model folder that ships only `inference.onnx` be
 * fine-tuned further or exported: for int8 storage the values are exactly those the graph computes with
 * (ONNX Runtime folds the same `Cast`·`Mul` into float32), not the float weights before quantisation.
 * @module
 */
import { DataType, type ModelProto, type TensorProto } from "./proto.ts";
import { float16Value } from "./quantize.ts";
import type { Tensor } from "./tensor.ts";

/** What `graphWeights` found: float32 tensors by name, and which of them were stored int8 or float16. */
export interface GraphWeights {
  tensors: Record<string, Tensor>;
  /** Names of tensors read from int8 storage (dequantised: q · scale). */
  int8: string[];
  /** Names of tensors read from float16 storage. */
  float16: string[];
}

function bytes(t: TensorProto): Uint8Array {
  // An aligned copy: protobufjs may hand out a Node Buffer view at an odd offset.
  const copy = new Uint8Array(t.rawData?.length ?? 0);
  if (t.rawData) copy.set(t.rawData);
  return copy;
}

function floats(t: TensorProto): Float32Array {
  return t.rawData?.length ? new Float32Array(bytes(t).buffer) : Float32Array.from(t.floatData ?? []);
}

function int8s(t: TensorProto): Int8Array {
  return t.rawData?.length ? new Int8Array(bytes(t).buffer) : Int8Array.from(t.int32Data ?? []);
}

const dimsOf = (t: TensorProto) => (t.dims ?? []).map(Number);

/** The float32 weights of `model` (see the module doc); `where` names the file in errors. */
export function graphWeights(model: ModelProto, where = "inference graph"): GraphWeights {
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? "", t]));
  const out: GraphWeights = { tensors: {}, int8: [], float16: [] };
  for (const [name, t] of inits) {
    if (t.dataType === DataType.FLOAT && !name.endsWith(".scale")) {
      out.tensors[name] = { dtype: "float32", dims: dimsOf(t), data: floats(t) };
    } else if (t.dataType === DataType.FLOAT16 && name.endsWith(".fp16")) {
      const half = new Uint16Array(bytes(t).buffer);
      out.tensors[name.slice(0, -5)] = {
        dtype: "float32",
        dims: dimsOf(t),
        data: Float32Array.from(half, float16Value),
      };
      out.float16.push(name.slice(0, -5));
    } else if (t.dataType === DataType.INT8 && name.endsWith(".int8")) {
      const base = name.slice(0, -5);
      const s = inits.get(`${base}.scale`);
      if (!s) throw new Error(`${where}: "${name}" has no "${base}.scale" beside it`);
      const zero = inits.get(`${base}.zero_point`);
      if (zero && int8s(zero).some((z) => z !== 0)) {
        throw new Error(`${where}: "${base}.zero_point" is not zero (only symmetric int8 is read)`);
      }
      const dims = dimsOf(t), scale = floats(s), q = int8s(t);
      const [rows, cols] = dims;
      // Per-row scales are stored (rows, 1) for embedding tables, per-column ones (cols) for (in, out) weights.
      const perRow = dimsOf(s).length === 2;
      if (dims.length !== 2 || scale.length !== (perRow ? rows : cols)) {
        throw new Error(`${where}: "${base}.scale" (${dimsOf(s)}) does not fit "${name}" (${dims})`);
      }
      const w = new Float32Array(q.length);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) w[r * cols + c] = q[r * cols + c] * scale[perRow ? r : c];
      }
      out.tensors[base] = { dtype: "float32", dims, data: w };
      out.int8.push(base);
    }
  }
  // Scales are read with their int8 tensor; a float ".scale" initializer alone is an ordinary weight.
  for (const [name, t] of inits) {
    if (name.endsWith(".scale") && t.dataType === DataType.FLOAT && !inits.has(name.slice(0, -6) + ".int8")) {
      out.tensors[name] = { dtype: "float32", dims: dimsOf(t), data: floats(t) };
    }
  }
  return out;
}
