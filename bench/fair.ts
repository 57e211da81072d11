/**
 * What makes `deno task bench`'s comparison fair and readable: the peer's environment without the
 * variables that pin OpenBLAS to old kernels, the best of the peer's torch thread settings per round, the
 * CPU's flags, and model FLOPs, so that each row's tokens/s also reads as GFLOP/s and as a share of the
 * machine's measured SGEMM roofline (`bench/roofline.ts`). Pure functions: `bench/main.ts` does the I/O.
 * @module
 */
import type { ElectraConfig } from "../onnx/electra/config.ts";

/**
 * Environment variables the peer's process runs without: this workplace sets them to pin OpenBLAS to
 * Haswell kernels and a small L2, which slows PyTorch's SGEMM on AVX-512 machines (docs/benchmarks.md).
 */
export const PINNING_VARIABLES: readonly string[] = Object.freeze(["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]);

/** The peer's environment: `env` without `PINNING_VARIABLES` (kept when `pinned`), and what was removed. */
export function peerEnvironment(
  env: Record<string, string>,
  pinned = false,
): { env: Record<string, string>; removed: Record<string, string> } {
  const out: Record<string, string> = {}, removed: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!pinned && PINNING_VARIABLES.includes(k)) removed[k] = v;
    else out[k] = v;
  }
  return { env: out, removed };
}

/** The CPU as `/proc/cpuinfo` describes it: model name, core count, all flags and the SIMD ones among them. */
export interface CpuInfo {
  model: string;
  cpus: number;
  flags: string[];
  /** The flags that decide which GEMM kernels run (SSE…AVX-512, FMA, VNNI, AMX, F16C, BF16). */
  simd: string[];
}

const SIMD = /^(sse|ssse|avx|fma|f16c|amx|vnni|.*vnni|.*bf16|.*fp16)/;

/** Parses `/proc/cpuinfo` text (the first processor's model and flags; the number of processors). */
export function parseCpuInfo(text: string): CpuInfo {
  const field = (name: string) => text.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1]?.trim() ?? "";
  const flags = field("flags").split(/\s+/).filter(Boolean);
  return {
    model: field("model name"),
    cpus: (text.match(/^processor\s*:/gm) ?? []).length,
    flags,
    simd: flags.filter((f) => SIMD.test(f)),
  };
}

/** The dense-layer GEMM shapes of one encoder layer over n tokens: [rows, inner, columns] each. */
export function layerGemmShapes(c: ElectraConfig, n: number): [number, number, number][] {
  const h = c.hiddenSize, i = c.intermediateSize;
  return [[n, h, h], [n, h, i], [n, i, h]];
}

/**
 * Multiply–add FLOPs (2 per multiply–add) of one encoder forward over batch × seq tokens: the embedding
 * projection (when embedding ≠ hidden size), per layer Q, K, V, output, up and down projections and the
 * two attention products (scores and weighted values, seq × seq per head). Elementwise work (softmax,
 * GELU, LayerNorm, bias adds) and the embedding gathers are not counted: FLOPs here mean GEMM work.
 */
export function encoderFlops(c: ElectraConfig, batch: number, seq: number): number {
  const n = batch * seq, h = c.hiddenSize, i = c.intermediateSize;
  const projection = c.embeddingSize !== h ? 2 * n * c.embeddingSize * h : 0;
  const dense = 2 * n * (4 * h * h + 2 * h * i);
  const attention = 2 * 2 * batch * seq * seq * h; // QKᵀ and AV over all heads: heads × head size = h
  return projection + c.numHiddenLayers * (dense + attention);
}

/** Forward FLOPs of token classification: the encoder and the (hidden → labels) classifier. */
export function tokenClassificationFlops(
  c: ElectraConfig,
  batch: number,
  seq: number,
  labels: number,
): number {
  return encoderFlops(c, batch, seq) + 2 * batch * seq * c.hiddenSize * labels;
}

/**
 * Forward FLOPs of one replaced-token-detection step: the generator's encoder and its masked-LM head at
 * `predictions` positions per sequence (dense to embedding size, tied output over the vocabulary), the
 * discriminator's encoder and its head (dense hidden → hidden, then → 1 per token).
 */
export function pretrainingFlops(
  discriminator: ElectraConfig,
  generator: ElectraConfig,
  batch: number,
  seq: number,
  predictions: number,
): number {
  const p = batch * predictions, n = batch * seq;
  const lmHead = 2 * p * generator.hiddenSize * generator.embeddingSize +
    2 * p * generator.embeddingSize * generator.vocabSize;
  const discHead = 2 * n * discriminator.hiddenSize * discriminator.hiddenSize +
    2 * n * discriminator.hiddenSize;
  return encoderFlops(generator, batch, seq) + lmHead + encoderFlops(discriminator, batch, seq) + discHead;
}

/**
 * A training step's FLOPs from its forward's: the backward computes two products per forward product
 * (gradients of the input and of the weight), so forward + backward ≈ 3× forward (the optimizer's
 * elementwise work is not counted).
 */
export function trainingFlops(forward: number): number {
  return 3 * forward;
}

/** GFLOP/s of a run that processes `tokensPerS` tokens at `flopsPerToken`. */
export function gflops(tokensPerS: number, flopsPerToken: number): number {
  return (tokensPerS * flopsPerToken) / 1e9;
}

/** One peer run at a torch thread setting, as `bench/peer.ts` returns it. */
export interface PeerRun {
  threads: number;
  train_tokens_per_s: number;
  infer_tokens_per_s: number;
  peak_rss_kib?: number;
}

/** A round's peer figures: per metric the faster of the thread settings tried, and which one that was. */
export interface PeerBest {
  train_tokens_per_s: number;
  infer_tokens_per_s: number;
  train_threads: number;
  infer_threads: number;
  /** The pretraining reference's best (`bench/rtd_reference`), where it ran. */
  pretrain_tokens_per_s?: number;
  pretrain_threads?: number;
  /** The largest peak memory among the runs kept (the memory the kept figures cost). */
  peak_rss_kib?: number;
}

/** Keeps, for training and for inference separately, the faster of one round's peer runs. */
export function bestPeerRun(runs: PeerRun[]): PeerBest {
  if (!runs.length) throw new Error("bestPeerRun: no peer runs in this round");
  const best = (key: "train_tokens_per_s" | "infer_tokens_per_s") =>
    runs.reduce((a, b) => (b[key] > a[key] ? b : a));
  const train = best("train_tokens_per_s"), infer = best("infer_tokens_per_s");
  const rss = [train.peak_rss_kib, infer.peak_rss_kib].filter((x): x is number => x !== undefined);
  return {
    train_tokens_per_s: train.train_tokens_per_s,
    infer_tokens_per_s: infer.infer_tokens_per_s,
    train_threads: train.threads,
    infer_threads: infer.threads,
    ...(rss.length ? { peak_rss_kib: Math.max(...rss) } : {}),
  };
}

/** Thread settings for a round's peer runs: 1 and 2 (capped at `cpus`), order alternating by round. */
export function peerThreadOrder(round: number, cpus: number, settings: readonly number[] = [1, 2]): number[] {
  const s = settings.filter((t) => t <= Math.max(1, cpus));
  return round % 2 ? [...s].reverse() : [...s];
}
