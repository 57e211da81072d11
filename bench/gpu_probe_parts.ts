/**
 * The measurements of the GPU probe (`bench/gpu_probe.ts`), each run in a child process on one execution
 * provider: inference parity with `cpu` on the default model, fine-tuning and pretraining steps per second
 * at the reference shape and at the largest batch that fits, a short pretraining run whose loss must fall,
 * and whether ONNX Runtime's CUDA provider loads at all. Two sizes: `full` is ELECTRA-small at 32 × 128
 * (what the figures are for) and `fast` a tiny model at 8 × 32 (what the test runs on CPU).
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { initialState } from "../onnx/checkpoint.ts";
import { ELECTRA_SMALL, type ElectraConfig } from "../onnx/electra/config.ts";
import { Graph } from "../onnx/graph.ts";
import { mul } from "../onnx/ops.ts";
import { openSession, type Provider, type SessionOptions } from "../onnx/runtime.ts";
import type { Tensor } from "../onnx/tensor.ts";
import { TrainRunner } from "../onnx/trainer.ts";
import { type Entity, loadRecognizer, type NerPipeline } from "../infer/pipeline.ts";
import { buildPretrainingData } from "../train/pretrain_data/build_data.ts";
import { readMetrics } from "../train/run/metrics_log.ts";
import { pretrain } from "../train/pretrain/pretrain.ts";
import { readPretrainConfig, withGenerator } from "../train/pretrain/pretrain_config.ts";
import { Rng } from "../train/util/rng.ts";
import { BENCH_LABELS, finetuneArtifacts, finetuneBatch } from "./finetune_bench.ts";
import { timeInference } from "./inference_bench.ts";
import { pretrainArtifacts, syntheticPretrainBatch } from "./pretrain_bench.ts";

/** Probe sizes: `full` measures ELECTRA-small (the figures that matter), `fast` a tiny model (tests). */
export type ProbeMode = "full" | "fast";

/** Shapes and lengths of each mode. */
export interface ModeSpec {
  /** `configs/<name>_config.json` of the pretraining model (its `model` section is also the fine-tuned one in fast mode). */
  pretrainConfig: "small" | "tiny";
  /** Fine-tuning architecture: ELECTRA-small, or the tiny config's model. */
  finetuneModel: "electra-small" | "tiny";
  seq: number;
  /** The reference batch (the PyTorch peer's 32 in full mode). */
  refBatch: number;
  /** The batch sweep doubles from `refBatch` up to this on GPU providers. */
  maxBatch: number;
  /** Timed steps per batch size (after one untimed warm-up step). */
  steps: number;
  /** The short pretraining run: updates (on `cpu`/`wasm`: `hostUpdates`), batch, learning-rate warm-up. */
  run: { updates: number; hostUpdates: number; batch: number; warmup: number; learningRate: number };
}

/** The two modes. Full: ELECTRA-small at 32 × 128; fast: the tiny config at 8 × 32. */
export const MODES: Record<ProbeMode, ModeSpec> = {
  full: {
    pretrainConfig: "small",
    finetuneModel: "electra-small",
    seq: 128,
    refBatch: 32,
    maxBatch: 4096,
    steps: 5,
    run: { updates: 60, hostUpdates: 20, batch: 32, warmup: 10, learningRate: 5e-4 },
  },
  fast: {
    pretrainConfig: "tiny",
    finetuneModel: "tiny",
    seq: 32,
    refBatch: 8,
    maxBatch: 32,
    steps: 2,
    run: { updates: 20, hostUpdates: 20, batch: 16, warmup: 5, learningRate: 2e-3 },
  },
};

/** Providers that run on the host's CPU: the batch sweep stops at the reference batch there. */
export const CPU_PROVIDERS: readonly Provider[] = ["cpu", "wasm"];

const repoFile = (rel: string) => fileURLToPath(new URL(`../${rel}`, import.meta.url));

/** Session options per provider: CUDA logs its warnings (nodes placed on CPU), the others only errors. */
export function sessionOptionsFor(provider: Provider): SessionOptions {
  return provider === "cuda" ? { provider, logSeverityLevel: 2 } : { provider };
}

// ---------------------------------------------------------------------------------------------------------
// CUDA provider

/** Where onnxruntime-node keeps its native libraries (the CUDA provider's `.so` files go beside them). */
export function ortNodeBinDir(): string {
  return repoFile(
    `node_modules/onnxruntime-node/bin/napi-v6/${Deno.build.os}/${
      Deno.build.arch === "x86_64" ? "x64" : "arm64"
    }`,
  );
}

/**
 * Opens and runs a one-node model on the CUDA provider. Returns `status: "ok"` when it ran, else the error
 * ONNX Runtime gave (the loader's own message, naming the missing library, goes to stderr: the parent
 * keeps it), plus which provider libraries are beside onnxruntime-node's `libonnxruntime.so.1`.
 */
export async function probeCudaProvider(): Promise<Record<string, unknown>> {
  const bin = ortNodeBinDir();
  const libs: Record<string, boolean> = {};
  for (const f of ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"]) {
    try {
      await Deno.stat(join(bin, f));
      libs[f] = true;
    } catch {
      libs[f] = false;
    }
  }
  const g = new Graph("cuda_probe");
  g.output(mul(g.input("x", "float32", [2]), 2), "y");
  try {
    const s = await openSession(g.toBytes(), { provider: "cuda", logSeverityLevel: 2 });
    const { y } = await s.run({ x: { dtype: "float32", dims: [2], data: Float32Array.of(1, 2) } });
    await s.release();
    const ok = y.data[0] === 2 && y.data[1] === 4;
    return {
      status: ok ? "ok" : "error",
      ort_bin_dir: bin,
      provider_libraries: libs,
      ...(ok ? {} : { error: `the CUDA session ran but returned [${[...y.data]}], expected [2, 4]` }),
    };
  } catch (e) {
    return { status: "unavailable", ort_bin_dir: bin, provider_libraries: libs, error: (e as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Inference parity

/** Spoken-Korean sentences (entities of every KLUE type) plus a long text that needs several windows. */
export const PARITY_TEXTS = [
  "어제 강남역에서 민수랑 만났어",
  "내일 오후 세시에 부산 해운대에서 지영이 보기로 했어",
  "삼성전자 주가가 오늘 3% 올랐대",
  "다음 주 금요일까지 보고서 두 장 써서 김 과장님한테 보내줘",
  "엄마가 2시간째 카카오톡 답장을 안 해 ㅠㅠ",
  "BTS 콘서트 표 예매했어?? 잠실 주경기장이래 😀",
  "작년 크리스마스에 홍대 앞 카페에서 철수 만났잖아",
  "서울대병원 응급실에 새벽 네 시쯤 도착했어요",
  "현대자동차 울산 공장은 1968년에 세워졌다",
  "주말에 KBS 뉴스 보다가 잠들었어",
  "ㅋㅋㅋ 진짜 웃기다",
  "",
  Array.from({ length: 12 }, (_, i) => `${i + 1}번째 줄: 어제 민수가 대전역에서 기차를 탔어.`).join(" "),
];

/** Same spans and types on both sides, ignoring scores; returns the first differences (at most 3). */
export function entityDifferences(a: Entity[][], b: Entity[][]): string[] {
  const key = (e: Entity) => `${e.type}:${e.start}-${e.end}`;
  const diffs: string[] = [];
  a.forEach((x, i) => {
    const ka = x.map(key).join(" "), kb = (b[i] ?? []).map(key).join(" ");
    if (ka !== kb && diffs.length < 3) diffs.push(`text ${i}: cpu [${ka}] vs [${kb}]`);
  });
  return diffs;
}

/** Largest absolute difference between two equally long arrays (Infinity when lengths differ or a NaN appears). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i] - b[i]);
    if (!(x <= d)) d = Number.isNaN(x) ? Infinity : x;
  }
  return d;
}

/** Wraps a pipeline's session so every `logits` output is copied into `into` (same order on both sides). */
function captureLogits(ner: NerPipeline, into: Float32Array[]): void {
  const session = ner.session as { run: NerPipeline["session"]["run"] };
  const run = session.run.bind(ner.session);
  session.run = async (feeds, outputs) => {
    const out = await run(feeds, outputs);
    into.push(Float32Array.from(out.logits.data as Float32Array));
    return out;
  };
}

/**
 * The default model's float32 graph on `cpu` and on `provider`: entities equal (types and spans), the largest
 * logit and score differences, and inference tokens/s at the reference shape on `provider`.
 */
export async function parity(provider: Provider, mode: ProbeMode): Promise<Record<string, unknown>> {
  const model = new URL("../models/default/", import.meta.url);
  const results: { entities: Entity[][]; logits: Float32Array[]; seconds: number }[] = [];
  for (const p of ["cpu", provider] as Provider[]) {
    // The float32 graph on both sides (on cpu the default would be the int8 variant).
    const ner = await loadRecognizer(model, { ...sessionOptionsFor(p), provider: p, variant: "fp32" });
    const logits: Float32Array[] = [];
    captureLogits(ner, logits);
    await ner.recognize(PARITY_TEXTS.slice(0, 2)); // warm-up (shader compilation, kernel choice)
    logits.length = 0;
    const t0 = performance.now();
    const entities = await ner.recognize(PARITY_TEXTS);
    results.push({ entities, logits, seconds: (performance.now() - t0) / 1000 });
    await ner.release();
  }
  const [ref, got] = results;
  let maxLogit = ref.logits.length === got.logits.length ? 0 : Infinity;
  ref.logits.forEach((l, i) =>
    maxLogit = Math.max(maxLogit, maxAbsDiff(l, got.logits[i] ?? new Float32Array()))
  );
  let maxScore = 0;
  ref.entities.forEach((x, i) =>
    x.forEach((e, j) => {
      const o = got.entities[i]?.[j];
      if (o && o.start === e.start && o.end === e.end) {
        maxScore = Math.max(maxScore, Math.abs(o.score - e.score));
      }
    })
  );
  const diffs = entityDifferences(ref.entities, got.entities);
  const spec = MODES[mode];
  const bytes = await Deno.readFile(new URL("inference.onnx", model));
  const vocab = (await Deno.readTextFile(new URL("vocab.txt", model))).trimEnd().split("\n").length;
  const speed = await timeInference(
    bytes,
    provider,
    vocab,
    spec.refBatch * (mode === "full" ? 1 : 4),
    spec.seq,
    mode === "full" ? 3 : 0.5,
    3,
  );
  return {
    model: "models/default",
    texts: PARITY_TEXTS.length,
    entities: ref.entities.reduce((s, x) => s + x.length, 0),
    entities_equal: diffs.length === 0,
    differences: diffs,
    max_logit_diff: maxLogit,
    max_score_diff: maxScore,
    logit_batches: ref.logits.length,
    inference: {
      batch: spec.refBatch * (mode === "full" ? 1 : 4),
      seq: spec.seq,
      tokens_per_s: speed.tokensPerS,
      ms_per_batch: speed.msPerBatch,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Training throughput

/** One batch size's timing. */
export interface StepTiming {
  batch: number;
  seq: number;
  /** Timed steps (after one untimed warm-up step at this shape). */
  steps: number;
  /** Median step time. */
  step_ms: number;
  steps_per_s: number;
  /** Training tokens (batch × sequence) per second at the median step time. */
  tokens_per_s: number;
  /** The untimed first step at this shape (allocation, kernel or shader compilation). */
  first_step_ms: number;
  last_loss: number;
}

/** A batch size that failed (out of memory, a buffer limit, …). */
export interface StepFailure {
  batch: number;
  error: string;
}

/** Steps per second at the reference batch and at doubling batches until one fails or the budget ends. */
export interface SweepResult {
  reference: StepTiming | StepFailure;
  sweep: (StepTiming | StepFailure)[];
  /** The largest batch that ran, with its timing. */
  largest_batch: number | null;
  largest: StepTiming | null;
  /**
   * Why the sweep ended: a batch failed, the next would not fit the time budget, or the mode's largest batch
   * was reached ("in progress" in the partial results a sweep reports after each batch size).
   */
  stopped: "error" | "budget" | "max-batch" | "in progress";
}

/** The sweep's result from its rows so far. */
function sweepSummary(rows: (StepTiming | StepFailure)[], stopped: SweepResult["stopped"]): SweepResult {
  const ok = rows.filter((r): r is StepTiming => "step_ms" in r);
  const largest = ok.length ? ok.reduce((a, b) => (b.batch > a.batch ? b : a)) : null;
  return { reference: rows[0], sweep: [...rows], largest_batch: largest?.batch ?? null, largest, stopped };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Options of `sweepBatches`. */
export interface SweepOptions {
  seq: number;
  refBatch: number;
  maxBatch: number;
  steps: number;
  lr: number;
  /** Seconds this sweep may take from `start` (performance.now() ms). */
  budgetS: number;
  start: number;
  /** Called after each batch size with the result so far (a sweep killed at its deadline keeps them). */
  onRow?: (partial: SweepResult) => void;
}

/**
 * Times `step` at `refBatch`, then at twice that, and so on up to `maxBatch`: one untimed warm-up step per
 * shape, then `steps` timed ones (fewer when the budget runs short, at least one). A batch size is not
 * tried when its predicted time (the last step time scaled by the batch ratio) would overrun the budget.
 */
export async function sweepBatches(
  step: (feeds: Record<string, Tensor>, lr: number) => Promise<number>,
  makeBatch: (batch: number, k: number) => Record<string, Tensor>,
  o: SweepOptions,
): Promise<SweepResult> {
  const rows: (StepTiming | StepFailure)[] = [];
  let stopped: SweepResult["stopped"] = "max-batch";
  const left = () => o.budgetS - (performance.now() - o.start) / 1000;
  for (let B = o.refBatch; B <= o.maxBatch; B *= 2) {
    const last = rows.at(-1);
    if (last && "step_ms" in last) {
      const predicted = (last.step_ms * (B / last.batch) * (o.steps + 2)) / 1000;
      if (predicted > left()) {
        stopped = "budget";
        break;
      }
    }
    try {
      const feeds = [makeBatch(B, 0), makeBatch(B, 1)];
      const w = performance.now();
      await step(feeds[0], o.lr);
      const first = performance.now() - w;
      const times: number[] = [];
      let loss = NaN;
      for (let i = 0; i < o.steps; i++) {
        if (i > 0 && left() < (median(times) / 1000) * 1.5) break;
        const t = performance.now();
        loss = await step(feeds[(i + 1) % 2], o.lr);
        times.push(performance.now() - t);
      }
      const ms = median(times);
      rows.push({
        batch: B,
        seq: o.seq,
        steps: times.length,
        step_ms: ms,
        steps_per_s: 1000 / ms,
        tokens_per_s: (B * o.seq * 1000) / ms,
        first_step_ms: first,
        last_loss: loss,
      });
      o.onRow?.(sweepSummary(rows, "in progress"));
      if (!Number.isFinite(loss)) {
        rows.push({ batch: B, error: `the loss is ${loss}` });
        stopped = "error";
        break;
      }
    } catch (e) {
      rows.push({ batch: B, error: (e as Error).message.slice(0, 2000) });
      stopped = "error";
      break;
    }
  }
  return sweepSummary(rows, stopped);
}

async function modelConfig(spec: ModeSpec) {
  const base = await readPretrainConfig(repoFile(`configs/${spec.pretrainConfig}_config.json`));
  return withGenerator(base.model, { ...base.train, maxSeqLength: spec.seq, batchSize: spec.refBatch });
}

/**
 * Fine-tuning (token classification, 13 labels, AdamW) or pretraining (generator + discriminator, ELECTRA's
 * optimizer) train steps on `provider`: build, open, then `sweepBatches` on synthetic batches.
 */
export async function trainThroughput(
  kind: "finetune" | "pretrain",
  provider: Provider,
  mode: ProbeMode,
  budgetS: number,
  onProgress?: (partial: Record<string, unknown>) => void,
): Promise<Record<string, unknown>> {
  const start = performance.now();
  const spec = MODES[mode];
  const cfg = await modelConfig(spec);
  const t0 = performance.now();
  let model: ElectraConfig;
  let art;
  if (kind === "finetune") {
    model = spec.finetuneModel === "electra-small" ? ELECTRA_SMALL : cfg.model;
    art = finetuneArtifacts({ seq: spec.seq, dropout: false, model });
  } else {
    model = cfg.model;
    art = pretrainArtifacts(cfg);
  }
  const buildS = (performance.now() - t0) / 1000;
  const params = Object.values(art.params).reduce((s, t) => s + t.data.length, 0);
  const t1 = performance.now();
  const runner = await TrainRunner.open(art.trainStep, initialState(art.params), {
    ...sessionOptionsFor(provider),
    seed: 1,
  });
  art = undefined; // the runner holds its own copy of the weights
  const openS = (performance.now() - t1) / 1000;
  const rng = new Rng(7);
  const makeBatch = kind === "finetune"
    ? (B: number, k: number) => finetuneBatch(B, spec.seq, model.vocabSize, BENCH_LABELS.length, k + 1)
    : (B: number) => syntheticPretrainBatch(B, spec.seq, model.vocabSize, rng);
  const onCpu = CPU_PROVIDERS.includes(provider);
  const head = {
    model: kind === "finetune"
      ? `${spec.finetuneModel} token classification (${BENCH_LABELS.length} labels)`
      : `${
        spec.pretrainConfig === "small" ? "ELECTRA-small" : "tiny"
      } pretraining (configs/${spec.pretrainConfig}_config.json)`,
    params,
    build_s: buildS,
    session_open_s: openS,
    ...(onCpu ? { sweep_note: "host-memory provider: measured at the reference batch only" } : {}),
  };
  const sweep = await sweepBatches((f, lr) => runner.step(f, lr), makeBatch, {
    seq: spec.seq,
    refBatch: spec.refBatch,
    maxBatch: onCpu ? spec.refBatch : spec.maxBatch,
    steps: spec.steps,
    lr: kind === "finetune" ? 5e-5 : 1e-4,
    budgetS,
    start,
    onRow: (partial) => onProgress?.({ ...head, ...partial }),
  });
  await runner.release();
  return { ...head, ...sweep };
}

// ---------------------------------------------------------------------------------------------------------
// A short pretraining run

/**
 * `pretrain()` itself (the real loop: shards, masking, schedule, evaluation) for a fixed number of updates on
 * the pretraining fixture corpus, in a temporary folder. The loss falls when the held-out loss and the
 * training loss (mean of the last logged window against the first) both end lower than they start.
 */
export async function pretrainRun(provider: Provider, mode: ProbeMode): Promise<Record<string, unknown>> {
  const spec = MODES[mode];
  const dir = await Deno.makeTempDir({ prefix: "nersota-gpu-probe-run-" });
  try {
    const data = join(dir, "data");
    await buildPretrainingData({
      corpus: [repoFile("fixtures/pretrain/corpus.txt")],
      vocabText: await Deno.readTextFile(repoFile("fixtures/pretrain/vocab.txt")),
      outDir: data,
      maxSeqLength: spec.seq,
      seed: 1,
      numProcesses: 1,
    });
    const base = await readPretrainConfig(repoFile(`configs/${spec.pretrainConfig}_config.json`));
    const u = CPU_PROVIDERS.includes(provider) ? spec.run.hostUpdates : spec.run.updates;
    const config = withGenerator(base.model, {
      ...base.train,
      maxSeqLength: spec.seq,
      batchSize: spec.run.batch,
      trainSteps: u,
      warmupSteps: spec.run.warmup,
      learningRate: spec.run.learningRate,
      evalEvery: u,
      evalExamples: 64,
      evalBatchSize: spec.run.batch,
      saveEvery: 0,
      logEvery: Math.max(1, Math.floor(u / 6)),
    });
    const out = join(dir, "run");
    const t0 = performance.now();
    const r = await pretrain({
      config,
      data,
      out,
      ...sessionOptionsFor(provider),
      quiet: true,
      export: false,
    });
    const seconds = (performance.now() - t0) / 1000;
    const metrics = await readMetrics(join(out, "metrics.jsonl"));
    const evals = metrics.filter((m) => m.type === "eval");
    const train = metrics.filter((m) => m.type === "train");
    const num = (x: unknown) => (typeof x === "number" ? x : NaN);
    const evalFirst = num(evals[0]?.loss), evalLast = num(evals.at(-1)?.loss);
    const trainFirst = num(train[0]?.loss), trainLast = num(train.at(-1)?.loss);
    // The first logged window holds the session's first (slowest) steps: the loop's rate is the rest's median.
    const rates = train.slice(1).map((m) => num(m.tokens_per_s)).filter(Number.isFinite);
    return {
      model: `${
        spec.pretrainConfig === "small" ? "ELECTRA-small" : "tiny"
      } (configs/${spec.pretrainConfig}_config.json)`,
      data: "fixtures/pretrain/corpus.txt (synthetic colloquial sentences, 73-token vocabulary)",
      updates: r.step,
      batch: spec.run.batch,
      seq: spec.seq,
      learning_rate: spec.run.learningRate,
      eval_loss_first: evalFirst,
      eval_loss_last: evalLast,
      train_loss_first: trainFirst,
      train_loss_last: trainLast,
      discriminator_auc_last: num(evals.at(-1)?.discriminator_auc),
      loss_falls: evalLast < evalFirst && trainLast < trainFirst,
      train_losses: train.map((m) => [m.step, num(m.loss)]),
      tokens_per_s: r.tokensPerSecond,
      loop_tokens_per_s: rates.length ? median(rates) : null,
      seconds,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
