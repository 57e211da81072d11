/**
 * `deno task profile`: runs N ELECTRA-small fine-tuning steps (train_step.onnx through TrainRunner) with
 * ONNX Runtime's profiler on, then summarises the profile of the timed steps (the first, warm-up run is
 * left out) as markdown: time by op type, and by part of the step (forward, backward, optimizer: told
 * apart by node names, since the autodiff names gradient nodes after the forward node they differentiate
 * and the optimizer builds under its own names).
 *
 * `deno task profile [--batch 32] [--seq 128] [--steps 3] [--dropout] [--threads 2] [--level all] [--keep]`
 * @module
 */
import { parseArgs } from "node:util";
import { BENCH_LABELS, benchFinetune } from "./finetune_bench.ts";
import type { SessionOptions } from "../onnx/runtime.ts";
import { buildBackward } from "../onnx/autodiff.ts";
import { ELECTRA_SMALL, electraConfig, withLabels } from "../onnx/electra/config.ts";
import { buildTokenClassificationGraph } from "../onnx/electra/token_classification.ts";

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string; provider?: string; node_index?: string };
}

/**
 * Classifies profile node names by the index the graph builder puts in every node name (`scope/Op_N`, N
 * in creation order): the train step is built forward (nodes < `backwardFrom`), then backward, then the
 * clipping + AdamW update (nodes ≥ `optimizerFrom`). Nodes ORT made by fusion keep an original name.
 */
export function partsByIndex(backwardFrom: number, optimizerFrom: number): (name: string) => string {
  return (name) => {
    const m = [...name.replace(/_kernel_time$/, "").matchAll(/_(\d+)/g)].pop();
    if (!m) return "other (ORT-made)";
    const i = Number(m[1]);
    return i < backwardFrom ? "forward" : i < optimizerFrom ? "backward" : "optimizer";
  };
}

/** Node-index boundaries of the fine-tuning train step: [first backward node, first optimizer node]. */
export function finetuneBoundaries(seq: number): [number, number] {
  const config = withLabels(
    electraConfig({ ...ELECTRA_SMALL, maxPositionEmbeddings: Math.max(512, seq) }),
    BENCH_LABELS,
  );
  const g = buildTokenClassificationGraph({ config, seed: 1, training: true });
  const backwardFrom = g.nodes.length;
  const loss = g.outputs.find((v) => v.name === "loss")!;
  buildBackward(g, loss, [...g.parameters].filter((n) => g.initializers.get(n)?.dtype.startsWith("float")));
  return [backwardFrom, g.nodes.length];
}

/** Summarises an ORT profile JSON (node events of all but the first `skipRuns` runs) as markdown tables. */
export function summarise(events: ProfileEvent[], classify: (name: string) => string, skipRuns = 1): string {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) =>
    a.ts - b.ts
  );
  const from = runs[skipRuns]?.ts ?? 0;
  const kept = runs.slice(skipRuns);
  const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= from);
  const runMs = kept.reduce((s, r) => s + r.dur, 0) / 1000 / Math.max(1, kept.length);
  const byOp = new Map<string, { us: number; n: number }>();
  const byPart = new Map<string, number>();
  const byNode = new Map<string, { us: number; op: string }>();
  let total = 0;
  for (const e of nodes) {
    const op = e.args?.op_name ?? "?";
    const o = byOp.get(op) ?? { us: 0, n: 0 };
    o.us += e.dur;
    o.n++;
    byOp.set(op, o);
    const p = classify(e.name);
    byPart.set(p, (byPart.get(p) ?? 0) + e.dur);
    const nn = byNode.get(e.name) ?? { us: 0, op };
    nn.us += e.dur;
    byNode.set(e.name, nn);
    total += e.dur;
  }
  const k = Math.max(1, kept.length);
  const ms = (us: number) => (us / 1000 / k).toFixed(1);
  const pct = (us: number) => ((100 * us) / total).toFixed(1);
  const lines = [
    `Profiled ${kept.length} step(s): model_run ${runMs.toFixed(0)} ms/step, kernels ${ms(total)} ms/step ` +
    `(the rest is ORT's own work between kernels: allocation, copies, scheduling).`,
    "",
    "| part | ms/step | % of kernel time |",
    "|---|---:|---:|",
    ...[...byPart].sort((a, b) => b[1] - a[1]).map(([p, us]) => `| ${p} | ${ms(us)} | ${pct(us)} |`),
    "",
    "| op type | ms/step | % | calls/step |",
    "|---|---:|---:|---:|",
    ...[...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 25).map(([op, o]) =>
      `| ${op} | ${ms(o.us)} | ${pct(o.us)} | ${(o.n / k).toFixed(0)} |`
    ),
    "",
    "| top nodes | op | ms/step |",
    "|---|---|---:|",
    ...[...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, 15).map(([n, o]) =>
      `| ${n.replace(/_kernel_time$/, "").slice(0, 70)} | ${o.op} | ${ms(o.us)} |`
    ),
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
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
  const dir = await Deno.makeTempDir({ prefix: "nersota-profile-" });
  const prefix = `${dir}/train_step`;
  const r = await benchFinetune({
    batch: Number(values.batch),
    seq: Number(values.seq),
    steps: Number(values.steps),
    warmup: 1,
    dropout: values.dropout,
    threads: Number(values.threads),
    graphOptimizationLevel: values.level as SessionOptions["graphOptimizationLevel"],
    profilePrefix: prefix,
  });
  const file = [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`).find((f) => f.endsWith(".json"));
  if (!file) throw new Error(`ONNX Runtime wrote no profile under ${dir}`);
  const md =
    `### Train step profile (batch ${values.batch} × seq ${values.seq}, ${values.threads} threads, ` +
    `optimisation "${values.level}", dropout ${values.dropout ? "on" : "off"}; step ${
      r.finetune_step_ms.toFixed(0)
    } ms median)\n\n` +
    summarise(
      JSON.parse(await Deno.readTextFile(file)),
      partsByIndex(...finetuneBoundaries(Number(values.seq))),
    );
  console.log(md);
  if (values.out) await Deno.writeTextFile(values.out, md + "\n");
  if (values.keep) console.error(`profile kept at ${file}`);
  else await Deno.remove(dir, { recursive: true });
}
