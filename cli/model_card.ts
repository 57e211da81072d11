/**
 * `deno task model-card --spec FILE [--pretrain DIR] --finetune DIR --model DIR`: writes `DIR/README.md`,
 * the shipped model's card (train/release/model_card.ts), from the pretraining and fine-tuning runs' logs, the
 * evaluation reports named in the spec and the model folder itself (train/release/model_card_files.ts says
 * what the spec holds); `--readme-table` prints only the results table (for the project README).
 * @module
 */
import { parseArgs } from "node:util";
import { runMain, usageError } from "./util.ts";
import { cardResultsTable, writeModelCard } from "../train/release/model_card_files.ts";

const USAGE =
  `Usage: deno task model-card --spec FILE [--pretrain DIR] --finetune DIR --model DIR [--readme-table]

  --spec FILE      {"title", "hardware", "evals": [{"name", "description", "report"}], "recipe": [..]},
                   optional "licence", "summary", "data": [{"data", "use", "licence"}], "references",
                   "data_notes": [..], "training_notes": [..]; relative report paths are read from --runs
  --runs DIR       folder the spec's report paths are relative to (default: the spec's folder)
  --pretrain DIR   pretraining run (run.json, metrics.jsonl); without it the card says fine-tuning started
                   from random weights
  --finetune DIR   fine-tuning run (report.json, metrics.jsonl); repeat for runs that continued one another,
                   in order: the last one's report describes the model, every run's compute is counted
  --model DIR      shipped model folder (config.json, inference.onnx): README.md is written there
  --readme-table   print the results table instead of writing the card`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      spec: { type: "string" },
      runs: { type: "string" },
      pretrain: { type: "string" },
      finetune: { type: "string", multiple: true },
      model: { type: "string" },
      "readme-table": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { spec, runs, pretrain, finetune, model } = values;
  if (!spec || !finetune?.length || !model) {
    return usageError(USAGE, "--spec, --finetune and --model are required");
  }
  if (values["readme-table"]) {
    console.log(await cardResultsTable({ spec, runs, pretrain, finetune, model }));
    return 0;
  }
  console.error(`Wrote "${await writeModelCard({ spec, runs, pretrain, finetune, model })}"`);
  return 0;
}

if (import.meta.main) await runMain("model-card", main);
