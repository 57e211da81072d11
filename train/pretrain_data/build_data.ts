/**
 * Pretraining examples as ELECTRA's `build_pretraining_dataset.py` makes them: lines (sentences) are
 * tokenized and packed until the target length, then split into `[CLS] A [SEP] B [SEP]` (10% of the time
 * one segment only; a sentence that would overflow A goes there anyway half the time), trimmed to
 * `maxSeqLength`, and 5% of the time the next target length is drawn from [5, maxSeqLength]. A blank
 * line ends a document.
 *
 * Parallelism without losing determinism: the main thread reads and cleans the corpus (NFC, trim,
 * duplicates, over-long lines) and cuts it into chunks of `chunkLines` lines; Web Workers tokenize and
 * pack each chunk with a random stream seeded by (seed, chunk number) and write it as one shard. The
 * output therefore depends on the seed and the chunk size, never on `--num-processes`.
 * @module
 */

import { join } from "node:path";
import {
  type CorpusFormat,
  hash53,
  issuePrinter,
  LineCleaner,
  listCorpusFiles,
  readCorpusFile,
} from "../corpus/corpus.ts";
import { encodeShard, type RawExample, shardFileName, type ShardIndex, writeShardIndex } from "./shards.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";

/** build-data's seedable PRNG (mulberry32; the shards depend on its stream): `next()` in [0, 1). */
export class Mulberry32 {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi], both inclusive (Python's `random.randint`). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** The seed of chunk `k`'s random stream, mixed so that neighbouring chunks are unrelated. */
export function chunkSeed(seed: number, k: number): number {
  return hash53(`${seed}:${k}`) % 4294967296;
}

/** Where `ExampleBuilder` draws its random numbers (an `Mulberry32`, or a scripted stand-in in tests). */
export interface RandomSource {
  next(): number;
  int(lo: number, hi: number): number;
}

/** ELECTRA's ExampleBuilder: feeds on tokenized lines, emits packed examples. */
export class ExampleBuilder {
  readonly maxLength: number;
  #cls: number;
  #sep: number;
  #rng: RandomSource;
  #sentences: number[][] = [];
  #length = 0;
  #target: number;
  /** Content tokens cut off by trimming to maxLength (lost to the model; reported in the summary). */
  truncated = 0;

  constructor(maxLength: number, clsId: number, sepId: number, rng: RandomSource) {
    if (maxLength < 5) throw new Error(`maxSeqLength must be at least 5, got ${maxLength}`);
    this.maxLength = maxLength;
    this.#target = maxLength;
    this.#cls = clsId;
    this.#sep = sepId;
    this.#rng = rng;
  }

  /** Adds one tokenized line; `null` (a blank line) ends the document. Returns an example when one is full. */
  addLine(ids: number[] | null): RawExample | null {
    if (ids === null) return this.#length !== 0 ? this.#create() : null;
    this.#sentences.push(ids);
    this.#length += ids.length;
    return this.#length >= this.#target ? this.#create() : null;
  }

  /** Emits what is left, as the end of a file does in ELECTRA. */
  flush(): RawExample | null {
    return this.#length !== 0 ? this.#create() : null;
  }

  #create(): RawExample {
    const rng = this.#rng;
    // Small chance of one segment only, as in classification tasks.
    const firstTarget = rng.next() < 0.1 ? 100000 : (this.#target - 3) >> 1;
    let first: number[] = [];
    let second: number[] = [];
    for (const s of this.#sentences) {
      if (
        first.length === 0 || first.length + s.length < firstTarget ||
        (second.length === 0 && first.length < firstTarget && rng.next() < 0.5)
      ) first = first.concat(s);
      else second = second.concat(s);
    }
    const before = first.length + second.length;
    first = first.slice(0, this.maxLength - 2);
    second = second.slice(0, Math.max(0, this.maxLength - first.length - 3));
    this.truncated += before - first.length - second.length;
    this.#sentences = [];
    this.#length = 0;
    // Small chance of a random-length example instead of a full one.
    this.#target = rng.next() < 0.05 ? rng.int(5, this.maxLength) : this.maxLength;
    const ids = [this.#cls, ...first, this.#sep];
    const segmentALength = ids.length;
    if (second.length > 0) ids.push(...second, this.#sep);
    return { ids, segmentALength };
  }
}

/** Counts from one chunk. */
export interface ChunkResult {
  index: number;
  file: string;
  examples: number;
  tokens: number;
  contentTokens: number;
  unknownTokens: number;
  truncatedTokens: number;
  lines: number;
}

/**
 * Tokenizes and packs one chunk of cleaned lines (`""` = blank line) into shard bytes. Pure apart from
 * the tokenizer's cache: the same chunk, seed and vocabulary always give the same bytes.
 */
export function buildChunk(
  tokenizer: WordPieceTokenizer,
  lines: string[],
  options: { index: number; seed: number; maxSeqLength: number },
): { bytes: Uint8Array; result: ChunkResult } {
  const builder = new ExampleBuilder(
    options.maxSeqLength,
    tokenizer.clsId,
    tokenizer.sepId,
    new Mulberry32(chunkSeed(options.seed, options.index)),
  );
  const examples: RawExample[] = [];
  let content = 0, unknown = 0;
  const unk = tokenizer.unkId;
  for (const line of lines) {
    let ids: number[] | null = null;
    if (line !== "") {
      ids = tokenizer.encodeIds(line);
      if (ids.length === 0) continue; // only control characters: nothing to add
      content += ids.length;
      for (const id of ids) if (id === unk) unknown++;
    }
    const e = builder.addLine(ids);
    if (e) examples.push(e);
  }
  const last = builder.flush();
  if (last) examples.push(last);
  let tokens = 0;
  for (const e of examples) tokens += e.ids.length;
  const bytes = encodeShard(examples, options.maxSeqLength, tokenizer.vocabSize);
  return {
    bytes,
    result: {
      index: options.index,
      file: shardFileName(options.index),
      examples: examples.length,
      tokens,
      contentTokens: content,
      unknownTokens: unknown,
      truncatedTokens: builder.truncated,
      lines: lines.length,
    },
  };
}

/** Options of `buildPretrainingData`. */
export interface BuildOptions {
  corpus: string[];
  vocabText: string;
  outDir: string;
  maxSeqLength?: number;
  numProcesses?: number;
  seed?: number;
  /** Lines per chunk (= per shard); part of what makes the output (default 20000). */
  chunkLines?: number;
  format?: CorpusFormat;
  /** Lines longer than this (characters) are dropped (default 2000). */
  maxLineChars?: number;
  dedupe?: boolean;
  /** Progress lines go here (default: none). */
  log?: (line: string) => void;
}

/** The summary printed at the end and stored in `index.json`'s `meta`. */
export interface BuildSummary {
  examples: number;
  tokens: number;
  contentTokens: number;
  unknownRate: number;
  truncatedTokens: number;
  shards: number;
  lines: { read: number; kept: number; empty: number; duplicate: number; tooLong: number };
  skippedLines: number;
  seconds: number;
  examplesPerSecond: number;
}

/** Builds pretraining shards from a corpus with `numProcesses` workers; returns the summary. */
export async function buildPretrainingData(options: BuildOptions): Promise<BuildSummary> {
  const t0 = performance.now();
  const maxSeqLength = options.maxSeqLength ?? 128;
  const seed = options.seed ?? 42;
  const chunkLines = options.chunkLines ?? 20000;
  const workers = Math.max(1, options.numProcesses ?? 1);
  const log = options.log ?? (() => {});
  const tokenizer = WordPieceTokenizer.fromVocab(options.vocabText); // validates the vocabulary up front
  const files = await listCorpusFiles(options.corpus);
  if (files.length === 0) {
    throw new Error(`No .txt/.tsv/.csv corpus files under ${options.corpus.join(", ")}`);
  }
  await Deno.mkdir(options.outDir, { recursive: true });

  const pool = new WorkerPool(workers, {
    vocabText: options.vocabText,
    outDir: options.outDir,
    seed,
    maxSeqLength,
  });
  const results: ChunkResult[] = [];
  let examples = 0, tokens = 0, lastLog = 0;
  const onResult = (r: ChunkResult) => {
    results.push(r);
    examples += r.examples;
    tokens += r.tokens;
  };
  const cleaner = new LineCleaner({ maxChars: options.maxLineChars ?? 2000, dedupe: options.dedupe ?? true });
  const issues = issuePrinter();
  let skipped = 0;
  let chunk: string[] = [];
  let index = 0;
  let lastWasBlank = true;
  try {
    for (const file of files) {
      const onIssue = (i: Parameters<typeof issues.onIssue>[0]) => {
        skipped++;
        issues.onIssue(i);
      };
      for await (const item of readCorpusFile(file, { format: options.format, onIssue })) {
        const line = cleaner.clean(item.text);
        if (line === null) continue;
        if (line === "") {
          if (lastWasBlank) continue; // runs of blank lines are one document boundary
          lastWasBlank = true;
        } else lastWasBlank = false;
        chunk.push(line);
        if (chunk.length >= chunkLines) {
          await pool.submit(index++, chunk, onResult);
          chunk = [];
        }
        const now = performance.now();
        if (now - lastLog > 2000) {
          lastLog = now;
          const s = (now - t0) / 1000;
          log(
            `build-data: ${cleaner.stats.kept} lines, ${examples} examples, ${
              (tokens / s).toFixed(0)
            } tokens/s, ` +
              `${s.toFixed(0)} s`,
          );
        }
      }
      // Files are separate documents.
      if (!lastWasBlank) {
        chunk.push("");
        lastWasBlank = true;
      }
    }
    if (chunk.some((l) => l !== "")) await pool.submit(index++, chunk, onResult);
    await pool.drain(onResult);
  } finally {
    pool.close();
  }

  results.sort((a, b) => a.index - b.index);
  const keep = new Set(results.map((r) => r.file));
  for await (const e of Deno.readDir(options.outDir)) {
    // Shards of an earlier, larger run in the same folder would otherwise look like part of this one.
    if (/^shard-\d+\.bin$/.test(e.name) && !keep.has(e.name)) await Deno.remove(join(options.outDir, e.name));
  }
  const sum = (f: (r: ChunkResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const contentTokens = sum((r) => r.contentTokens);
  const seconds = (performance.now() - t0) / 1000;
  const s = cleaner.stats;
  const summary: BuildSummary = {
    examples,
    tokens,
    contentTokens,
    unknownRate: contentTokens ? sum((r) => r.unknownTokens) / contentTokens : 0,
    truncatedTokens: sum((r) => r.truncatedTokens),
    shards: results.length,
    lines: { read: s.lines, kept: s.kept, empty: s.empty, duplicate: s.duplicate, tooLong: s.tooLong },
    skippedLines: skipped,
    seconds: Number(seconds.toFixed(2)),
    examplesPerSecond: Math.round(examples / seconds),
  };
  await writeFileAtomic(join(options.outDir, "vocab.txt"), options.vocabText);
  const index_: ShardIndex = {
    format: "nersota-pretraining-shards",
    version: 1,
    maxSeqLength,
    vocabSize: tokenizer.vocabSize,
    shards: results.map((r) => ({ file: r.file, examples: r.examples, tokens: r.tokens })),
    examples,
    tokens,
    meta: {
      seed,
      chunkLines,
      vocabHash: hash53(options.vocabText).toString(16),
      corpus: files,
      summary,
    },
  };
  await writeShardIndex(options.outDir, index_);
  return summary;
}

/** Messages between the pool and `build_data_worker.ts`. */
export type WorkerRequest =
  | { type: "init"; vocabText: string; outDir: string; seed: number; maxSeqLength: number }
  | { type: "chunk"; index: number; lines: string[] };
/** Replies from `build_data_worker.ts`. */
export type WorkerReply = { type: "done"; result: ChunkResult } | {
  type: "error";
  index: number;
  message: string;
};

// The Web Worker class as this module found it: onnxruntime-web's Emscripten glue, on its first wasm session
// under Deno, replaces globalThis.Worker with Node's worker_threads Worker (which rejects file:// strings and
// has another message API), and a pipeline may build data after it ran a model.
const WebWorker = globalThis.Worker;

/** A fixed set of Web Workers; `submit` waits while all are busy, which bounds memory. */
class WorkerPool {
  #idle: Worker[] = [];
  #all: Worker[] = [];
  #pending = new Map<Worker, Promise<ChunkResult>>();

  constructor(n: number, init: Omit<Extract<WorkerRequest, { type: "init" }>, "type">) {
    for (let i = 0; i < n; i++) {
      const w = new WebWorker(new URL("./build_data_worker.ts", import.meta.url).href, { type: "module" });
      w.postMessage({ type: "init", ...init } satisfies WorkerRequest);
      this.#idle.push(w);
      this.#all.push(w);
    }
  }

  async submit(index: number, lines: string[], onResult: (r: ChunkResult) => void): Promise<void> {
    while (this.#idle.length === 0) await this.#next(onResult);
    const w = this.#idle.pop()!;
    const done = new Promise<ChunkResult>((resolve, reject) => {
      w.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.type === "done") resolve(e.data.result);
        else reject(new Error(`chunk ${e.data.index}: ${e.data.message}`));
      };
      w.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`worker failed on chunk ${index}: ${e.message}`));
      };
    });
    this.#pending.set(w, done);
    w.postMessage({ type: "chunk", index, lines } satisfies WorkerRequest);
  }

  async #next(onResult: (r: ChunkResult) => void): Promise<void> {
    const [w, r] = await Promise.race([...this.#pending].map(([w, p]) => p.then((r) => [w, r] as const)));
    this.#pending.delete(w);
    this.#idle.push(w);
    onResult(r);
  }

  async drain(onResult: (r: ChunkResult) => void): Promise<void> {
    while (this.#pending.size > 0) await this.#next(onResult);
  }

  close(): void {
    for (const w of this.#all) w.terminate();
  }
}
