/**
 * Texts in, recognitions out, as streams (`deno task ner`): input lines decoded strictly, so invalid UTF-8
 * and JSON lines without a text are reported with their file and line; texts recognised a chunk at a time, so
 * memory stays flat however long the input is; results written in one of infer/formats.ts's output formats.
 * Browser-safe: the caller opens the inputs and says where the output goes.
 * @module
 */
import { type OutputFormat, outputWriter } from "./formats.ts";
import type { ModelSource } from "./model_folder.ts";
import { type Entity, type LoadOptions, loadRecognizer, type RunStats } from "./pipeline.ts";

/** An input that cannot be read as texts (not UTF-8, a JSON line without a text). */
export class InputError extends Error {}

/** One text to recognise. */
export interface TextInput {
  text: string;
  /** For errors and `--input jsonl`: which file and line the text came from. */
  where?: string;
}

/** How input lines hold texts: raw text, or JSON objects `{"text": "..."}` (blank lines skipped). */
export type InputMode = "text" | "jsonl";

/** A named byte stream of input lines (a file, stdin). */
export interface LineSource {
  name: string;
  stream: ReadableStream<Uint8Array>;
}

/**
 * Opens every source with its `open` (the caller's file reader), in order, so that a missing file fails
 * before a model loads; on a failure closes those opened and throws `InputError('Cannot read "NAME": …')`.
 */
export async function openLineSources(
  specs: readonly {
    name: string;
    open: () => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>;
  }[],
): Promise<LineSource[]> {
  const sources: LineSource[] = [];
  for (const { name, open } of specs) {
    try {
      sources.push({ name, stream: await open() });
    } catch (e) {
      await closeLineSources(sources);
      throw new InputError(`Cannot read "${name}": ${(e as Error).message}`);
    }
  }
  return sources;
}

/** Cancels every source's stream (those a run did not reach stay open otherwise). */
export async function closeLineSources(sources: readonly LineSource[]): Promise<void> {
  for (const s of sources) await s.stream.cancel().catch(() => {});
}

function parseLine(
  raw: Uint8Array,
  line: number,
  name: string,
  mode: InputMode,
  dec: TextDecoder,
): TextInput | undefined {
  let s: string;
  try {
    s = dec.decode(raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw);
  } catch {
    throw new InputError(`Cannot read line ${line} of "${name}": not valid UTF-8`);
  }
  const where = `line ${line} of "${name}"`;
  if (mode === "text") return { text: s, where };
  if (s.trim() === "") return undefined;
  let j: unknown;
  try {
    j = JSON.parse(s);
  } catch (e) {
    throw new InputError(`Cannot parse ${where}: ${(e as Error).message}`);
  }
  const text = (j as { text?: unknown } | null)?.text;
  if (typeof text !== "string") {
    throw new InputError(`Cannot parse ${where}: expected an object {"text": "..."}`);
  }
  return { text, where };
}

/** Splits file bytes into lines, decoding strictly so that invalid UTF-8 is reported with its line. */
export function linesOf(bytes: Uint8Array, name: string, mode: InputMode): TextInput[] {
  const out: TextInput[] = [];
  const dec = new TextDecoder("utf-8", { fatal: true });
  let start = 0, line = 0;
  // A UTF-8 BOM is not text.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const input = parseLine(bytes.subarray(start, end), ++line, name, mode, dec);
    if (input) out.push(input);
    start = end + 1;
  }
  return out;
}

/** `linesOf` over a stream, one line at a time: memory stays flat however long the input is. */
export async function* streamLines(
  stream: ReadableStream<Uint8Array>,
  name: string,
  mode: InputMode,
): AsyncGenerator<TextInput> {
  const dec = new TextDecoder("utf-8", { fatal: true });
  let parts: Uint8Array[] = [];
  let line = 0, head = true;
  const join = () => {
    if (parts.length === 1) return parts[0];
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) all.set(p, (o += p.length) - p.length);
    return all;
  };
  for await (let chunk of stream) {
    if (head) {
      // A UTF-8 BOM is not text (a first chunk shorter than the BOM is not worth handling).
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      head = false;
    }
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      parts.push(chunk.subarray(start, nl));
      const input = parseLine(join(), ++line, name, mode, dec);
      parts = [];
      if (input) yield input;
      start = nl + 1;
    }
    // Copied: a stream may reuse its chunk's buffer.
    if (start < chunk.length) parts.push(chunk.slice(start));
  }
  if (parts.length) {
    const input = parseLine(join(), ++line, name, mode, dec);
    if (input) yield input;
  }
}

/** The texts of a run: `texts` first (named `argument N`), then every line of `sources` in order. */
export async function* textInputs(
  texts: readonly string[],
  sources: readonly LineSource[],
  mode: InputMode,
): AsyncGenerator<TextInput> {
  for (const [i, text] of texts.entries()) yield { text, where: `argument ${i + 1}` };
  for (const s of sources) yield* streamLines(s.stream, s.name, mode);
}

/** Groups an async sequence into arrays of up to `size` items. */
export async function* chunked<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const x of items) {
    chunk.push(x);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}

/** What a streamed run recognised: texts, tokens and the pipeline's time. */
export interface StreamTotals {
  texts: number;
  tokens: number;
  ms: number;
}

/** Texts per `recognize` call: enough to fill batches, few enough to keep memory flat on large files. */
const CHUNK = 512;

/**
 * Recognises every input with `ner`, a chunk at a time, and passes the output in `format` to `write` as it
 * goes (the format's opening, each chunk's texts, its closing); returns the totals.
 */
export async function recognizeStream(
  ner: { recognize(texts: readonly string[]): Promise<Entity[][]>; readonly lastStats?: RunStats },
  inputs: AsyncIterable<TextInput>,
  format: OutputFormat,
  write: (s: string) => void | Promise<void>,
): Promise<StreamTotals> {
  const writer = outputWriter(format);
  let totals = { texts: 0, tokens: 0, ms: 0 };
  await write(writer.begin());
  for await (const chunk of chunked(inputs, CHUNK)) {
    const results = await ner.recognize(chunk.map((x) => x.text));
    const st = ner.lastStats!;
    totals = {
      texts: totals.texts + st.texts,
      tokens: totals.tokens + st.tokens,
      ms: totals.ms + st.totalMs,
    };
    await write(chunk.map((x, i) => writer.text(x.text, results[i])).join(""));
  }
  await write(writer.end());
  return totals;
}

/** `N texts, M tokens in T ms (… texts/s, … tokens/s) on PROVIDER`: a run's speed in one line. */
export function statsLine(t: StreamTotals & { provider: string }): string {
  const sec = t.ms / 1000;
  return `${t.texts} texts, ${t.tokens} tokens in ${t.ms.toFixed(1)} ms ` +
    `(${(t.texts / sec).toFixed(1)} texts/s, ${(t.tokens / sec).toFixed(0)} tokens/s) on ${t.provider}`;
}

/** A whole run of `deno task ner`: the model, the texts and sources, the format and where output goes. */
export interface RecognizeTextsOptions {
  model: string | URL | ModelSource;
  load: LoadOptions;
  /** Texts given directly (the command line's arguments), before the sources' lines. */
  texts: readonly string[];
  sources: readonly LineSource[];
  mode: InputMode;
  format: OutputFormat;
  write: (s: string) => void | Promise<void>;
}

/**
 * Loads the model, streams every text through it into `write` (`recognizeStream`) and releases it; returns
 * the totals. The sources are closed at the end, also those an error kept the run from reaching.
 */
export async function recognizeTexts(o: RecognizeTextsOptions): Promise<StreamTotals & { provider: string }> {
  try {
    const ner = await loadRecognizer(o.model, o.load);
    try {
      const totals = await recognizeStream(ner, textInputs(o.texts, o.sources, o.mode), o.format, o.write);
      return { ...totals, provider: ner.info.provider };
    } finally {
      await ner.release();
    }
  } finally {
    await closeLineSources(o.sources);
  }
}
