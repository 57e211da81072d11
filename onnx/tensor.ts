/**
 * Plain tensors (`{dtype, dims, data}`) shared by the builder, safetensors I/O and the runtime adapter,
 * and their conversion to and from `TensorProto`.
 * @module
 */
import { DataType, type TensorProto } from "./proto.ts";

/** Element types this project uses. */
export type DType = "float32" | "float64" | "float16" | "int32" | "int64" | "int8" | "uint8" | "bool";

/** Typed array backing a tensor of each dtype (`float16` is stored as raw `Uint16Array` bits). */
export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/** A dense, row-major tensor. */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TypedArray;
}

const ONNX_TYPE: Record<DType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  float16: DataType.FLOAT16,
  int32: DataType.INT32,
  int64: DataType.INT64,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

/** ONNX `DataType` number of a dtype. */
export function onnxType(dtype: DType): number {
  return ONNX_TYPE[dtype];
}

/** Dtype of an ONNX `DataType` number; throws for types this project does not handle. */
export function dtypeOf(onnxTypeNumber: number, where = ""): DType {
  for (const [k, v] of Object.entries(ONNX_TYPE)) if (v === onnxTypeNumber) return k as DType;
  throw new Error(`Unsupported ONNX data type ${onnxTypeNumber}${where ? ` in ${where}` : ""}`);
}

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return { float32: 4, float64: 8, float16: 2, int32: 4, int64: 8, int8: 1, uint8: 1, bool: 1 }[dtype];
}

/** Number of elements of a static shape. */
export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Allocates a zero-filled typed array for `size` elements of `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "float16":
      return new Uint16Array(size);
    case "int32":
      return new Int32Array(size);
    case "int64":
      return new BigInt64Array(size);
    case "int8":
      return new Int8Array(size);
    case "uint8":
    case "bool":
      return new Uint8Array(size);
  }
}

/** Wraps little-endian bytes as a typed array of `dtype` (copies only when unaligned). */
export function fromBytes(dtype: DType, bytes: Uint8Array): TypedArray {
  const size = itemSize(dtype);
  if (bytes.byteLength % size !== 0) {
    throw new Error(`Cannot view ${bytes.byteLength} bytes as ${dtype}: not a multiple of ${size}`);
  }
  // `new Uint8Array(bytes)` copies even when `bytes` is a Node Buffer, whose `slice()` is only a view.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  const n = aligned.byteLength / size;
  const { buffer, byteOffset } = aligned;
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, byteOffset, n);
    case "float64":
      return new Float64Array(buffer, byteOffset, n);
    case "float16":
      return new Uint16Array(buffer, byteOffset, n);
    case "int32":
      return new Int32Array(buffer, byteOffset, n);
    case "int64":
      return new BigInt64Array(buffer, byteOffset, n);
    case "int8":
      return new Int8Array(buffer, byteOffset, n);
    case "uint8":
    case "bool":
      return new Uint8Array(buffer, byteOffset, n);
  }
}

/** The raw little-endian bytes of a typed array (a view, no copy). */
export function toBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Makes a tensor from numbers, checking that the element count matches the shape. */
export function tensor(dtype: DType, dims: number[], values: ArrayLike<number> | ArrayLike<bigint>): Tensor {
  const data = allocate(dtype, sizeOf(dims));
  if (values.length !== data.length) {
    throw new Error(
      `tensor(): ${values.length} values do not fill shape [${dims.join(", ")}] (${data.length})`,
    );
  }
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) {
      const v = BigInt(values[i]);
      data[i] = v;
      if (data[i] !== v) {
        throw new Error(`tensor(): ${values[i]} does not fit int64 (a BigInt64Array would wrap it)`);
      }
    }
  } else {
    for (let i = 0; i < values.length; i++) data[i] = Number(values[i]);
  }
  return { dtype, dims: [...dims], data };
}

/** Reads element `i` as a JS number (int64 converted). */
export function at(t: Tensor, i: number): number {
  return Number(t.data[i]);
}

/** Converts a tensor to a `TensorProto` with `raw_data` (the compact form ONNX Runtime reads fastest). */
export function tensorToProto(name: string, t: Tensor): TensorProto {
  return { dims: [...t.dims], dataType: onnxType(t.dtype), name, rawData: toBytes(t.data).slice() };
}

/** Converts a `TensorProto` (raw_data or typed fields) to a tensor. */
export function tensorFromProto(p: TensorProto, where = ""): Tensor {
  const label = p.name ? `tensor "${p.name}"` : where || "tensor";
  const dtype = dtypeOf(p.dataType ?? 0, label);
  const dims = (p.dims ?? []).map(Number);
  const n = sizeOf(dims);
  let data: TypedArray;
  if (p.rawData && p.rawData.byteLength > 0) {
    try {
      data = fromBytes(dtype, p.rawData);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    }
  } else {
    const src = dtype === "float32"
      ? p.floatData
      : dtype === "float64"
      ? p.doubleData
      : dtype === "int64"
      ? p.int64Data
      : p.int32Data;
    data = allocate(dtype, (src ?? []).length);
    if (data instanceof BigInt64Array) (src ?? []).forEach((v, i) => (data[i] = BigInt(v)));
    else (src ?? []).forEach((v, i) => (data[i] = v));
  }
  if (data.length !== n) {
    throw new Error(
      `${label} has ${data.length} elements but shape [${dims.join(", ")}] needs ${n}`,
    );
  }
  return { dtype, dims, data };
}
