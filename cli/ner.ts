/**
 * `deno task ner`: recognise entities in texts from the command line, files or stdin.
 *
 * ```sh
 * deno task ner "어제 강남역에서 민수랑 만났어"             # one JSON object per text
 * deno task ner --file texts.txt --format conll           # one text per line → CoNLL (token<TAB>tag)
 * deno task ner --file texts.txt --format label-studio > tasks.json   # Label Studio pre-annotations
 * cat texts.jsonl | deno task ner --input jsonl           # {"text": …} per line
 * deno task ner --model models/mine --provider wasm "…"
 * ```
 * Output (infer/formats.ts): per input text one line `{"text", "entities": [{type, text, start, end, score}]}`
 * (JSON lines); CoNLL, one token per line with its BIO tag (words split at entity boundaries); KLUE TSV, a tag
 * per character; or Label Studio pre-annotation tasks.
 * Offsets are JavaScript string indices (UTF-16 code units) of the text.
 * @module
 */
import { parseArgs } from "node:util";
import type { OrtModule, Provider } from "../onnx/runtime.ts";
import type { Decoding } from "../infer/window_labels.ts";
import type { ModelSource } from "../infer/model_folder.ts";
import { OUTPUT_FORMATS, type OutputFormat, outputWriter } from "../infer/formats.ts";
import { loadRecognizer, type NerPipeline } from "../infer/pipeline.ts";
import { resolveModel } from "./util.ts";

/** Where the CLI writes and reads; tests inject their own. */
export interface CliIo {
  stdout(s: string): void | Promise<void>;
  stderr(s: string): void | Promise<void>;
  /** Standard input (default `Deno.stdin.readable`). */
  stdin?: ReadableStream<Uint8Array>;
  /** Whether stdin is a terminal (then it is not read without an explicit `-`). */
  stdinIsTerminal?: boolean;
}

/** Defaults a front end (the task, a compiled binary) gives the CLI. */
export interface CliDefaults {
  /** The model when `--model` is not given. */
  model?: string | URL | ModelSource;
  provider?: Provider;
  /** ONNX Runtime module for `provider` (a compiled binary imports it itself, after preparing native code). */
  ort?: OrtModule;
}

const USAGE = `Usage: deno task ner [options] [TEXT ...]
Recognises named entities (KLUE types PS LC OG DT TI QT) in Korean text.
Texts come from the arguments, else from --file (one per line), else from stdin (one per line).

Options:
  --file FILE          read texts from FILE (repeatable; "-" is stdin)
  --input text|jsonl   input lines are raw text (default) or JSON objects {"text": "..."}
  --format F           json: JSON lines (default); conll: token<TAB>BIO tag, words split at entity
                       boundaries (민수랑 → 민수 B-PS, 랑 O); klue: KLUE TSV, a tag per character (exact
                       spans; deno task finetune/eval read it as klue:FILE); label-studio: Label Studio tasks with the
                       entities as pre-annotations (predictions), to correct there and train on
  --model DIR|URL      model folder (default: models/default/)
  --provider P         cpu (default), wasm, webgpu or cuda
  --batch-size N       windows per ONNX Runtime run (default 32)
  --decoding MODE      bio-viterbi or argmax: overrides the model's nersota.json (softmax models)
  --variant NAME       fp32, or a graph variant the model folder lists (int8: int8 dense layers, cpu
                       only); default int8 on the cpu provider where the folder lists it, else fp32
  --stats              print timings to stderr
  -h, --help           show this help`;

/** A usage or input error: exit status 2, message without a stack. */
export class CliError extends Error {}

export { conllLines } from "../infer/formats.ts";

interface Input {
  text: string;
  /** For errors and `--input jsonl`: which file and line the text came from. */
  where?: string;
}

function parseLine(
  raw: Uint8Array,
  line: number,
  name: string,
  mode: "text" | "jsonl",
  dec: TextDecoder,
): Input | undefined {
  let s: string;
  try {
    s = dec.decode(raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw);
  } catch {
    throw new CliError(`Cannot read line ${line} of "${name}": not valid UTF-8`);
  }
  const where = `line ${line} of "${name}"`;
  if (mode === "text") return { text: s, where };
  if (s.trim() === "") return undefined;
  let j: unknown;
  try {
    j = JSON.parse(s);
  } catch (e) {
    throw new CliError(`Cannot parse ${where}: ${(e as Error).message}`);
  }
  const text = (j as { text?: unknown } | null)?.text;
  if (typeof text !== "string") {
    throw new CliError(`Cannot parse ${where}: expected an object {"text": "..."}`);
  }
  return { text, where };
}

/** Splits file bytes into lines, decoding strictly so that invalid UTF-8 is reported with its line. */
export function linesOf(bytes: Uint8Array, name: string, mode: "text" | "jsonl"): Input[] {
  const out: Input[] = [];
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
  mode: "text" | "jsonl",
): AsyncGenerator<Input> {
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

/** Groups an async sequence into arrays of up to `size` items. */
async function* chunked<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
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

/** Runs the CLI with `args`; returns the exit status (0 ok, 1 failure, 2 usage or input error). */
export async function main(args: string[], io?: Partial<CliIo>, defaults: CliDefaults = {}): Promise<number> {
  const enc = new TextEncoder();
  const out: CliIo = {
    stdout: io?.stdout ?? ((s) => Deno.stdout.write(enc.encode(s)).then(() => {})),
    stderr: io?.stderr ?? ((s) => Deno.stderr.write(enc.encode(s)).then(() => {})),
    stdin: io?.stdin,
    stdinIsTerminal: io?.stdinIsTerminal,
  };
  let values, positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        file: { type: "string", multiple: true },
        input: { type: "string", default: "text" },
        format: { type: "string", default: "json" },
        model: { type: "string" },
        provider: { type: "string" },
        "batch-size": { type: "string" },
        decoding: { type: "string" },
        variant: { type: "string" },
        stats: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    await out.stderr(`ner: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    await out.stdout(USAGE + "\n");
    return 0;
  }
  try {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(values.format!)) {
      throw new CliError(`--format must be one of ${OUTPUT_FORMATS.join(", ")}, got "${values.format}"`);
    }
    const writer = outputWriter(values.format as OutputFormat);
    if (values.input !== "text" && values.input !== "jsonl") {
      throw new CliError(`--input must be text or jsonl, got "${values.input}"`);
    }
    const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new CliError(`--batch-size must be a positive integer, got "${values["batch-size"]}"`);
    }
    const decoding = values.decoding as Decoding | undefined;
    if (decoding !== undefined && decoding !== "argmax" && decoding !== "bio-viterbi") {
      throw new CliError(`--decoding must be bio-viterbi or argmax, got "${values.decoding}"`);
    }
    const provider = (values.provider ?? defaults.provider) as Provider | undefined;
    if (provider && !["cpu", "wasm", "webgpu", "cuda"].includes(provider)) {
      throw new CliError(`--provider must be cpu, wasm, webgpu or cuda, got "${provider}"`);
    }

    // Inputs: arguments, else files, else stdin; files are opened now (a missing one fails before the
    // model loads) and read line by line as the model goes.
    const mode = values.input as "text" | "jsonl";
    const sources: { name: string; stream: ReadableStream<Uint8Array> }[] = [];
    if (!positionals.length) {
      const files = values.file ?? [];
      if (!files.length) {
        if (out.stdinIsTerminal ?? (io?.stdin ? false : Deno.stdin.isTerminal())) {
          await out.stderr(USAGE + "\n");
          return 2;
        }
        files.push("-");
      }
      for (const f of files) {
        if (f === "-") sources.push({ name: "stdin", stream: out.stdin ?? Deno.stdin.readable });
        else {
          try {
            sources.push({ name: f, stream: (await Deno.open(f)).readable });
          } catch (e) {
            for (const s of sources) await s.stream.cancel().catch(() => {});
            throw new CliError(`Cannot read "${f}": ${(e as Error).message}`);
          }
        }
      }
    }
    const inputs = async function* (): AsyncGenerator<Input> {
      for (const [i, text] of positionals.entries()) yield { text, where: `argument ${i + 1}` };
      for (const s of sources) yield* streamLines(s.stream, s.name, mode);
    };

    const ner = await openModel(values.model, defaults, provider, batchSize, decoding, values.variant);
    try {
      // Chunks keep memory flat on large files while still filling batches.
      const CHUNK = 512;
      let totals = { texts: 0, tokens: 0, ms: 0 };
      await out.stdout(writer.begin());
      for await (const chunk of chunked(inputs(), CHUNK)) {
        const results = await ner.recognize(chunk.map((x) => x.text));
        const st = ner.lastStats!;
        totals = {
          texts: totals.texts + st.texts,
          tokens: totals.tokens + st.tokens,
          ms: totals.ms + st.totalMs,
        };
        await out.stdout(chunk.map((x, i) => writer.text(x.text, results[i])).join(""));
      }
      await out.stdout(writer.end());
      if (values.stats) {
        const sec = totals.ms / 1000;
        await out.stderr(
          `ner: ${totals.texts} texts, ${totals.tokens} tokens in ${totals.ms.toFixed(1)} ms ` +
            `(${(totals.texts / sec).toFixed(1)} texts/s, ${
              (totals.tokens / sec).toFixed(0)
            } tokens/s) on ${ner.info.provider}\n`,
        );
      }
    } finally {
      await ner.release();
      // Files not reached (an error stopped the run) are closed here.
      for (const s of sources) await s.stream.cancel().catch(() => {});
    }
    return 0;
  } catch (e) {
    await out.stderr(`ner: ${(e as Error).message}\n`);
    return e instanceof CliError || e instanceof TypeError ? 2 : 1;
  }
}

async function openModel(
  model: string | undefined,
  defaults: CliDefaults,
  provider: Provider | undefined,
  batchSize: number | undefined,
  decoding: Decoding | undefined,
  variant: string | undefined,
): Promise<NerPipeline> {
  const source = model || defaults.model || await resolveModel();
  const ort = defaults.ort && (provider ?? defaults.provider) === defaults.provider
    ? defaults.ort
    : undefined;
  return await loadRecognizer(source, { provider, batchSize, decoding, variant, ort });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
