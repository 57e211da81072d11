/**
 * Where the time of one train step goes: ONNX Runtime's profile (a JSON list of trace events) summed by op
 * type and by part of the step. Parts come from node names: the graph builder ends every node name with its
 * creation index (`scope/Op_N`), and `TrainingArtifacts.trainStepLayout` says where train_step's backward
 * pass and optimizer update begin; within the forward pass a caller-given rule (by scope or index) names
 * the part (e.g. generator, sampler, discriminator).
 * @module
 */
import type { TrainStepLayout } from "../../onnx/artifacts.ts";

/** One event of an ORT profile file (the fields used here). */
export interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args?: { op_name?: string; provider?: string; node_index?: string };
}

/** The part of nodes ORT made itself (fusions that kept no index of ours). */
export const ORT_MADE = "other (ORT-made)";

/** The creation index N of a node named `scope/Op_N` (a profile's `_kernel_time` suffix ignored), if any. */
export function nodeIndex(name: string): number | undefined {
  const m = [...name.replace(/_kernel_time$/, "").matchAll(/_(\d+)/g)].pop();
  return m ? Number(m[1]) : undefined;
}

/**
 * Classifies node names by creation index: nodes below `backwardFrom` are the forward pass (named by
 * `forwardPart(index)`, "forward" by default), then "backward" up to `optimizerFrom`, then "optimizer"
 * (global-norm clipping and the AdamW update).
 */
export function partsByIndex(
  layout: TrainStepLayout,
  forwardPart: (index: number) => string = () => "forward",
): (name: string) => string {
  return (name) => {
    const i = nodeIndex(name);
    if (i === undefined) return ORT_MADE;
    return i < layout.backwardFrom ? forwardPart(i) : i < layout.optimizerFrom ? "backward" : "optimizer";
  };
}

/** Summarises an ORT profile (node events of all but the first `skipRuns` runs) as markdown tables. */
export function summarise(events: ProfileEvent[], classify: (name: string) => string, skipRuns = 1): string {
  const s = profileTotals(events, classify, skipRuns);
  const k = Math.max(1, s.runs);
  const ms = (us: number) => (us / 1000 / k).toFixed(1);
  const pct = (us: number) => ((100 * us) / s.kernelUs).toFixed(1);
  const lines = [
    `Profiled ${s.runs} step(s): model_run ${s.runMs.toFixed(0)} ms/step, kernels ${
      ms(s.kernelUs)
    } ms/step ` +
    `(the rest is ORT's own work between kernels: allocation, copies, scheduling).`,
    "",
    "| part | ms/step | % of kernel time |",
    "|---|---:|---:|",
    ...[...s.byPart].sort((a, b) => b[1] - a[1]).map(([p, us]) => `| ${p} | ${ms(us)} | ${pct(us)} |`),
    "",
    "| op type | ms/step | % | calls/step |",
    "|---|---:|---:|---:|",
    ...[...s.byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 25).map(([op, o]) =>
      `| ${op} | ${ms(o.us)} | ${pct(o.us)} | ${(o.n / k).toFixed(0)} |`
    ),
    "",
    "| part | its largest op types (ms/step) |",
    "|---|---|",
    ...[...s.byPart].sort((a, b) => b[1] - a[1]).map(([p]) =>
      `| ${p} | ${
        [...s.byPartOp.get(p)!].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([op, us]) => `${op} ${ms(us)}`)
          .join(", ")
      } |`
    ),
    "",
    "| top nodes | op | part | ms/step |",
    "|---|---|---|---:|",
    ...[...s.byNode].sort((a, b) => b[1].us - a[1].us).slice(0, 15).map(([n, o]) =>
      `| ${n.replace(/_kernel_time$/, "").slice(0, 70)} | ${o.op} | ${classify(n)} | ${ms(o.us)} |`
    ),
  ];
  return lines.join("\n");
}

/** Kernel time (µs, summed over the kept runs) by part, op type and node, as `summarise` tabulates it. */
export interface ProfileTotals {
  /** Runs kept (after the skipped warm-up ones). */
  runs: number;
  /** Mean `model_run` time of the kept runs, ms. */
  runMs: number;
  kernelUs: number;
  byPart: Map<string, number>;
  byOp: Map<string, { us: number; n: number }>;
  byNode: Map<string, { us: number; op: string }>;
  /** Per part, kernel time by op type. */
  byPartOp: Map<string, Map<string, number>>;
}

/** Sums the node events of all but the first `skipRuns` runs by part (`classify`), op type and node. */
export function profileTotals(
  events: ProfileEvent[],
  classify: (name: string) => string,
  skipRuns = 1,
): ProfileTotals {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").sort((a, b) =>
    a.ts - b.ts
  );
  const from = runs[skipRuns]?.ts ?? 0;
  const kept = runs.slice(skipRuns);
  const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= from);
  const t: ProfileTotals = {
    runs: kept.length,
    runMs: kept.reduce((s, r) => s + r.dur, 0) / 1000 / Math.max(1, kept.length),
    kernelUs: 0,
    byPart: new Map(),
    byOp: new Map(),
    byNode: new Map(),
    byPartOp: new Map(),
  };
  for (const e of nodes) {
    const op = e.args?.op_name ?? "?";
    const o = t.byOp.get(op) ?? { us: 0, n: 0 };
    o.us += e.dur;
    o.n++;
    t.byOp.set(op, o);
    const p = classify(e.name);
    t.byPart.set(p, (t.byPart.get(p) ?? 0) + e.dur);
    const po = t.byPartOp.get(p) ?? new Map<string, number>();
    po.set(op, (po.get(op) ?? 0) + e.dur);
    t.byPartOp.set(p, po);
    const nn = t.byNode.get(e.name) ?? { us: 0, op };
    nn.us += e.dur;
    t.byNode.set(e.name, nn);
    t.kernelUs += e.dur;
  }
  return t;
}
