/**
 * Pretraining example shards: a compact binary file per chunk of corpus, and an `index.json` over them.
 * Examples are stored unpadded (ids plus the length of segment A), so padding to the batch's sequence
 * length happens when batches are made; `openShards` gives random access for the pretraining loop.
 *
 * Shard layout, little-endian:
 * ```
 * 0   "NERSHRD1"                      magic
 * 8   u32 version (1)  u32 idBytes (2 | 4)  u32 count  u32 maxSeqLength  u32 tokens  u32 checksum
 * 32  u32 starts[count + 1]           token offset of each example (starts[count] = tokens)
 *     u16 segmentA[count]             tokens of [CLS] A [SEP]; the rest of the example is segment 1
 *     (pad to 4 bytes)
 *     u16|i32 ids[tokens]
 * ```
 * The checksum is FNV-1a over everything after the header, so a torn or damaged file is caught on open.
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";

/** One pretraining example: `[CLS] A [SEP] (B [SEP])`, unpadded. */
export interface Example {
  inputIds: Int32Array;
  /** 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`. */
  segmentIds: Int32Array;
  length: number;
}

/** What a builder hands to `encodeShard`: the ids and how many of them are segment 0. */
export interface RawExample {
  ids: ArrayLike<number>;
  segmentALength: number;
}

/** One shard's entry in `index.json`. */
export interface ShardEntry {
  file: string;
  examples: number;
  tokens: number;
}

/** `index.json`: the shards in order and how they were made. */
export interface ShardIndex {
  format: "nersota-pretraining-shards";
  version: 1;
  maxSeqLength: number;
  vocabSize: number;
  shards: ShardEntry[];
  examples: number;
  tokens: number;
  /** Free-form provenance and statistics (seed, vocab hash, cleaning counts, …). */
  meta?: Record<string, unknown>;
}

const MAGIC = "NERSHRD1";
const HEADER = 32;

/** Encodes examples into one shard file's bytes; ids use 2 bytes when `vocabSize` ≤ 65536. */
export function encodeShard(examples: RawExample[], maxSeqLength: number, vocabSize: number): Uint8Array {
  const idBytes = vocabSize <= 65536 ? 2 : 4;
  let tokens = 0;
  for (const e of examples) {
    if (e.ids.length > maxSeqLength) {
      throw new Error(`example of ${e.ids.length} tokens > maxSeqLength ${maxSeqLength}`);
    }
    if (e.segmentALength > e.ids.length) throw new Error("segmentALength exceeds the example length");
    tokens += e.ids.length;
  }
  const startsBytes = 4 * (examples.length + 1);
  const segBytes = align4(2 * examples.length);
  const idsBytes = align4(idBytes * tokens);
  const buf = new Uint8Array(HEADER + startsBytes + segBytes + idsBytes);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < 8; i++) buf[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, 1, true);
  view.setUint32(12, idBytes, true);
  view.setUint32(16, examples.length, true);
  view.setUint32(20, maxSeqLength, true);
  view.setUint32(24, tokens, true);
  let p = HEADER, t = 0;
  const segAt = HEADER + startsBytes;
  let idAt = segAt + segBytes;
  examples.forEach((e, i) => {
    view.setUint32(p, t, true);
    p += 4;
    view.setUint16(segAt + 2 * i, e.segmentALength, true);
    for (let k = 0; k < e.ids.length; k++) {
      const id = e.ids[k];
      if (idBytes === 2) view.setUint16(idAt, id, true);
      else view.setInt32(idAt, id, true);
      idAt += idBytes;
    }
    t += e.ids.length;
  });
  view.setUint32(p, t, true);
  view.setUint32(28, fnv1a(buf.subarray(HEADER)), true);
  return buf;
}

/** Random access to the examples of one decoded shard. */
export class Shard {
  readonly count: number;
  readonly maxSeqLength: number;
  readonly tokens: number;
  #starts: Uint32Array;
  #segA: Uint16Array;
  #ids: Uint16Array | Int32Array;

  constructor(bytes: Uint8Array, name = "shard") {
    const bad = (why: string) => new Error(`Shard "${name}" is corrupt: ${why}`);
    if (bytes.length < HEADER) throw bad("shorter than its header");
    for (let i = 0; i < 8; i++) {
      if (bytes[i] !== MAGIC.charCodeAt(i)) throw bad(`bad magic (expected ${MAGIC})`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint32(8, true);
    if (version !== 1) throw bad(`unsupported version ${version}`);
    const idBytes = view.getUint32(12, true);
    if (idBytes !== 2 && idBytes !== 4) throw bad(`id width ${idBytes}`);
    this.count = view.getUint32(16, true);
    this.maxSeqLength = view.getUint32(20, true);
    this.tokens = view.getUint32(24, true);
    const startsBytes = 4 * (this.count + 1);
    const segBytes = align4(2 * this.count);
    const expected = HEADER + startsBytes + segBytes + align4(idBytes * this.tokens);
    if (bytes.length !== expected) throw bad(`${bytes.length} bytes, expected ${expected}`);
    if (fnv1a(bytes.subarray(HEADER)) !== view.getUint32(28, true)) throw bad("checksum mismatch");
    // Copy into aligned buffers: a file read may hand us a view at any byte offset.
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const at = aligned.byteOffset;
    this.#starts = new Uint32Array(aligned.buffer, at + HEADER, this.count + 1);
    this.#segA = new Uint16Array(aligned.buffer, at + HEADER + startsBytes, this.count);
    const idAt = at + HEADER + startsBytes + segBytes;
    this.#ids = idBytes === 2
      ? new Uint16Array(aligned.buffer, idAt, this.tokens)
      : new Int32Array(aligned.buffer, idAt, this.tokens);
    if (this.#starts[this.count] !== this.tokens) throw bad("example offsets do not add up");
  }

  /** Example `i` of this shard (fresh arrays). */
  example(i: number): Example {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`example ${i} out of range 0..${this.count - 1}`);
    const s = this.#starts[i], e = this.#starts[i + 1];
    const inputIds = Int32Array.from(this.#ids.subarray(s, e));
    const segmentIds = new Int32Array(e - s);
    segmentIds.fill(1, this.#segA[i]);
    return { inputIds, segmentIds, length: e - s };
  }

  /** Writes example `i` into row buffers (already zeroed: padding is id 0, segment 0). */
  fill(i: number, ids: Int32Array, segments: Int32Array, mask: Int32Array, at: number, width: number): void {
    const s = this.#starts[i], e = Math.min(this.#starts[i + 1], s + width);
    for (let k = s; k < e; k++) ids[at + k - s] = this.#ids[k];
    segments.fill(1, at + Math.min(this.#segA[i], e - s), at + e - s);
    mask.fill(1, at, at + e - s);
  }
}

/** A padded batch: row-major `(batch, seqLength)` arrays. */
export interface Batch {
  inputIds: Int32Array;
  segmentIds: Int32Array;
  attentionMask: Int32Array;
  batchSize: number;
  seqLength: number;
}

/** All examples of a shard folder, loaded lazily (a few shards cached), with random access. */
export class ShardSet {
  readonly dir: string;
  readonly index: ShardIndex;
  readonly length: number;
  #ends: number[] = [];
  #cache = new Map<number, Shard>();
  #cacheLimit: number;

  constructor(dir: string, index: ShardIndex, cacheShards = 8) {
    this.dir = dir;
    this.index = index;
    let n = 0;
    for (const s of index.shards) this.#ends.push(n += s.examples);
    this.length = n;
    this.#cacheLimit = cacheShards;
  }

  /** Sequence length the examples were built for. */
  get maxSeqLength(): number {
    return this.index.maxSeqLength;
  }

  #shard(k: number): Shard {
    let s = this.#cache.get(k);
    if (s === undefined) {
      const entry = this.index.shards[k];
      const path = join(this.dir, entry.file);
      s = new Shard(Deno.readFileSync(path), path);
      if (s.count !== entry.examples) {
        throw new Error(`Shard "${path}" holds ${s.count} examples, index.json says ${entry.examples}`);
      }
      if (this.#cache.size >= this.#cacheLimit) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(k, s);
    } else {
      // Refresh its place: the cache evicts the least recently used shard.
      this.#cache.delete(k);
      this.#cache.set(k, s);
    }
    return s;
  }

  #locate(i: number): [Shard, number] {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) {
      throw new RangeError(`example ${i} out of range 0..${this.length - 1}`);
    }
    let lo = 0, hi = this.#ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#ends[mid] > i) hi = mid;
      else lo = mid + 1;
    }
    return [this.#shard(lo), i - (lo === 0 ? 0 : this.#ends[lo - 1])];
  }

  /** Example `i` over all shards, in index order. */
  get(i: number): Example {
    const [shard, j] = this.#locate(i);
    return shard.example(j);
  }

  /** Padded batch of the given examples (`seqLength` defaults to maxSeqLength; longer examples are cut). */
  batch(indices: ArrayLike<number>, seqLength = this.maxSeqLength): Batch {
    const b = indices.length;
    const inputIds = new Int32Array(b * seqLength);
    const segmentIds = new Int32Array(b * seqLength);
    const attentionMask = new Int32Array(b * seqLength);
    for (let r = 0; r < b; r++) {
      const [shard, j] = this.#locate(indices[r]);
      shard.fill(j, inputIds, segmentIds, attentionMask, r * seqLength, seqLength);
    }
    return { inputIds, segmentIds, attentionMask, batchSize: b, seqLength };
  }

  /** Every example in order. */
  *[Symbol.iterator](): Iterator<Example> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

/** Opens a folder written by `deno task build-data` (reads `index.json`; shards load on first use). */
export async function openShards(dir: string, options: { cacheShards?: number } = {}): Promise<ShardSet> {
  const path = join(dir, "index.json");
  let index: ShardIndex;
  try {
    index = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read shard index "${path}": ${(e as Error).message}`);
  }
  if (index.format !== "nersota-pretraining-shards" || index.version !== 1) {
    throw new Error(`"${path}" is not a NERSOTA shard index (format ${JSON.stringify(index.format)})`);
  }
  return new ShardSet(dir, index, options.cacheShards);
}

/** Writes `index.json` atomically (temporary file, then rename). */
export async function writeShardIndex(dir: string, index: ShardIndex): Promise<void> {
  await writeFileAtomic(
    join(dir, "index.json"),
    new TextEncoder().encode(JSON.stringify(index, null, 2) + "\n"),
  );
}

export { writeFileAtomic };

/** The file name of shard number `k`. */
export function shardFileName(k: number): string {
  return `shard-${String(k).padStart(5, "0")}.bin`;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
