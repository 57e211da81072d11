/**
 * The machine's measured float32 GEMM roofline for `deno task bench`: ONNX Runtime (CPU, MLAS SGEMM) on
 * chains of `MatMul`s at ELECTRA-small's dense-layer shapes over batch × seq tokens (n × 256 · 256 × 256;
 * n × 256 · 256 × 1024 then n × 1024 · 1024 × 256), at 1 and 2 intra-op threads, runs alternating so that
 * load drift falls on all alike. The best GFLOP/s is the ceiling each bench row's GFLOP/s is a share of.
 * Chains (not one product) keep ORT's per-run overhead and the input copy small against the GEMM time.
 * Run alone: `deno run -A bench/roofline.ts [--batch 32] [--seq 128] [--seconds 2]`.
 * @module
 */
import { parseArgs } from "node:util";
import { ELECTRA_SMALL, type ElectraConfig } from "../onnx/electra/config.ts";
import { Graph } from "../onnx/graph.ts";
import { matMul } from "../onnx/ops.ts";
import { openSession } from "../onnx/runtime.ts";
import { tensor } from "../onnx/tensor.ts";

/** One measured chain at one thread setting. */
export interface RooflineCase {
  /** The products in the chain, `n×k·k×m` each. */
  shape: string;
  threads: number;
  gflops: number;
  ms_per_run: number;
}

/** Result of `measureRoofline`: every case and the best GFLOP/s among them. */
export interface Roofline {
  best_gflops: number;
  best: RooflineCase;
  cases: RooflineCase[];
}

/** The chains measured: each a list of [k, m] products applied in turn to an (n, k₀) input. */
export function rooflineChains(c: ElectraConfig, depth = 8): [number, number][][] {
  const h = c.hiddenSize, i = c.intermediateSize;
  return [
    Array.from({ length: depth }, () => [h, h] as [number, number]),
    Array.from({ length: depth }, (_, j) => (j % 2 ? [i, h] : [h, i]) as [number, number]),
  ];
}

/** A graph `y = x · W₁ · W₂ · …` with deterministic weights of scale 1/√k (activations stay near 1). */
function chainGraph(n: number, chain: [number, number][]): Uint8Array {
  const g = new Graph("roofline");
  let x = g.input("x", "float32", [n, chain[0][0]]);
  let s = 7;
  for (const [j, [k, m]] of chain.entries()) {
    const w = new Float32Array(k * m);
    const scale = 1 / Math.sqrt(k);
    for (let q = 0; q < w.length; q++) {
      w[q] = (((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1) * scale;
    }
    x = matMul(x, g.initializer(`w${j}`, tensor("float32", [k, m], w)));
  }
  g.output(x, "y");
  return g.toBytes();
}

/** Multiply–add FLOPs of one run of a chain over n rows. */
export function chainFlops(n: number, chain: [number, number][]): number {
  return chain.reduce((sum, [k, m]) => sum + 2 * n * k * m, 0);
}

/** Measures ORT's SGEMM GFLOP/s at the layer shapes over `batch × seq` rows, per thread setting. */
export async function measureRoofline(
  opts: { batch?: number; seq?: number; config?: ElectraConfig; threads?: number[]; seconds?: number } = {},
): Promise<Roofline> {
  const n = (opts.batch ?? 32) * (opts.seq ?? 128), config = opts.config ?? ELECTRA_SMALL;
  const threads = opts.threads ?? [1, 2], seconds = opts.seconds ?? 2;
  const cases: RooflineCase[] = [];
  for (const chain of rooflineChains(config)) {
    const bytes = chainGraph(n, chain);
    const shape = [...new Set(chain.map(([k, m]) => `${n}×${k}·${k}×${m}`))].join(" + ");
    const sessions = await Promise.all(
      threads.map((t) => openSession(bytes, { provider: "cpu", threads: t })),
    );
    const x = new Float32Array(n * chain[0][0]).map((_, q) => ((q * 7919) % 1000) / 1000 - 0.5);
    const feeds = { x: { dtype: "float32" as const, dims: [n, chain[0][0]], data: x } };
    for (const s of sessions) await s.run(feeds); // warm-up: first run plans and allocates
    const times: number[][] = threads.map(() => []);
    const t0 = performance.now();
    while (times[0].length < 3 || performance.now() - t0 < seconds * 1000) {
      for (const [q, s] of sessions.entries()) {
        const t = performance.now();
        await s.run(feeds);
        times[q].push(performance.now() - t);
      }
    }
    for (const s of sessions) await s.release();
    const flops = chainFlops(n, chain);
    for (const [q, t] of threads.entries()) {
      // The fastest run: the roofline is what the machine can do, and load only ever slows a run down.
      const ms = Math.min(...times[q]);
      cases.push({ shape, threads: t, gflops: flops / ms / 1e6, ms_per_run: ms });
    }
  }
  const best = cases.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return { best_gflops: best.gflops, best, cases };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batch: { type: "string", default: "32" },
      seq: { type: "string", default: "128" },
      seconds: { type: "string", default: "2" },
    },
  });
  const r = await measureRoofline({
    batch: Number(values.batch),
    seq: Number(values.seq),
    seconds: Number(values.seconds),
  });
  for (const c of r.cases) {
    console.log(`${c.shape.padEnd(44)} ${c.threads} thread(s)  ${c.gflops.toFixed(1)} GFLOP/s`);
  }
  console.log(`best: ${r.best_gflops.toFixed(1)} GFLOP/s`);
}
