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
import type { Decoding } from "./crf.ts";
import type { ModelSource } from "./model_folder.ts";
import { OUTPUT_FORMATS, type OutputFormat, outputWriter } from "./formats.ts";
import { loadRecognizer, type NerPipeline } from "./pipeline.ts";

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
  /** Printed to stderr when `model` is a stand-in (e.g. the fixture before a default model is trained). */
  modelNotice?: string;
  provider?: Provider;
  /** ONNX Runtime module for `provider` (a compiled binary imports it itself, after preparing native code). */
  ort?: OrtModule;
}

/** The shipped default model folder, relative to this file. */
export const DEFAULT_MODEL = new URL("../models/default/", import.meta.url);
/** The stand-in while `models/default/` has not been trained: the random-weight fixture. */
export const FALLBACK_MODEL = new URL("../fixtures/ner-tiny/", import.meta.url);

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
  --variant NAME       a graph variant the model folder lists (int8: int8 dense layers, cpu only)
  --stats              print timings to stderr
  -h, --help           show this help`;

/** A usage or input error: exit status 2, message without a stack. */
export class CliError extends Error {}

export { conllLines } from "./formats.ts";

interface Input {
  text: string;
  /** For errors and `--input jsonl`: which file and line the text came from. */
  where?: string;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    chunks.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
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
    line++;
    const raw = bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
    let s: string;
    try {
      s = dec.decode(raw);
    } catch {
      throw new CliError(`Cannot read line ${line} of "${name}": not valid UTF-8`);
    }
    const where = `line ${line} of "${name}"`;
    if (mode === "jsonl") {
      if (s.trim() === "") continue;
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
      out.push({ text, where });
    } else out.push({ text: s, where });
  }
  return out;
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

    // Inputs: arguments, else files, else stdin.
    const inputs: Input[] = positionals.map((text, i) => ({ text, where: `argument ${i + 1}` }));
    const mode = values.input as "text" | "jsonl";
    if (!inputs.length) {
      const files = values.file ?? [];
      if (!files.length) {
        if (out.stdinIsTerminal ?? (io?.stdin ? false : Deno.stdin.isTerminal())) {
          await out.stderr(USAGE + "\n");
          return 2;
        }
        files.push("-");
      }
      for (const f of files) {
        let bytes: Uint8Array;
        if (f === "-") bytes = await readAll(out.stdin ?? Deno.stdin.readable);
        else {
          try {
            bytes = await Deno.readFile(f);
          } catch (e) {
            throw new CliError(`Cannot read "${f}": ${(e as Error).message}`);
          }
        }
        inputs.push(...linesOf(bytes, f === "-" ? "stdin" : f, mode));
      }
    }

    const ner = await openModel(values.model, defaults, provider, batchSize, decoding, values.variant, out);
    try {
      // Chunks keep memory flat on large files while still filling batches.
      const CHUNK = 512;
      let totals = { texts: 0, tokens: 0, ms: 0 };
      await out.stdout(writer.begin());
      for (let s = 0; s < inputs.length; s += CHUNK) {
        const chunk = inputs.slice(s, s + CHUNK);
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
    }
    return 0;
  } catch (e) {
    await out.stderr(`ner: ${(e as Error).message}\n`);
    return e instanceof CliError || e instanceof TypeError ? 2 : 1;
  }
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(new URL("nersota.json", url));
    return true;
  } catch {
    return false;
  }
}

async function openModel(
  model: string | undefined,
  defaults: CliDefaults,
  provider: Provider | undefined,
  batchSize: number | undefined,
  decoding: Decoding | undefined,
  variant: string | undefined,
  out: CliIo,
): Promise<NerPipeline> {
  let source: string | URL | ModelSource;
  if (model) source = model;
  else if (defaults.model) {
    source = defaults.model;
    if (defaults.modelNotice) await out.stderr(defaults.modelNotice + "\n");
  } else if (await exists(DEFAULT_MODEL)) source = DEFAULT_MODEL;
  else {
    source = FALLBACK_MODEL;
    await out.stderr(
      `ner: no trained default model in models/default/ yet; using the random-weight fixture fixtures/ner-tiny/ ` +
        `(its entities are meaningless). Pass --model DIR for a real model.\n`,
    );
  }
  const ort = defaults.ort && (provider ?? defaults.provider) === defaults.provider
    ? defaults.ort
    : undefined;
  return await loadRecognizer(source, { provider, batchSize, decoding, variant, ort });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
