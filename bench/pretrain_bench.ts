/**
 * Pretraining throughput: ELECTRA replaced-token-detection training steps (generator + discriminator,
 * forward, backward, clipping and AdamW fused in one ONNX Runtime run) on synthetic batches, reported as
 * training tokens/s (batch × sequence, the unit the PyTorch peer reports). Called by `deno task bench`;
 * run alone with `deno run -A bench/pretrain_bench.ts [--size small|tiny] [--batch 32] [--seq 128] [--steps 5]`.
 * @module
 */
import { parseArgs } from "node:util";
import { buildTrainingArtifacts, type TrainingArtifacts } from "../onnx/artifacts.ts";
import { initialState } from "../onnx/checkpoint.ts";
import { electraAdam } from "../onnx/optimizer.ts";
import type { Provider } from "../onnx/runtime.ts";
import type { Tensor } from "../onnx/tensor.ts";
import { TrainRunner } from "../onnx/trainer.ts";
import type { Sampler } from "../onnx/electra/pretraining.ts";
import {
  gumbelNoise,
  maskBatch,
  maxPredictions,
  pretrainFeeds,
  sampleUniform,
} from "../train/pretrain_data/masking.ts";
import { type PretrainConfig, readPretrainConfig, withGenerator } from "../train/pretrain/pretrain_config.ts";
import { pretrainingForward } from "../train/pretrain/pretrain_model.ts";
import { Rng } from "../train/util/rng.ts";

/** Options of `benchPretrain`. */
export interface PretrainBenchOptions {
  /** "small" (configs/small_config.json, the default) or "tiny" (configs/tiny_config.json). */
  size?: "small" | "tiny";
  batch?: number;
  seq?: number;
  /** Timed steps (after two warm-up steps). */
  steps?: number;
  provider?: Provider;
  threads?: number;
}

/** The fused pretraining train step (generator + discriminator, RTD loss, ELECTRA's optimizer) for a config. */
export function pretrainArtifacts(cfg: PretrainConfig): TrainingArtifacts {
  return buildTrainingArtifacts(
    pretrainingForward({
      discriminator: cfg.model,
      generator: cfg.generator,
      seed: 1,
      discriminatorWeight: 50,
      sampler: "inverse-cdf",
    }),
    { optimizer: electraAdam() },
  );
}

/**
 * A synthetic pretraining batch: full-length rows of random non-special ids framed by [CLS] … [SEP], two
 * segments, masked at 15 %, with the sampler's noise (uniforms by default; none for the masked-LM graph).
 */
export function syntheticPretrainBatch(
  B: number,
  T: number,
  vocabSize: number,
  rng: Rng,
  noise: Sampler | "none" = "inverse-cdf",
): Record<string, Tensor> {
  const P = maxPredictions(0.15, T);
  const inputIds = new Int32Array(B * T),
    segmentIds = new Int32Array(B * T),
    attentionMask = new Int32Array(B * T).fill(1);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      inputIds[b * T + t] = t === 0 ? 2 : t === T - 1 ? 3 : 5 + rng.int(vocabSize - 5);
    }
    segmentIds.fill(1, b * T + T / 2, (b + 1) * T);
  }
  const m = maskBatch({ inputIds, segmentIds, attentionMask, batchSize: B, seqLength: T }, {
    maskProb: 0.15,
    numPredictions: P,
  }, rng);
  if (noise === "none") return pretrainFeeds(m);
  return pretrainFeeds(
    m,
    noise === "gumbel"
      ? { name: "gumbel_noise", data: gumbelNoise(B, P, vocabSize, rng) }
      : { name: "sample_uniform", data: sampleUniform(B, P, rng) },
  );
}

/** Measures pretraining tokens/s; returns `{pretrain_tokens_per_s, step_ms, build_s, …}`. */
export async function benchPretrain(opts: PretrainBenchOptions = {}): Promise<Record<string, number>> {
  const size = opts.size ?? "small";
  const B = opts.batch ?? 32, T = opts.seq ?? 128, steps = opts.steps ?? 5;
  const file = new URL(`../configs/${size}_config.json`, import.meta.url);
  const base = await readPretrainConfig(decodeURIComponent(file.pathname));
  const cfg = withGenerator(base.model, { ...base.train, maxSeqLength: T, batchSize: B });
  const t0 = performance.now();
  const artifacts = pretrainArtifacts(cfg);
  const buildS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const runner = await TrainRunner.open(artifacts.trainStep, initialState(artifacts.params), {
    provider: opts.provider ?? "cpu",
    threads: opts.threads,
    seed: 1,
  });
  const openS = (performance.now() - t1) / 1000;

  const rng = new Rng(7);
  const batch = () => syntheticPretrainBatch(B, T, cfg.model.vocabSize, rng);
  // Warm-up: allocations and kernel selection on the first step; with only one, the first timed step still
  // page-faulted fresh buffers and skewed short runs.
  for (let i = 0; i < 2; i++) await runner.step(batch(), 1e-4);
  const feeds = Array.from({ length: steps }, batch);
  const t2 = performance.now();
  let loss = 0;
  for (const f of feeds) loss = await runner.step(f, 1e-4);
  const seconds = (performance.now() - t2) / 1000;
  await runner.release();
  const params = Object.values(artifacts.params).reduce((s, t) => s + t.data.length, 0);
  return {
    pretrain_tokens_per_s: (steps * B * T) / seconds,
    pretrain_step_ms: (seconds / steps) * 1000,
    pretrain_build_s: buildS,
    pretrain_session_open_s: openS,
    pretrain_params: params,
    pretrain_batch: B,
    pretrain_seq: T,
    pretrain_last_loss: loss,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string", default: "small" },
      batch: { type: "string", default: "32" },
      seq: { type: "string", default: "128" },
      steps: { type: "string", default: "5" },
      threads: { type: "string" },
      provider: { type: "string", default: "cpu" },
    },
  });
  const r = await benchPretrain({
    size: values.size as "small" | "tiny",
    batch: Number(values.batch),
    seq: Number(values.seq),
    steps: Number(values.steps),
    threads: values.threads ? Number(values.threads) : undefined,
    provider: values.provider as Provider,
  });
  console.log(JSON.stringify(r, null, 2));
}
