/**
 * `deno task pseudo-label --model DIR [--model DIR ...] --corpus PATH --out FILE.tsv --min-confidence X`:
 * a teacher model (or an ensemble that must agree) labels unlabelled text, and the sentences it is confident
 * on are written as a silver KLUE TSV source for `deno task finetune --train klue:FILE`, with a JSON report
 * (train/ner_data/pseudo_label.ts states the rule, train/ner_data/pseudo_label_files.ts runs it over files).
 * @module
 */
import { intFlag, parseFlags, runMain, usageError } from "./util.ts";
import { type CorpusFormat, listCorpusFiles, parseFormat } from "../train/corpus/corpus.ts";
import { outputClash, pseudoLabelFiles } from "../train/ner_data/pseudo_label_files.ts";

const USAGE =
  `Usage: deno task pseudo-label --model DIR [--model DIR ...] --corpus PATH [--corpus PATH ...] \\
         --out FILE.tsv --min-confidence X [options]

A teacher model labels unlabelled text; the sentences it is confident on are written as KLUE TSV, a silver
source for 'deno task finetune --train klue:FILE.tsv'. A sentence is kept when every labelled token (every
word in a first-subword model) has a probability of at least X for the label it was given, O included, so
that both its entities and its untagged text are confident; with several --model teachers, each of them must
be that confident and all must find the same entities (type and span).

  --model DIR           teacher model folder; repeat for an ensemble that must agree
  --corpus PATH         unlabelled text: file or folder (.txt/.tsv/.csv); repeatable
  --out FILE            the silver KLUE TSV (written when the run ends; never one of the inputs)
  --min-confidence X    least probability of every given label, in [0, 1] (e.g. 0.95)
  --exclude [FMT:]FILE  texts never to label (test and dev splits): a dataset file (klue, kmou, nikl, naver,
                        conll, label-studio; detected when no FMT) or lines:FILE, one text per line ('#' lines
                        skipped, anything up to a tab dropped, <text:TYPE> markup stripped); repeatable.
                        Compared with all whitespace removed; a corpus text that contains an excluded text of
                        --exclude-min-chars or more is excluded too
  --exclude-min-chars N (default 8)
  --format F            corpus layout: text | pipe-label | label-tsv | label-label-tsv | csv:COL[,COL]
                        (default: by file name, as deno task vocab)
  --min-chars N         shortest text labelled, in characters (default 2)
  --max-chars N         longest text labelled (default 300)
  --max-per-source N    most sentences kept per corpus file; the rest of the file is not read (default: all)
  --drop-types LIST     leave out texts holding an entity of these types (e.g. PS, where the teacher is
                        confidently wrong; see docs/self-training.md)
  --max-empty-share F   largest share of kept sentences without any entity, in [0, 1] (default 1)
  --report FILE         JSON report (default: FILE.tsv's name with .report.json)
  --resume              go on with an interrupted run into --out (its state is FILE.tsv.state.json)
  --batch-size N        windows per ONNX Runtime run (default 32)
  --threads N           ONNX Runtime threads
  --variant NAME        graph variant of every model folder (e.g. int8)
  --quiet               no progress lines`;

/** Parses arguments, labels, writes the silver file and its report; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseFlags(USAGE, {
    args,
    options: {
      model: { type: "string", multiple: true },
      corpus: { type: "string", multiple: true },
      out: { type: "string" },
      "min-confidence": { type: "string" },
      exclude: { type: "string", multiple: true },
      "exclude-min-chars": { type: "string", default: "8" },
      format: { type: "string" },
      "min-chars": { type: "string", default: "2" },
      "max-chars": { type: "string", default: "300" },
      "max-per-source": { type: "string" },
      "max-empty-share": { type: "string", default: "1" },
      "drop-types": { type: "string" },
      report: { type: "string" },
      resume: { type: "boolean", default: false },
      "batch-size": { type: "string", default: "32" },
      threads: { type: "string" },
      variant: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (parsed === 2) return 2;
  const { values } = parsed;
  if (values.help) return console.log(USAGE), 0;
  const fail = (m: string) => usageError(USAGE, m);
  const models = values.model ?? [], corpus = values.corpus ?? [];
  if (!models.length || !corpus.length || !values.out || values["min-confidence"] === undefined) {
    return fail("--model, --corpus, --out and --min-confidence are required");
  }
  const minConfidence = Number(values["min-confidence"]);
  if (!(minConfidence >= 0 && minConfidence <= 1)) return fail("--min-confidence must be in [0, 1]");
  const maxEmptyShare = Number(values["max-empty-share"]);
  if (!(maxEmptyShare >= 0 && maxEmptyShare <= 1)) return fail("--max-empty-share must be in [0, 1]");
  let format: CorpusFormat | undefined, files: string[];
  let minChars, maxChars, maxPerSource, excludeMin, batchSize, threads;
  try {
    minChars = intFlag("min-chars", values["min-chars"], 1);
    maxChars = intFlag("max-chars", values["max-chars"], minChars);
    maxPerSource = values["max-per-source"] === undefined
      ? undefined
      : intFlag("max-per-source", values["max-per-source"], 1);
    excludeMin = intFlag("exclude-min-chars", values["exclude-min-chars"], 1);
    batchSize = intFlag("batch-size", values["batch-size"], 1);
    threads = values.threads === undefined ? undefined : intFlag("threads", values.threads, 1);
    format = values.format ? parseFormat(values.format) : undefined;
    files = await listCorpusFiles(corpus);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (files.length === 0) return fail(`no .txt/.tsv/.csv files under ${corpus.join(", ")}`);
  const run = {
    models,
    files,
    format,
    out: values.out,
    report: values.report,
    minConfidence,
    exclude: values.exclude,
    excludeMinChars: excludeMin,
    minChars,
    maxChars,
    maxPerSource,
    dropTypes: (values["drop-types"] ?? "").split(",").map((t) => t.trim()).filter(Boolean),
    maxEmptyShare,
    resume: values.resume,
    batchSize,
    threads,
    variant: values.variant,
    log: values.quiet ? () => {} : (m: string) => console.error(m),
  };
  // Nothing written may land on something read: corpus files, exclusion lists, model folders.
  const clash = outputClash(run);
  if (clash) return fail(clash);
  console.log(JSON.stringify(await pseudoLabelFiles(run)));
  return 0;
}

if (import.meta.main) await runMain("pseudo-label", main);
