/**
 * `deno task eval`: entity-level evaluation of an inference model folder on gold NER data.
 *
 * ```sh
 * deno task eval --model DIR --data FILE [--format klue] [--map kmou-klue] \
 *   [--errors errors.jsonl] [--report report.json] [--split-by REGEX|none]
 * ```
 * Prints seqeval's classification report (precision/recall/F1 per type, micro, macro and weighted
 * averages, exactly as seqeval's default mode computes them, on character spans), the no-entity rate (the share
 * of sentences without a gold entity that were given at least one, with its count), one report per subset
 * of the sentence ids (KLUE: `nsmc` colloquial vs `wikitree` news, found automatically; `--split-by REGEX`
 * names subsets by the regex's first group, e.g. `^([a-z]+)_` for an id prefix), and the confusion table
 * of types. `--errors` writes every sentence with a missed or spurious entity as JSON lines, `--report`
 * the whole report as JSON. `--data` takes the same `FORMAT:PATH[:MAP]` sources as `deno task finetune`.
 * `--compare DIR` scores a second model folder on the same data with the same settings and prints a paired
 * bootstrap of the two (B − A with its 95 % interval; train/evaluate/bootstrap.ts), to tell a real difference
 * from one the choice of sentences could make.
 * Gold labelled a word at a time (particles inside entities) gets a warning first (train/ner_data/gold_check.ts);
 * train/evaluate/evaluate_files.ts does the work.
 * @module
 */
import { parseArgs } from "node:util";
import type { Decoding } from "../infer/window_labels.ts";
import type { Provider } from "../onnx/runtime.ts";
import type { DatasetFormat } from "../train/ner_data/datasets/types.ts";
import { formatReport } from "../train/evaluate/evaluate.ts";
import { evaluateFiles, formatSweep } from "../train/evaluate/evaluate_files.ts";
import { formatBootstrap } from "../train/evaluate/bootstrap.ts";
import { minScoreFlag, runMain } from "./util.ts";

const USAGE = `Usage: deno task eval --model DIR --data SRC [--data SRC …] [options]

  --model DIR          inference model folder (deno task finetune's --out, or any NERSOTA model folder)
  --data SRC           gold data: PATH, FORMAT:PATH or FORMAT:PATH:MAP (repeatable)
  --format FORMAT      format of plain paths (klue, kmou, nikl, naver, conll, label-studio; default auto)
  --map MAP            type map for sources without their own: kmou-klue | nikl-klue | naver-klue | FILE
  --errors FILE        write the sentences with errors as JSON lines
  --report FILE        write the report as JSON
  --split-by REGEX     report subsets named by the first group of REGEX over sentence ids
                       (default: KLUE's -nsmc/-wikitree suffix when every id has one; "none" to turn off)
  --digits N           decimals in the printed report (4)
  --decoding MODE      bio-viterbi | argmax: overrides the folder's nersota.json (softmax models)
  --symbol-entities keep|drop
                       drop: leave out entities with no letter or digit (ㅋㅋ, emoji); overrides nersota.json
  --min-score X        leave out entities scoring below X (0–1); overrides nersota.json's minScore
  --min-score-sweep X,Y,…
                       one inference pass with no floor, then the scores at each floor (a table on
                       stdout after the report, "sweep" in --report): to choose a minScore on a dev set
  --compare DIR        a second model folder, scored with the same settings; prints the paired bootstrap of
                       its scores against --model's (B − A, 95 % interval; "comparison" in --report)
  --bootstrap N        the comparison's draws (1000)   --bootstrap-seed N   their seed (1)
  --variant NAME       a graph variant listed in nersota.json (int8: int8 dense layers)
  --batch-size N (32)  --provider cpu|cuda|webgpu|wasm  --threads N`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      data: { type: "string", multiple: true },
      format: { type: "string" },
      map: { type: "string" },
      errors: { type: "string" },
      report: { type: "string" },
      "split-by": { type: "string" },
      digits: { type: "string" },
      decoding: { type: "string" },
      "symbol-entities": { type: "string" },
      "min-score": { type: "string" },
      "min-score-sweep": { type: "string" },
      compare: { type: "string" },
      bootstrap: { type: "string" },
      "bootstrap-seed": { type: "string" },
      variant: { type: "string" },
      "batch-size": { type: "string" },
      provider: { type: "string" },
      threads: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.model || !values.data?.length) {
    console.error(`eval: --model and --data are required\n\n${USAGE}`);
    return 2;
  }
  if (values.decoding && values.decoding !== "argmax" && values.decoding !== "bio-viterbi") {
    console.error(`eval: --decoding must be "argmax" or "bio-viterbi", got "${values.decoding}"`);
    return 2;
  }
  const symbols = values["symbol-entities"];
  if (symbols !== undefined && symbols !== "keep" && symbols !== "drop") {
    console.error(`eval: --symbol-entities must be "keep" or "drop", got "${symbols}"`);
    return 2;
  }
  let minScore: number | undefined, minScoreSweep: number[] | undefined;
  try {
    minScore = minScoreFlag(values["min-score"]);
    minScoreSweep = values["min-score-sweep"]?.split(",").map((v) => minScoreFlag(v)!);
    if (minScore !== undefined && minScoreSweep) {
      throw new Error("--min-score and --min-score-sweep exclude each other");
    }
    if (values.compare !== undefined && minScoreSweep) {
      throw new Error("--compare and --min-score-sweep exclude each other");
    }
    if (values.compare === undefined && (values.bootstrap ?? values["bootstrap-seed"]) !== undefined) {
      throw new Error("--bootstrap and --bootstrap-seed need --compare");
    }
    for (const flag of ["bootstrap", "bootstrap-seed"] as const) {
      const v = values[flag];
      if (v !== undefined && !(/^\d+$/.test(v) && (flag === "bootstrap-seed" || Number(v) >= 1))) {
        throw new Error(`--${flag} must be a whole number${flag === "bootstrap" ? " ≥ 1" : ""}, got "${v}"`);
      }
    }
  } catch (e) {
    console.error(`eval: ${(e as Error).message}`);
    return 2;
  }
  const { report, errors, decoding, sweep, comparison } = await evaluateFiles({
    model: values.model,
    data: values.data,
    format: (values.format ?? "auto") as DatasetFormat | "auto",
    map: values.map,
    errors: values.errors,
    report: values.report,
    splitBy: values["split-by"],
    decoding: values.decoding as Decoding | undefined,
    symbolEntities: symbols,
    minScore,
    minScoreSweep,
    compare: values.compare,
    bootstrap: {
      samples: values.bootstrap ? Number(values.bootstrap) : undefined,
      seed: values["bootstrap-seed"] ? Number(values["bootstrap-seed"]) : undefined,
    },
    variant: values.variant,
    batchSize: values["batch-size"] ? Number(values["batch-size"]) : undefined,
    provider: values.provider as Provider | undefined,
    threads: values.threads ? Number(values.threads) : undefined,
    log: (m) => console.error(m),
  });
  console.error(`Decoding: ${decoding === "viterbi" ? "CRF Viterbi (crf.safetensors)" : decoding}`);
  console.log(formatReport(report, values.digits ? Number(values.digits) : 4));
  if (sweep) console.log(`\nEntity score floors (one pass with no floor):\n${formatSweep(sweep)}`);
  if (comparison) console.log(`\n${formatBootstrap(comparison.bootstrap, values.model, comparison.model)}`);
  if (values.errors) console.error(`Wrote ${errors.length} sentences with errors to "${values.errors}"`);
  if (values.report) console.error(`Wrote "${values.report}"`);
  return 0;
}

if (import.meta.main) await runMain("eval", main);
