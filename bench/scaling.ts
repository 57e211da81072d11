/**
 * Step-time scaling of ELECTRA-small fine-tuning: one train-step session (its batch and sequence axes are
 * symbolic, so one session serves every shape) run at batch {8, 16, 32} × sequence {32, 64, 128}. Rounds
 * go over all shapes in turn and each shape's figure is its median over rounds, so load drift on a shared
 * machine spreads over all shapes alike. Prints a markdown table (ms/step, tokens/s, µs/token).
 *
 * `deno run -A bench/scaling.ts [--batches 8,16,32] [--seqs 32,64,128] [--rounds 3] [--threads 2] [--out FILE]`
 * @module
 */
import { parseArgs } from "node:util";
import { initialState } from "../onnx/checkpoint.ts";
import { ELECTRA_SMALL } from "../onnx/electra/config.ts";
import { TrainRunner } from "../onnx/trainer.ts";
import {
  BENCH_LABELS,
  FINETUNE_SESSION_EXTRAS,
  finetuneArtifacts,
  finetuneBatch,
  ortWithExtras,
} from "./finetune_bench.ts";

/** Median step ms per "BxT" shape. */
export async function benchScaling(
  o: { batches?: number[]; seqs?: number[]; rounds?: number; threads?: number } = {},
): Promise<Record<string, number>> {
  const batches = o.batches ?? [8, 16, 32], seqs = o.seqs ?? [32, 64, 128], rounds = o.rounds ?? 3;
  const art = finetuneArtifacts({ seq: Math.max(...seqs), dropout: false });
  const runner = await TrainRunner.open(art.trainStep, initialState(art.params), {
    threads: o.threads ?? 2,
    ort: await ortWithExtras(FINETUNE_SESSION_EXTRAS),
  });
  const shapes = batches.flatMap((b) => seqs.map((t) => [b, t] as const));
  const feeds = new Map(
    shapes.map(([b, t]) => [`${b}x${t}`, finetuneBatch(b, t, ELECTRA_SMALL.vocabSize, BENCH_LABELS.length)]),
  );
  const times = new Map<string, number[]>();
  for (const f of feeds.values()) await runner.step(f, 5e-5); // warm-up per shape (kernel selection, arena growth)
  for (let r = 0; r < rounds; r++) {
    for (const [k, f] of feeds) {
      const t0 = performance.now();
      await runner.step(f, 5e-5);
      (times.get(k) ?? times.set(k, []).get(k)!).push(performance.now() - t0);
    }
  }
  await runner.release();
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
  return Object.fromEntries([...times].map(([k, v]) => [k, med(v)]));
}

/** The scaling table as markdown: rows batch, columns sequence length; ms/step (tokens/s, µs/token). */
export function scalingTable(ms: Record<string, number>): string {
  const keys = Object.keys(ms).map((k) => k.split("x").map(Number) as [number, number]);
  const batches = [...new Set(keys.map((k) => k[0]))].sort((a, b) => a - b);
  const seqs = [...new Set(keys.map((k) => k[1]))].sort((a, b) => a - b);
  const lines = [
    `| batch \\ seq | ${seqs.join(" | ")} |`,
    `|---|${seqs.map(() => "---:").join("|")}|`,
    ...batches.map((b) =>
      `| ${b} | ${
        seqs.map((t) => {
          const m = ms[`${b}x${t}`];
          return `${m.toFixed(0)} ms (${Math.round((b * t) / (m / 1000))} tok/s, ${
            ((m * 1000) / (b * t)).toFixed(0)
          } µs/tok)`;
        }).join(" | ")
      } |`
    ),
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      batches: { type: "string", default: "8,16,32" },
      seqs: { type: "string", default: "32,64,128" },
      rounds: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
      out: { type: "string" },
    },
  });
  const load0 = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const ms = await benchScaling({
    batches: values.batches!.split(",").map(Number),
    seqs: values.seqs!.split(",").map(Number),
    rounds: Number(values.rounds),
    threads: Number(values.threads),
  });
  const load1 = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const md = `### Fine-tuning step time vs batch and sequence length (median of ${values.rounds} rounds, ` +
    `${values.threads} threads; load average ${load0} → ${load1})\n\n${scalingTable(ms)}`;
  console.log(md);
  if (values.out) await Deno.writeTextFile(values.out, md + "\n");
}
