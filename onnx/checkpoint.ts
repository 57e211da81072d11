/**
 * Training checkpoints as safetensors: parameters under their own names, Adam moments as `<name>.m` and
 * `<name>.v`, and metadata (format, step, parameter list, config JSON) plus a SHA-256 of the whole file
 * (computed with the checksum field blanked), so truncation or bit flips are reported, not trained on.
 * Browser-safe: bytes in, bytes out; files are written by the caller (atomically, see train/run/artifacts_io.ts).
 * @module
 */
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import type { Tensor } from "./tensor.ts";

/** What a checkpoint holds. */
export interface CheckpointState {
  params: Record<string, Tensor>;
  /** First moments by parameter name. */
  m: Record<string, Tensor>;
  /** Second moments by parameter name. */
  v: Record<string, Tensor>;
  /** Number of optimizer updates applied so far (the next update is step + 1). */
  step: number;
  /** Model/training configuration, stored as JSON in the metadata. */
  config?: unknown;
}

/** The `format` metadata value of this project's checkpoints. */
export const CHECKPOINT_FORMAT = "nersota-checkpoint/1";
const PLACEHOLDER = "sha256:" + "0".repeat(64);
const utf8 = new TextEncoder();

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Index of `needle` in the header bytes of a safetensors file, or -1. */
function findInHeader(bytes: Uint8Array, needle: Uint8Array): number {
  const end = Math.min(
    bytes.length,
    8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)),
  );
  outer: for (let i = 8; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Serialises a checkpoint; the checksum covers every byte of the file (header and tensors). */
export async function encodeCheckpoint(state: CheckpointState): Promise<Uint8Array> {
  const tensors: Record<string, Tensor> = {};
  const names = Object.keys(state.params).sort();
  for (const n of names) {
    if (!state.m[n] || !state.v[n]) throw new Error(`encodeCheckpoint(): parameter "${n}" has no moments`);
    tensors[n] = state.params[n];
    tensors[`${n}.m`] = state.m[n];
    tensors[`${n}.v`] = state.v[n];
  }
  const bytes = encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    step: String(state.step),
    params: JSON.stringify(names),
    config: JSON.stringify(state.config ?? null),
    checksum: PLACEHOLDER,
  });
  const at = findInHeader(bytes, utf8.encode(PLACEHOLDER));
  const hex = await sha256Hex(bytes);
  bytes.set(utf8.encode(`sha256:${hex}`), at);
  return bytes;
}

/** Parses and verifies a checkpoint; errors name `source` and say what is wrong. */
export async function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): Promise<CheckpointState> {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, source);
  } catch (e) {
    throw new Error(`Cannot read checkpoint "${source}": ${(e as Error).message}`, { cause: e });
  }
  const { tensors, metadata } = decoded;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `Cannot read checkpoint "${source}": format is "${metadata.format}", expected "${CHECKPOINT_FORMAT}"`,
    );
  }
  const sum = metadata.checksum ?? "";
  const at = findInHeader(bytes, utf8.encode(sum));
  if (!sum.startsWith("sha256:") || at < 0) {
    throw new Error(`Cannot read checkpoint "${source}": it has no checksum`);
  }
  // Blank the checksum field, hash, and put it back (the caller's bytes are left as they were).
  const saved = bytes.slice(at, at + sum.length);
  bytes.set(utf8.encode(PLACEHOLDER), at);
  const hex = await sha256Hex(bytes);
  bytes.set(saved, at);
  if (`sha256:${hex}` !== sum) {
    throw new Error(`Checkpoint "${source}" is corrupt: SHA-256 is ${hex}, the file records ${sum.slice(7)}`);
  }
  const names: string[] = JSON.parse(metadata.params ?? "[]");
  const state: CheckpointState = {
    params: {},
    m: {},
    v: {},
    step: Number(metadata.step),
    config: JSON.parse(metadata.config ?? "null"),
  };
  for (const n of names) {
    for (const [key, into] of [[n, state.params], [`${n}.m`, state.m], [`${n}.v`, state.v]] as const) {
      if (!tensors[key]) throw new Error(`Checkpoint "${source}" lacks tensor "${key}"`);
      into[n] = tensors[key];
    }
  }
  return state;
}

/** A fresh state at step 0: the given parameters with zero moments. */
export function initialState(params: Record<string, Tensor>, config?: unknown): CheckpointState {
  const zeros = (t: Tensor): Tensor => ({
    dtype: t.dtype,
    dims: [...t.dims],
    data: new (t.data.constructor as new (n: number) => Tensor["data"])(t.data.length),
  });
  const m: Record<string, Tensor> = {}, v: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(params)) {
    m[n] = zeros(t);
    v[n] = zeros(t);
  }
  return { params, m, v, step: 0, config };
}
