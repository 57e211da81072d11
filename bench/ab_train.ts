/**
 * A/B(/C/…) of fine-tuning train-step variants side by side in one process: ELECTRA-small token
 * classification (random weights, 13 labels, dropout off as in the peer), batch × sequence (default 32 × 128,
 * the peer's shape). Steps run interleaved V1, V2, …, V1, V2, … for `--rounds` rounds so that load drift on a
 * shared machine hits every variant alike. Reports per variant the median wall and CPU ms per step (CPU time is
 * the steadier measure on a loaded machine; idle threads do not spin unless `spin`), their ratios to the first
 * variant (of the medians, and the median of per-round ratios), which ONNX Runtime fusions fired (op counts of
 * the graph as ORT optimised it), and, as a correctness check, the first step's loss and gradient norm and the
 * largest difference of the updated parameters from the first variant's (in units of the learning rate, the
 * size of an Adam step):
 * `deno run -A bench/ab_train.ts --variants default,flat,nofuse,flat+nofuse --rounds 8`.
 * Variants are names of `TOKENS` joined by "+" (`default` alone is the finetune bench's setting).
 * Each variant holds its own session (≈ 1.7 GiB at 32 × 128).
 * @module
 */
import { parseArgs } from "node:util";
import { initialState } from "../onnx/checkpoint.ts";
import { ELECTRA_SMALL } from "../onnx/electra/config.ts";
import { type StepResult, TrainRunner, type TrainRunnerOptions } from "../onnx/trainer.ts";
import { decodeModel } from "../onnx/proto.ts";
import { BENCH_LABELS, cpuSeconds, finetuneArtifacts, finetuneBatch } from "./finetune_bench.ts";

/** What each variant token changes: the graph build (`flat`, `dropout`) or the session options. */
const TOKENS: Record<
  string,
  { build?: "flat" | "dropout"; session?: TrainRunnerOptions; disable?: string[] }
> = {
  default: {},
  flat: { build: "flat" }, // encoder on 2-D (B·T, ·) activations: dense layers as Gemm with the bias inside
  dropout: { build: "dropout" },
  // ORT graph transformers by their registered names (onnxruntime/core/optimizer/*.h; note "Matmul" below).
  nofuse: { disable: ["SkipLayerNormFusion", "BiasGeluFusion"] }, // the two that were slow in inference
  noskip: { disable: ["SkipLayerNormFusion"] },
  nobiasgelu: { disable: ["BiasGeluFusion"] },
  nogemm: { disable: ["MatMulAddFusion"] },
  notranspose: { disable: ["MatmulTransposeFusion"] },
  noscale: { disable: ["MatMulScaleFusion"] },
  t1: { session: { threads: 1 } },
  spin: { session: { allowSpinning: true } },
  pattern: { session: { enableMemPattern: true } },
  noarena: { session: { enableCpuMemArena: false } },
  noprealloc: { session: { preallocateOutputs: false } },
  basic: { session: { graphOptimizationLevel: "basic" } },
  extended: { session: { graphOptimizationLevel: "extended" } },
};
/** Op types worth reporting from the optimised graphs (the fusions and what they replace). */
const SHOWN_OPS = [
  "SkipLayerNormalization",
  "BiasGelu",
  "FastGelu",
  "Gelu",
  "LayerNormalization",
  "FusedMatMul",
  "MatMul",
  "Gemm",
  "Add",
  "Transpose",
  "Reshape",
];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    variants: { type: "string", default: "default,flat,nofuse,flat+nofuse" },
    batch: { type: "string", default: "32" },
    seq: { type: "string", default: "128" },
    rounds: { type: "string", default: "8" },
    warmup: { type: "string", default: "2" },
    threads: { type: "string", default: "2" },
    lr: { type: "string", default: "5e-5" },
  },
});
const variants = values.variants!.split(",").map((v) => v.trim()).filter(Boolean);
for (const v of variants) {
  for (const t of v.split("+")) {
    if (!(t in TOKENS)) {
      throw new Error(`Unknown variant token "${t}" in "${v}"; known: ${Object.keys(TOKENS).join(", ")}`);
    }
  }
}
const B = Number(values.batch), T = Number(values.seq), lr = Number(values.lr);
const rounds = Number(values.rounds), warmup = Math.max(1, Number(values.warmup));
const tmp = await Deno.makeTempDir({ prefix: "nersota-ab-train-" });

/** Op counts of the ORT-optimised graph (`domain:` dropped), restricted to `SHOWN_OPS`. */
function shownOps(bytes: Uint8Array): Record<string, number> {
  const all: Record<string, number> = {};
  for (const n of decodeModel(bytes).graph?.node ?? []) all[n.opType] = (all[n.opType] ?? 0) + 1;
  return Object.fromEntries(SHOWN_OPS.filter((op) => all[op]).map((op) => [op, all[op]]));
}

async function open(v: string, i: number): Promise<{ runner: TrainRunner; ops: Record<string, number> }> {
  const tokens = v.split("+").map((t) => TOKENS[t]);
  const art = finetuneArtifacts({
    seq: T,
    dropout: tokens.some((t) => t.build === "dropout"),
    flatTokens: tokens.some((t) => t.build === "flat"),
  });
  const optimized = `${tmp}/${i}.onnx`;
  const runner = await TrainRunner.open(art.trainStep, initialState(art.params), {
    threads: Number(values.threads),
    seed: 1,
    ...Object.assign({}, ...tokens.map((t) => t.session ?? {})),
    disabledOptimizers: tokens.flatMap((t) => t.disable ?? []),
    optimizedModelFilePath: optimized, // the graph after ORT's fusions: reports which fired
  });
  const ops = shownOps(await Deno.readFile(optimized));
  await Deno.remove(optimized);
  return { runner, ops };
}

// One variant at a time, so that only one build's graphs and weights are alive at once.
const opened: { runner: TrainRunner; ops: Record<string, number> }[] = [];
for (const [i, v] of variants.entries()) opened.push(await open(v, i));
await Deno.remove(tmp, { recursive: true });
const batch = finetuneBatch(B, T, ELECTRA_SMALL.vocabSize, BENCH_LABELS.length);

// Correctness: every runner starts from the same weights (named-seeded init), so the first step must agree.
const first: StepResult[] = [];
for (const { runner } of opened) first.push(await runner.stepWithStats(batch, lr));
const ref = opened[0].runner.parameters();
const maxParamDiff = opened.map(({ runner }) => {
  let d = 0;
  for (const [name, t] of Object.entries(runner.parameters())) {
    const a = t.data as Float32Array, b = ref[name].data as Float32Array;
    for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k] - b[k]));
  }
  return d;
});
for (let w = 1; w < warmup; w++) for (const { runner } of opened) await runner.step(batch, lr);

const times: number[][] = variants.map(() => []), cpu: number[][] = variants.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (const [k, { runner }] of opened.entries()) {
    const t = performance.now(), c = cpuSeconds();
    await runner.step(batch, lr);
    times[k].push(performance.now() - t);
    cpu[k].push((cpuSeconds() - c) * 1000);
  }
}
for (const { runner } of opened) await runner.release();

const med = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const rows = variants.map((v, k) => ({
  variant: v,
  ms: Math.round(med(times[k])),
  cpu_ms: Math.round(med(cpu[k])),
  over_first: round3(med(times[k]) / med(times[0])),
  over_first_paired: round3(med(times[k].map((t, i) => t / times[0][i]))),
  over_first_cpu: round3(med(cpu[k]) / med(cpu[0])),
  tokens_per_s: Math.round((B * T * 1000) / med(times[k])),
  first_loss: first[k].loss,
  first_grad_norm: first[k].gradNorm,
  max_param_diff_over_lr: maxParamDiff[k] / lr,
  times: times[k].map(Math.round),
  optimized_ops: opened[k].ops,
}));
for (const r of rows) {
  console.log(
    `${r.variant.padEnd(24)} ${String(r.ms).padStart(7)} ms  cpu ${String(r.cpu_ms).padStart(7)} ms  ` +
      `×${r.over_first.toFixed(3)} (paired ×${r.over_first_paired.toFixed(3)}, cpu ×${
        r.over_first_cpu.toFixed(3)
      })  ` +
      `loss ${r.first_loss.toFixed(6)}  |g| ${r.first_grad_norm.toFixed(6)}  max|Δp|/lr ${
        r.max_param_diff_over_lr.toExponential(2)
      }`,
  );
}
console.log(
  JSON.stringify({
    batch: B,
    seq: T,
    rounds,
    warmup,
    threads: Number(values.threads),
    lr,
    load,
    variants: rows,
  }),
);
