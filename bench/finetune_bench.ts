/**
 * Fine-tuning throughput: one ELECTRA-small token-classification training step (forward, backward, global
 * clipping and AdamW fused in one ONNX Runtime run of `train_step.onnx`, driven by `TrainRunner`) at the
 * PyTorch peer's shape (batch 32 × 128, 13 labels, dropout off as in the peer), reported as training
 * tokens/s from the median step time. Called by `deno task bench` (in a child process, so that its peak
 * memory is its own); run alone with
 * `deno run -A bench/finetune_bench.ts [--batch 32] [--seq 128] [--steps 5] [--dropout] [--threads 2] [--level all]`.
 * @module
 */
import { parseArgs } from "node:util";
import { buildTrainingArtifacts } from "../onnx/artifacts.ts";
import { initialState } from "../onnx/checkpoint.ts";
import { ELECTRA_SMALL, type ElectraConfig, electraConfig, withLabels } from "../onnx/electra/config.ts";
import { buildTokenClassificationGraph } from "../onnx/electra/token_classification.ts";
import { adamw } from "../onnx/optimizer.ts";
import type { Provider, SessionOptions } from "../onnx/runtime.ts";
import { TrainRunner } from "../onnx/trainer.ts";
import type { Tensor } from "../onnx/tensor.ts";

/** The peer's 13 labels: O and B/I of six entity types. */
export const BENCH_LABELS = [
  "O",
  ...["PS", "LC", "OG", "DT", "TI", "QT"].flatMap((t) => [`B-${t}`, `I-${t}`]),
];

/** Options of `benchFinetune`. */
export interface FinetuneBenchOptions {
  batch?: number;
  seq?: number;
  /** Timed steps (after `warmup` untimed ones). */
  steps?: number;
  warmup?: number;
  /** Dropout on (ELECTRA's 0.1 everywhere); off by default to match the peer. */
  dropout?: boolean;
  provider?: Provider;
  /** Intra-op threads (default 2: this machine's cores). */
  threads?: number;
  graphOptimizationLevel?: SessionOptions["graphOptimizationLevel"];
  /** Run the encoder on 2-D (B·T, ·) activations (see `BuildContext.flatTokens`). */
  flatTokens?: boolean;
  /** Let ORT write new state into reused buffers (TrainRunner's default). */
  preallocateOutputs?: boolean;
  /** ORT profile file prefix (profiles every step, warm-up included). */
  profilePrefix?: string;
  /** Further ONNX Runtime session options (default `FINETUNE_SESSION_EXTRAS`; `{}` for ORT's defaults). */
  sessionExtras?: Record<string, unknown>;
}

/**
 * Session options the training benches use by default:
 * - `enableMemPattern: false`: ORT's memory pattern (one planned block for all intermediate tensors, made
 *   after the first run) comes on top of the arena chunks the first run already holds, so the peak nearly
 *   doubles at no gain in speed.
 * - intra-op threads do not spin while waiting for work: on a 2-core machine shared with other jobs the
 *   spinning worker takes the core the other thread needs.
 * Both measured in docs/benchmarks.md ("Speed and memory changes made for issue 9").
 */
export const FINETUNE_SESSION_EXTRAS: Record<string, unknown> = {
  enableMemPattern: false,
  extra: { session: { "intra_op.allow_spinning": "0" } },
};

/**
 * onnxruntime-node with extra session options merged into every `InferenceSession.create` (the runtime
 * adapter takes an injected ORT module; this is how the bench reaches options it does not expose).
 */
export async function ortWithExtras(extras: Record<string, unknown> | undefined): Promise<unknown> {
  if (!extras || !Object.keys(extras).length) return undefined;
  const m = await import("npm:onnxruntime-node@1.30.0");
  // deno-lint-ignore no-explicit-any
  const ort: any = (m as any).default?.InferenceSession ? (m as any).default : m;
  return {
    env: ort.env,
    Tensor: ort.Tensor,
    InferenceSession: {
      create: (model: unknown, options: Record<string, unknown>) =>
        ort.InferenceSession.create(model, { ...options, ...extras }),
    },
  };
}

/**
 * The train-step artifact (plus initial parameters) for token classification with the 13 bench labels:
 * ELECTRA-small unless `model` gives another architecture (the GPU probe's fast mode uses a tiny one).
 */
export function finetuneArtifacts(
  o: { seq: number; dropout: boolean; seed?: number; flatTokens?: boolean; model?: Partial<ElectraConfig> },
) {
  const base = o.model ?? ELECTRA_SMALL;
  const config = withLabels(
    electraConfig({ ...base, maxPositionEmbeddings: Math.max(base.maxPositionEmbeddings ?? 512, o.seq) }),
    BENCH_LABELS,
  );
  return buildTrainingArtifacts((_g, ctx) => {
    const g = buildTokenClassificationGraph({
      config,
      seed: o.seed ?? 1,
      training: ctx.mode !== "inference",
      flatTokens: o.flatTokens,
      dropout: o.dropout && ctx.mode === "train" ? ctx.dropout : undefined,
    });
    const loss = g.outputs.find((v) => v.name === "loss");
    const logits = g.outputs.find((v) => v.name === "logits")!;
    return ctx.mode === "inference" ? { outputs: { logits } } : { loss, outputs: { logits } };
  }, { optimizer: adamw() }); // the project's fine-tuning optimizer: AdamW, clip 1.0
}

/** Synthetic batch: random ids over the vocabulary, full attention, random gold labels (as the peer). */
export function finetuneBatch(
  B: number,
  T: number,
  vocab: number,
  labels: number,
  seed = 12345,
): Record<string, Tensor> {
  let x = seed >>> 0;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const ids = new BigInt64Array(B * T), gold = new BigInt64Array(B * T);
  for (let i = 0; i < ids.length; i++) {
    ids[i] = BigInt(5 + (next() % (vocab - 5)));
    gold[i] = BigInt(next() % labels);
  }
  return {
    input_ids: { dtype: "int64", dims: [B, T], data: ids },
    attention_mask: { dtype: "int64", dims: [B, T], data: new BigInt64Array(B * T).fill(1n) },
    token_type_ids: { dtype: "int64", dims: [B, T], data: new BigInt64Array(B * T) },
    labels: { dtype: "int64", dims: [B, T], data: gold },
  };
}

/** [current, peak] resident memory of this process in MiB (VmRSS, VmHWM), or zeros without /proc. */
export function rssMiB(): [number, number] {
  try {
    const s = Deno.readTextFileSync("/proc/self/status");
    const kib = (k: string) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? 0);
    return [Math.round(kib("VmRSS") / 1024), Math.round(kib("VmHWM") / 1024)];
  } catch {
    return [0, 0];
  }
}

/** CPU seconds (user + system, all threads) of this process, from /proc/self/stat; NaN without /proc. */
export function cpuSeconds(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Measures fine-tuning steps; returns `{finetune_tokens_per_s, finetune_step_ms, …}` (median step). */
export async function benchFinetune(opts: FinetuneBenchOptions = {}): Promise<Record<string, number>> {
  const B = opts.batch ?? 32, T = opts.seq ?? 128, steps = opts.steps ?? 5, warmup = opts.warmup ?? 1;
  const dropout = opts.dropout ?? false;
  const t0 = performance.now();
  let artifacts: ReturnType<typeof finetuneArtifacts> | undefined = finetuneArtifacts({
    seq: T,
    dropout,
    flatTokens: opts.flatTokens,
  });
  const buildS = (performance.now() - t0) / 1000;
  const modelBytes = artifacts.trainStep.length;
  const mem: Record<string, number> = {};
  [mem.finetune_rss_built_mib, mem.finetune_hwm_built_mib] = rssMiB();
  const t1 = performance.now();
  const runner = await TrainRunner.open(artifacts.trainStep, initialState(artifacts.params), {
    provider: opts.provider ?? "cpu",
    threads: opts.threads ?? 2,
    graphOptimizationLevel: opts.graphOptimizationLevel,
    preallocateOutputs: opts.preallocateOutputs,
    profilePrefix: opts.profilePrefix,
    ort: await ortWithExtras(opts.sessionExtras ?? FINETUNE_SESSION_EXTRAS),
    seed: 1,
  });
  // The runner owns copies of the weights now: drop the build's graphs and tensors before stepping.
  artifacts = undefined;
  (globalThis as { gc?: () => void }).gc?.();
  const openS = (performance.now() - t1) / 1000;
  [mem.finetune_rss_opened_mib, mem.finetune_hwm_opened_mib] = rssMiB();
  const vocab = ELECTRA_SMALL.vocabSize;
  const batches = [
    finetuneBatch(B, T, vocab, BENCH_LABELS.length, 1),
    finetuneBatch(B, T, vocab, BENCH_LABELS.length, 2),
  ];
  for (let i = 0; i < warmup; i++) await runner.step(batches[i % 2], 5e-5);
  [mem.finetune_rss_warm_mib, mem.finetune_hwm_warm_mib] = rssMiB();
  const times: number[] = [], cpu: number[] = [];
  let loss = 0;
  for (let i = 0; i < steps; i++) {
    const s = performance.now(), c = cpuSeconds();
    loss = await runner.step(batches[i % 2], 5e-5);
    times.push(performance.now() - s);
    cpu.push((cpuSeconds() - c) * 1000);
  }
  [mem.finetune_rss_end_mib, mem.finetune_hwm_end_mib] = rssMiB();
  if (opts.profilePrefix) runner.session.endProfiling();
  await runner.release();
  const stepMs = median(times);
  return {
    finetune_tokens_per_s: (B * T) / (stepMs / 1000),
    finetune_step_ms: stepMs,
    finetune_step_ms_min: Math.min(...times),
    // CPU time per step (all threads): the steadier measure of work on a loaded machine (threads do not spin).
    finetune_step_cpu_ms: median(cpu),
    finetune_build_s: buildS,
    finetune_session_open_s: openS,
    finetune_model_bytes: modelBytes,
    finetune_batch: B,
    finetune_seq: T,
    finetune_dropout: dropout ? 1 : 0,
    finetune_last_loss: loss,
    ...mem,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batch: { type: "string", default: "32" },
      seq: { type: "string", default: "128" },
      steps: { type: "string", default: "5" },
      dropout: { type: "boolean", default: false },
      threads: { type: "string", default: "2" },
      level: { type: "string", default: "all" },
      "no-prealloc": { type: "boolean", default: false },
      extras: { type: "string" },
      flat: { type: "boolean", default: false },
    },
  });
  const r = await benchFinetune({
    batch: Number(values.batch),
    seq: Number(values.seq),
    steps: Number(values.steps),
    dropout: values.dropout,
    threads: Number(values.threads),
    graphOptimizationLevel: values.level as SessionOptions["graphOptimizationLevel"],
    preallocateOutputs: !values["no-prealloc"],
    sessionExtras: values.extras ? JSON.parse(values.extras) : undefined,
    flatTokens: values.flat,
  });
  console.log(JSON.stringify(r));
}
