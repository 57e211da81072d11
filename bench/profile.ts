/**
 * `deno task profile`: runs a few train steps with ONNX Runtime's profiler on and summarises the profile of
 * the timed steps (the first, warm-up run left out) as markdown: kernel time by op type and by part of the
 * step (train/run/step_profile.ts). `--objective` picks the step:
 * - `finetune` (default): the token-classification step of bench/finetune_bench.ts (13 labels); parts
 *   forward, backward, optimizer. ELECTRA-small unless `--config` gives a model shape.
 * - `mlm` / `electra`: the pretraining step the trainer builds (train/pretrain/pretrain_model.ts) on
 *   synthetic masked batches; forward parts by the builders' scopes (train/pretrain/step_parts.ts).
 *   Default configs: configs/pretrain/mlm15.json, configs/pretrain/electra-bs128.json. Dropout as in
 *   training (the config's rates); the plain train_step is profiled (accumulation adds no work per token).
 *
 * `--config FILE`: a pretraining config (`{model, train}`) or a bare model config (Hugging Face config.json,
 * e.g. configs/default/model.json); its model shape is used by every objective, its `train` section by the
 * pretraining ones (the objective flag wins over its `objective`).
 *
 * `deno task profile [--objective finetune|mlm|electra] [--config FILE] [--batch 32] [--seq 128] [--steps 3]
 *   [--dropout] [--threads 2] [--level all] [--keep] [--out FILE]`
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { initialState } from "../onnx/checkpoint.ts";
import { configFromHf, type ElectraConfig } from "../onnx/electra/config.ts";
import type { SessionOptions } from "../onnx/runtime.ts";
import type { Tensor } from "../onnx/tensor.ts";
import { TrainRunner } from "../onnx/trainer.ts";
import {
  DEFAULT_TRAIN,
  type Objective,
  type PretrainConfig,
  readPretrainConfig,
  withGenerator,
} from "../train/pretrain/pretrain_config.ts";
import { buildPretrainArtifacts } from "../train/pretrain/pretrain_model.ts";
import { pretrainStepParts } from "../train/pretrain/step_parts.ts";
import { partsByIndex, type ProfileEvent, summarise } from "../train/run/step_profile.ts";
import { readJsonFile } from "../train/util/fs.ts";
import { Rng } from "../train/util/rng.ts";
import { BENCH_LABELS, finetuneArtifacts, finetuneBatch } from "./finetune_bench.ts";
import { syntheticPretrainBatch } from "./pretrain_bench.ts";

const OBJECTIVES = ["finetune", "mlm", "electra"] as const;
const DEFAULT_CONFIGS: Record<Objective, string> = {
  mlm: "configs/pretrain/mlm15.json",
  electra: "configs/pretrain/electra-bs128.json",
};

/** A pretraining config from `{model, train}` or a bare model config, set to `objective` and batch B × T. */
async function pretrainConfigFor(path: string, objective: Objective, B: number, T: number) {
  const json = await readJsonFile(path, "config") as Record<string, unknown>;
  const base: PretrainConfig = json.model
    ? await readPretrainConfig(path)
    : withGenerator(configFromHf(json, path), DEFAULT_TRAIN, path);
  return withGenerator(base.model, {
    ...base.train,
    objective,
    batchSize: B,
    maxSeqLength: T,
    accumulate: 1,
  }, path);
}

/** Runs 1 warm-up + `steps` profiled steps; returns the profile's events and the median step time. */
async function profiledSteps(
  trainStep: Uint8Array,
  params: Record<string, Tensor>,
  batch: (i: number) => Record<string, Tensor>,
  o: { steps: number; threads: number; level: SessionOptions["graphOptimizationLevel"]; keep: boolean },
): Promise<{ events: ProfileEvent[]; stepMs: number }> {
  const dir = await Deno.makeTempDir({ prefix: "nersota-profile-" });
  const runner = await TrainRunner.open(trainStep, initialState(params), {
    threads: o.threads,
    graphOptimizationLevel: o.level,
    profilePrefix: `${dir}/train_step`,
    seed: 1,
  });
  const feeds = Array.from({ length: o.steps + 1 }, (_, i) => batch(i));
  const times: number[] = [];
  for (const [i, f] of feeds.entries()) {
    const t = performance.now();
    await runner.step(f, 1e-4);
    if (i > 0) times.push(performance.now() - t);
  }
  runner.session.endProfiling();
  await runner.release();
  const file = [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`).find((f) => f.endsWith(".json"));
  if (!file) throw new Error(`ONNX Runtime wrote no profile under ${dir}`);
  const events = JSON.parse(await Deno.readTextFile(file)) as ProfileEvent[];
  if (o.keep) console.error(`profile kept at ${file}`);
  else await Deno.remove(dir, { recursive: true });
  times.sort((a, b) => a - b);
  return { events, stepMs: times[times.length >> 1] };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      objective: { type: "string", default: "finetune" },
      config: { type: "string" },
      batch: { type: "string", default: "32" },
      seq: { type: "string", default: "128" },
      steps: { type: "string", default: "3" },
      dropout: { type: "boolean", default: false },
      threads: { type: "string", default: "2" },
      level: { type: "string", default: "all" },
      keep: { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const objective = values.objective as typeof OBJECTIVES[number];
  if (!OBJECTIVES.includes(objective)) {
    throw new Error(`--objective ${values.objective}: expected one of ${OBJECTIVES.join(", ")}`);
  }
  const B = Number(values.batch), T = Number(values.seq);
  const run = {
    steps: Number(values.steps),
    threads: Number(values.threads),
    level: values.level as SessionOptions["graphOptimizationLevel"],
    keep: values.keep,
  };
  let title: string, classify: (name: string) => string, profiled: { events: ProfileEvent[]; stepMs: number };
  if (objective === "finetune") {
    const model: ElectraConfig | undefined = values.config
      ? (await pretrainConfigFor(values.config, "mlm", B, T)).model
      : undefined;
    const a = finetuneArtifacts({ seq: T, dropout: values.dropout, model });
    classify = partsByIndex(a.trainStepLayout!);
    const vocab = a.params["electra.embeddings.word_embeddings.weight"].dims[0];
    profiled = await profiledSteps(
      a.trainStep,
      a.params,
      (i) => finetuneBatch(B, T, vocab, BENCH_LABELS.length, 1 + (i % 2)),
      run,
    );
    title = `Fine-tuning step profile (${values.config ?? "ELECTRA-small"}, dropout ${
      values.dropout ? "on" : "off"
    }`;
  } else {
    const path = values.config ?? fileURLToPath(new URL(`../${DEFAULT_CONFIGS[objective]}`, import.meta.url));
    const cfg = await pretrainConfigFor(path, objective, B, T);
    const a = buildPretrainArtifacts(cfg);
    classify = pretrainStepParts(a.trainStep, a.trainStepLayout!, objective);
    const rng = new Rng(7);
    const noise = objective === "mlm" ? "none" : cfg.train.sampler;
    profiled = await profiledSteps(
      a.trainStep,
      a.params,
      () => syntheticPretrainBatch(B, T, cfg.model.vocabSize, rng, noise),
      run,
    );
    title = `${objective === "mlm" ? "Masked-LM" : "ELECTRA"} pretraining step profile (${
      values.config ?? DEFAULT_CONFIGS[objective]
    }${
      objective === "electra" ? `, generator × ${cfg.train.generatorSize}, sampler ${cfg.train.sampler}` : ""
    }, dropout as in training`;
  }
  const md = `### ${title}; batch ${B} × seq ${T}, ${run.threads} thread(s), optimisation "${run.level}"; ` +
    `step ${profiled.stepMs.toFixed(0)} ms median, ${(profiled.stepMs / (B * T)).toFixed(3)} ms/token)\n\n` +
    summarise(profiled.events, classify);
  console.log(md);
  if (values.out) await Deno.writeTextFile(values.out, md + "\n");
}
