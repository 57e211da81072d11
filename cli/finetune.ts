/**
 * `deno task finetune`: NER fine-tuning of an ELECTRA model (see train/finetune/finetune.ts).
 *
 * ```sh
 * deno task finetune --model DIR --train FILE --dev FILE [--format klue] --out DIR
 * # several training sources, each with its own format and type map ([FORMAT:]PATH[:MAP]):
 * deno task finetune --model DIR --out DIR --types PS,LC,OG,DT,TI,QT \
 *   --train klue:../shared/data/klue-ner/klue-ner-v1.1_dev_even.tsv \
 *   --train kmou:../shared/data/kmou-ner/corpus:kmou-klue --dev klue:dev.tsv
 * # or a JSON data spec: {"train": [{"path": "...", "format": "kmou", "map": "kmou-klue"}], "dev": [...]}
 * deno task finetune --model DIR --data spec.json --out DIR
 * ```
 * A source written `FORMAT:PATH[:MAP]` starts with a format name (klue, kmou, nikl, naver, conll,
 * label-studio, auto); a plain `PATH` takes `--format` (default auto) and `--map` (default none).
 * `MAP` is a built-in map (kmou-klue, nikl-klue, naver-klue) or a `FROM<TAB>TO` file.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Provider } from "../onnx/runtime.ts";
import { finetune } from "../train/finetune/finetune.ts";
import { type DataSource, parseSource, readDataSpec } from "../train/ner_data/sources.ts";
import type { ModelInit } from "../train/finetune/start_model.ts";
import { DATASET_FORMATS } from "../train/ner_data/datasets/mod.ts";
import type { DatasetFormat } from "../train/ner_data/datasets/types.ts";
import {
  FINETUNE_DEFAULTS,
  FINETUNE_SETTINGS,
  type FinetuneConfig,
  finetuneConfigFromJson,
  readFinetuneConfig,
} from "../train/finetune/finetune_config.ts";
import { runMain } from "./util.ts";
import { refuseOverwrite } from "../train/util/fs.ts";
import { readRunRecord } from "../train/run/run_folder.ts";

const USAGE =
  `Usage: deno task finetune --model DIR --train SRC [--train SRC …] [--dev SRC …] --out DIR [options]
       deno task finetune --init random --config config.json --vocab vocab.txt --train SRC … --out DIR

Data (SRC is PATH or FORMAT:PATH or FORMAT:PATH:MAP; FORMAT one of ${DATASET_FORMATS.join(", ")}, auto):
  --train SRC            training data (repeatable); a KMOU folder reads every *.txt in it
  --dev SRC              development data, evaluated after every epoch (repeatable)
  --format FORMAT        format of sources given as a plain PATH (default auto)
  --map MAP              type map of sources without their own: kmou-klue | nikl-klue | naver-klue | FILE
  --data FILE            JSON data spec {"train": [{"path","format","map"}…], "dev": […]} instead of --train/--dev

Model:
  --model DIR            NERSOTA model folder, Hugging Face ELECTRA folder (discriminator or token classifier),
                         or an inference folder with no model.safetensors (models/default: weights read from
                         its inference.onnx, int8 ones dequantised), or a pretraining checkpoint
                         (RUN/checkpoints/step-N.safetensors of deno task pretrain: its encoder; needs --vocab)
  --init random          start from random weights: needs --config (HF config.json) and --vocab
  --out DIR              output: inference model folder + checkpoints, metrics.jsonl, report.json

Run:
  --provider cpu|cuda|webgpu|wasm  --threads N  --quiet
  --resume               continue the run in --out (data, model and settings from its run.json; options that
                         differ from them are refused)
  --clear                start a new run in an --out that holds an older one, deleting it (else refused)
  --train-config FILE    the training settings below as JSON (their snake_case keys); flags override it

Training (defaults: the original project's koelectra-small NER config):
${FINETUNE_SETTINGS.usage("Only in --train-config:")}`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      init: { type: "string" },
      config: { type: "string" },
      vocab: { type: "string" },
      train: { type: "string", multiple: true },
      dev: { type: "string", multiple: true },
      data: { type: "string" },
      format: { type: "string" },
      map: { type: "string" },
      out: { type: "string" },
      ...FINETUNE_SETTINGS.parseArgsOptions(),
      provider: { type: "string" },
      threads: { type: "string" },
      resume: { type: "boolean" },
      clear: { type: "boolean" },
      quiet: { type: "boolean" },
      "train-config": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const fail = (m: string) => {
    console.error(`finetune: ${m}\n\n${USAGE}`);
    return 2;
  };
  if (!values.out) return fail("--out is required");
  const format = (values.format ?? "auto") as DatasetFormat | "auto";
  let train = (values.train ?? []).map((s) => parseSource(s, format, values.map));
  let dev = (values.dev ?? []).map((s) => parseSource(s, format, values.map));
  if (values.data) {
    if (train.length || dev.length) return fail("give --data or --train/--dev, not both");
    ({ train, dev } = await readDataSpec(values.data));
  }
  if (values.resume && values.clear) {
    return fail("--resume continues the run in --out, --clear deletes it: give one");
  }
  // A resume without data or model takes them from what the run recorded when it started.
  const record = values.resume && (!train.length || (!values.model && !values.init))
    ? await readRunRecord(values.out)
    : undefined;
  if (values.resume && !record && (!train.length || (!values.model && !values.init))) {
    return fail(
      `--resume without --train/--model needs "${
        join(values.out, "run.json")
      }" (written when the run started)`,
    );
  }
  if (record && !train.length) {
    train = record.train as DataSource[];
    dev = record.dev as DataSource[];
  }
  if (!train.length) return fail("no training data (--train or --data)");
  let model: ModelInit;
  if (record && !values.model && !values.init) model = record.model as ModelInit;
  else if (values.init === "random") {
    if (!values.config || !values.vocab) {
      return fail("--init random needs --config (HF config.json) and --vocab");
    }
    model = { kind: "random", config: values.config, vocab: values.vocab };
  } else if (values.init !== undefined) return fail(`--init must be "random", got "${values.init}"`);
  else if (values.model?.endsWith(".safetensors")) {
    // A pretraining checkpoint holds weights and Adam moments but no vocabulary.
    if (!values.vocab) return fail("--model with a pretraining checkpoint (.safetensors) needs --vocab");
    model = { kind: "checkpoint", path: values.model, vocab: values.vocab };
  } else if (values.model) model = { kind: "folder", dir: values.model };
  else return fail("--model DIR or --init random is required");
  await refuseOverwrite({ "--out": values.out }, {
    "--model": values.model,
    "--config": values.config,
    "--vocab": values.vocab,
    "--train": train.map((s) => s.path),
    "--dev": dev.map((s) => s.path),
    "--train-config": values["train-config"],
  });

  // Flags override the JSON config, which overrides the defaults; all go through the key check.
  const file = values["train-config"] ? await readFinetuneConfig(values["train-config"]) : undefined;
  const trainConfig = file?.json;
  const base: FinetuneConfig = file?.config ?? FINETUNE_DEFAULTS;
  const flags = FINETUNE_SETTINGS.toJson(FINETUNE_SETTINGS.fromFlags(values));
  const config = finetuneConfigFromJson(flags, "command-line options", base);

  const result = await finetune({
    config,
    model,
    train,
    dev,
    out: values.out,
    provider: values.provider as Provider | undefined,
    threads: values.threads ? Number(values.threads) : undefined,
    resume: values.resume,
    clear: values.clear,
    given: { ...trainConfig, ...flags },
    quiet: values.quiet,
  });
  console.log(JSON.stringify({
    out: values.out,
    steps: result.step,
    epochs: result.epoch,
    earlyStopped: result.earlyStopped,
    best: result.best
      ? {
        step: result.best.step,
        micro_f1: result.best.report.micro.f1,
        macro_f1: result.best.report.macro.f1,
      }
      : null,
    tokensPerSecond: Math.round(result.tokensPerSecond),
    paddedTokensPerSecond: Math.round(result.paddedTokensPerSecond),
  }));
  return 0;
}

if (import.meta.main) await runMain("finetune", main);
