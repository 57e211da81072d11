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
 * Output: per input text one line `{"text", "entities": [{type, text, start, end, score}]}`, CoNLL, KLUE TSV
 * or Label Studio tasks (infer/formats.ts); offsets are JavaScript string indices (UTF-16 code units).
 * @module
 */
import { parseArgs } from "node:util";
import type { OrtModule, Provider } from "../onnx/runtime.ts";
import type { Decoding } from "../infer/window_labels.ts";
import type { ModelSource } from "../infer/model_folder.ts";
import type { SymbolEntities } from "../infer/decode.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "../infer/formats.ts";
import {
  InputError,
  type InputMode,
  openLineSources,
  recognizeTexts,
  statsLine,
} from "../infer/text_stream.ts";
import { minScoreFlag, resolveModel } from "./util.ts";

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
  --symbol-entities keep|drop  drop: no entity without a letter or digit (ㅋㅋ, emoji); overrides nersota.json
  --min-score X        leave out entities scoring below X (0–1); overrides nersota.json's minScore
  --variant NAME       fp32, or a graph variant the model folder lists (int8: int8 dense layers, cpu
                       only); default int8 on the cpu provider where the folder lists it, else fp32
  --stats              print timings to stderr
  -h, --help           show this help`;

/** A usage error: exit status 2, message without a stack. */
export class CliError extends Error {}

/** Throws a `CliError` unless `value` is absent or one of `allowed`: `--NAME must be A, B or C, got "V"`. */
function choice(name: string, value: string | undefined, allowed: readonly string[], list?: string): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new CliError(
      `--${name} must be ${
        list ?? `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`
      }, got "${value}"`,
    );
  }
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
        "symbol-entities": { type: "string" },
        "min-score": { type: "string" },
        variant: { type: "string" },
        stats: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    await out.stderr(`ner: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) return await out.stdout(USAGE + "\n"), 0;
  try {
    const { format, input, variant } = values, decoding = values.decoding as Decoding | undefined;
    choice("format", format, OUTPUT_FORMATS, `one of ${OUTPUT_FORMATS.join(", ")}`);
    choice("input", input, ["text", "jsonl"]);
    const batchSize = values["batch-size"] === undefined ? undefined : Number(values["batch-size"]);
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new CliError(`--batch-size must be a positive integer, got "${values["batch-size"]}"`);
    }
    choice("decoding", decoding, ["bio-viterbi", "argmax"]);
    const symbolEntities = values["symbol-entities"] as SymbolEntities | undefined;
    choice("symbol-entities", symbolEntities, ["keep", "drop"]);
    let minScore: number | undefined;
    try {
      minScore = minScoreFlag(values["min-score"]);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const provider = (values.provider ?? defaults.provider) as Provider | undefined;
    choice("provider", provider || undefined, ["cpu", "wasm", "webgpu", "cuda"]);
    // Inputs: arguments, else files, else stdin; files are opened now (a missing one fails before the
    // model loads) and read line by line as the model goes.
    const files = positionals.length ? [] : values.file ?? [];
    if (!positionals.length && !files.length) {
      if (out.stdinIsTerminal ?? (io?.stdin ? false : Deno.stdin.isTerminal())) {
        return await out.stderr(USAGE + "\n"), 2;
      }
      files.push("-");
    }
    const sources = await openLineSources(files.map((f) => ({
      name: f === "-" ? "stdin" : f,
      open: async () => f === "-" ? out.stdin ?? Deno.stdin.readable : (await Deno.open(f)).readable,
    })));
    const totals = await recognizeTexts({
      model: values.model || defaults.model || await resolveModel(),
      // A compiled binary's own ONNX Runtime module serves its own provider only.
      load: {
        provider,
        batchSize,
        decoding,
        symbolEntities,
        minScore,
        variant,
        ort: provider === defaults.provider ? defaults.ort : undefined,
      },
      texts: positionals,
      sources,
      mode: input as InputMode,
      format: format as OutputFormat,
      write: out.stdout,
    });
    if (values.stats) await out.stderr(`ner: ${statsLine(totals)}\n`);
    return 0;
  } catch (e) {
    await out.stderr(`ner: ${(e as Error).message}\n`);
    return e instanceof CliError || e instanceof InputError || e instanceof TypeError ? 2 : 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
