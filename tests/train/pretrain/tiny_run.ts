/**
 * A tiny pretraining run for tests: the fine-tuning fixture's sentences as corpus, its 2-layer 64-wide config,
 * 4 updates of 4 × 32 with checkpoints kept at steps 2 and 4.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configFromHf } from "../../../onnx/electra/config.ts";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";
import { pretrain } from "../../../train/pretrain/pretrain.ts";
import { DEFAULT_TRAIN, withGenerator } from "../../../train/pretrain/pretrain_config.ts";
import { buildPretrainingData } from "../../../train/pretrain_data/build_data.ts";

/** A file of the fine-tuning fixture. */
export const finetuneFixture = (name: string): string =>
  fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));

/**
 * Fine-tuning flags that keep the encoder where it starts (learning rate 1e-12: unchanged to float32 rounding),
 * for tests that check which weights fine-tuning started from.
 */
export const FROZEN_FINETUNE_FLAGS: string[] =
  "--types PS,LC,DT --quiet --epochs 1 --lr 1e-12 --warmup 0 --batch-size 8 --max-seq-len 64 --threads 1"
    .split(" ");

/** Pretrains the fixture's model for 4 updates into `tmp/run` (shards in `tmp/shards`); returns the run folder. */
export async function tinyPretrainRun(tmp: string): Promise<string> {
  const text = (await readDataset(finetuneFixture("train.tsv"), "klue")).examples.map((e) => e.text).join(
    "\n\n",
  );
  await Deno.writeTextFile(join(tmp, "corpus.txt"), text + "\n");
  const shards = join(tmp, "shards");
  await buildPretrainingData({
    corpus: [join(tmp, "corpus.txt")],
    vocabText: await Deno.readTextFile(finetuneFixture("vocab.txt")),
    outDir: shards,
    maxSeqLength: 32,
    seed: 1,
  });
  const model = configFromHf(JSON.parse(await Deno.readTextFile(finetuneFixture("config.json"))));
  const config = withGenerator(model, {
    ...DEFAULT_TRAIN,
    trainSteps: 4,
    warmupSteps: 1,
    batchSize: 4,
    maxSeqLength: 32,
    evalEvery: 0,
    evalExamples: 0,
    saveEvery: 2,
    keepCheckpoints: 1,
    keepEvery: 2,
    logEvery: 1,
  });
  const run = join(tmp, "run");
  await pretrain({
    config,
    data: shards,
    vocab: finetuneFixture("vocab.txt"),
    out: run,
    threads: 1,
    quiet: true,
    export: false,
  });
  return run;
}
