/**
 * A/B of train-step variants side by side in one process (steps alternate A, B, A, B, … so that load
 * drift on a shared machine hits both alike); reports median wall ms and CPU ms per step (CPU time is the
 * steadier measure of work on a loaded machine when both variants have thread spinning off: `nospin`): `deno run -A bench/ab_train.ts --a flat --b default`.
 * Variants (substrings, combinable): default, flat (2-D token activations), extended/basic (ORT level), t1 (1 thread),
 * noprealloc, pattern (ORT memory pattern on), noarena, nospin, dropout.
 * @module
 */
import { parseArgs } from "node:util";
import { initialState } from "../onnx/checkpoint.ts";
import { ELECTRA_SMALL } from "../onnx/electra/config.ts";
import { TrainRunner } from "../onnx/trainer.ts";
import { BENCH_LABELS, finetuneArtifacts, finetuneBatch, ortWithExtras } from "./finetune_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string", default: "default" },
    b: { type: "string", default: "flat" },
    batch: { type: "string", default: "32" },
    seq: { type: "string", default: "128" },
    steps: { type: "string", default: "4" },
  },
});
const B = Number(values.batch), T = Number(values.seq);
async function open(v: string) {
  const art = finetuneArtifacts({ seq: T, dropout: v.includes("dropout"), flatTokens: v.includes("flat") });
  return await TrainRunner.open(art.trainStep, initialState(art.params), {
    threads: v.includes("t1") ? 1 : 2,
    graphOptimizationLevel: v.includes("extended") ? "extended" : v.includes("basic") ? "basic" : "all",
    preallocateOutputs: !v.includes("noprealloc"),
    ort: await ortWithExtras({
      ...(v.includes("pattern") ? {} : { enableMemPattern: false }),
      ...(v.includes("noarena") ? { enableCpuMemArena: false } : {}),
      ...(v.includes("nospin") ? { extra: { session: { "intra_op.allow_spinning": "0" } } } : {}),
    }),
  });
}
const runners = [await open(values.a!), await open(values.b!)];
const batch = finetuneBatch(B, T, ELECTRA_SMALL.vocabSize, BENCH_LABELS.length);
/** CPU seconds (user + system) of this process so far, from /proc/self/stat (100 Hz ticks). */
const cpuS = () => {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
const cpu: number[][] = [[], []];
const times: number[][] = [[], []];
const losses: number[][] = [[], []];
for (const r of runners) await r.step(batch, 5e-5);
for (let i = 0; i < Number(values.steps); i++) {
  for (let k = 0; k < 2; k++) {
    const t = performance.now(), c = cpuS();
    losses[k].push(await runners[k].step(batch, 5e-5));
    times[k].push(performance.now() - t);
    cpu[k].push((cpuS() - c) * 1000);
  }
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(JSON.stringify({
  a: values.a,
  b: values.b,
  a_ms: med(times[0]),
  b_ms: med(times[1]),
  b_over_a: med(times[1]) / med(times[0]),
  a_cpu_ms: med(cpu[0]),
  b_cpu_ms: med(cpu[1]),
  b_over_a_cpu: med(cpu[1]) / med(cpu[0]),
  a_times: times[0].map(Math.round),
  b_times: times[1].map(Math.round),
  a_loss: losses[0].at(-1),
  b_loss: losses[1].at(-1),
  load,
}));
