/**
 * Safetensors I/O (the Hugging Face weight format) on plain tensors, byte-compatible with the reference
 * Rust writer: an 8-byte little-endian header length, a compact JSON header (`__metadata__` first, then
 * tensors in descending dtype-alignment order and by name within a dtype, which is name order for the
 * usual all-F32 checkpoint), space padding to 8 bytes, then the tensor data back to back in that order.
 * Browser-safe: bytes in, bytes out; file access lives in the callers.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * import { tensor } from "./tensor.ts";
 * const bytes = encodeSafetensors({ w: tensor("float32", [2], [1, 2]) }, { format: "pt" });
 * const { tensors, metadata } = decodeSafetensors(bytes, "demo.safetensors");
 * if (tensors.w.data[1] !== 2 || metadata.format !== "pt") throw new Error("round trip failed");
 * ```
 * @module
 */
import { allocate, type DType, fromBytes, itemSize, sizeOf, type Tensor, toBytes } from "./tensor.ts";

/** Safetensors dtype names this module reads (BF16 is widened to float32 on read). */
export const SAFETENSORS_DTYPES: readonly string[] = [
  "F64",
  "F32",
  "F16",
  "BF16",
  "I64",
  "I32",
  "I8",
  "U8",
  "BOOL",
];

const TO_ST: Record<DType, string> = {
  float64: "F64",
  float32: "F32",
  float16: "F16",
  int64: "I64",
  int32: "I32",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};
const FROM_ST: Record<string, DType> = Object.fromEntries(
  Object.entries(TO_ST).map(([k, v]) => [v, k as DType]),
);

// The Rust `Dtype` enum order (its derived `Ord`), by which the reference writer sorts, descending.
const RUST_ORDER = [
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "F64",
  "I64",
  "U64",
];
const ST_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

// The reference reader refuses headers above 100 MB; so do we, before allocating anything for them.
const MAX_HEADER_SIZE = 100_000_000;

const utf8 = new TextEncoder();

/** Compares strings by their UTF-8 bytes, as Rust's `String::cmp` does. */
function compareBytes(a: string, b: string): number {
  const x = utf8.encode(a), y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Serialises tensors (and optional string metadata, e.g. `{format: "pt"}`) to safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = Object.entries(tensors).map(([name, t]) => {
    const dtype = TO_ST[t.dtype];
    if (!dtype) throw new Error(`encodeSafetensors(): tensor "${name}" has unsupported dtype ${t.dtype}`);
    const n = sizeOf(t.dims);
    if (t.data.length !== n) {
      throw new Error(
        `encodeSafetensors(): tensor "${name}" has ${t.data.length} elements but shape [${
          t.dims.join(", ")
        }] needs ${n}`,
      );
    }
    if (t.data.byteLength !== n * itemSize(t.dtype)) {
      throw new Error(`encodeSafetensors(): tensor "${name}" data does not match dtype ${t.dtype}`);
    }
    return { name, dtype, t };
  });
  entries.sort((a, b) =>
    RUST_ORDER.indexOf(b.dtype) - RUST_ORDER.indexOf(a.dtype) || compareBytes(a.name, b.name)
  );

  // Built by hand rather than with one JSON.stringify of an object, because JS objects put integer-like
  // keys ("0", "1") first, which would break the order the data is laid out in.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length) {
    const keys = Object.keys(metadata).sort(compareBytes);
    for (const k of keys) {
      if (typeof metadata[k] !== "string") {
        throw new Error(`encodeSafetensors(): metadata "${k}" must be a string`);
      }
    }
    parts.push(
      `"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(",")}}`,
    );
  }
  let offset = 0;
  for (const e of entries) {
    const n = e.t.data.byteLength;
    parts.push(
      `${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${
        e.t.dims.join(",")
      }],"data_offsets":[${offset},${offset + n}]}`,
    );
    offset += n;
  }
  const json = utf8.encode(`{${parts.join(",")}}`);
  // Pad with spaces so the data starts 8-byte aligned (8 + header length is a multiple of 8).
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const e of entries) {
    out.set(toBytes(e.t.data), at);
    at += e.t.data.byteLength;
  }
  return out;
}

/** The decoded contents of a safetensors file. */
export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Widens bfloat16 bits (the upper half of a float32) to float32. */
function bf16ToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / 2;
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
  return out;
}

/**
 * Parses safetensors bytes, checking the header, every tensor's dtype, shape and offsets (which must
 * tile the data exactly, as the reference reader demands); `source` (a file name) goes into every error.
 * Tensors are views into `bytes` where alignment allows; BF16 tensors come back as float32.
 */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): Safetensors {
  const where = `"${source}"`;
  if (bytes.byteLength < 8) {
    throw new Error(`Cannot read ${where}: ${bytes.byteLength} bytes is too short for a safetensors header`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) {
    throw new Error(
      `Cannot read ${where}: header length ${n64} exceeds ${MAX_HEADER_SIZE} bytes (not a safetensors file?)`,
    );
  }
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    throw new Error(
      `Cannot read ${where}: header length ${n} runs past the end of the ${bytes.byteLength}-byte file`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new Error(`Cannot read ${where}: the header is not valid UTF-8`);
  }
  if (!text.startsWith("{")) {
    throw new Error(`Cannot read ${where}: the header does not start with "{" (not a safetensors file?)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot read ${where}: the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error(`Cannot read ${where}: the header is not a JSON object`);
  }
  const metadata: Record<string, string> = {};
  const infos: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new Error(`Cannot read ${where}: "__metadata__" must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== "string") throw new Error(`Cannot read ${where}: metadata "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const bad = (what: string) => new Error(`Cannot read tensor "${name}" of ${where}: ${what}`);
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== "object" || info === null) throw bad("its header entry is not an object");
    if (typeof info.dtype !== "string") throw bad("missing dtype");
    if (!(info.dtype in ST_SIZE) || !(info.dtype === "BF16" || info.dtype in FROM_ST)) {
      throw bad(`unsupported dtype "${info.dtype}" (supported: ${SAFETENSORS_DTYPES.join(", ")})`);
    }
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`shape ${JSON.stringify(info.shape)} is not a list of non-negative integers`);
    }
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`data_offsets ${JSON.stringify(off)} is not a pair of non-negative integers`);
    }
    const [begin, end] = off as number[];
    if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
    const expected = sizeOf(info.shape) * ST_SIZE[info.dtype];
    if (end - begin !== expected) {
      throw bad(
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${info.dtype}[${
          info.shape.join(", ")
        }] needs ${expected}`,
      );
    }
    infos.push({ name, dtype: info.dtype, shape: info.shape as number[], begin, end });
  }
  // The tensors must tile the data region with neither gaps nor overlaps, and end where the file ends.
  const dataLength = bytes.byteLength - 8 - n;
  const byOffset = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedStart = 0;
  for (const t of byOffset) {
    if (t.begin !== expectedStart) {
      throw new Error(
        `Cannot read tensor "${t.name}" of ${where}: data_offsets [${t.begin}, ${t.end}] ` +
          (t.begin < expectedStart
            ? "overlap the previous tensor"
            : `leave a gap after byte ${expectedStart}`),
      );
    }
    if (t.end > dataLength) {
      throw new Error(
        `Cannot read tensor "${t.name}" of ${where}: data_offsets [${t.begin}, ${t.end}] run past the end of the data (${dataLength} bytes; truncated file?)`,
      );
    }
    expectedStart = t.end;
  }
  if (expectedStart !== dataLength) {
    throw new Error(
      `Cannot read ${where}: the tensors cover ${expectedStart} of ${dataLength} data bytes (trailing bytes)`,
    );
  }
  const tensors: Record<string, Tensor> = {};
  const base = 8 + n;
  for (const t of infos) {
    const raw = bytes.subarray(base + t.begin, base + t.end);
    if (t.dtype === "BF16") {
      tensors[t.name] = { dtype: "float32", dims: [...t.shape], data: bf16ToFloat32(raw) };
    } else {
      const dtype = FROM_ST[t.dtype];
      tensors[t.name] = {
        dtype,
        dims: [...t.shape],
        data: raw.byteLength ? fromBytes(dtype, raw) : allocate(dtype, 0),
      };
    }
  }
  return { tensors, metadata };
}
