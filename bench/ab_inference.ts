/**
 * A/B of inference-graph variants side by side in one process: ELECTRA-small token classification (random
 * weights), batch × sequence (default 32 × 128, the peer's shape), runs alternating A, B, A, B, … so that
 * load drift on a shared machine hits both alike; reports median wall and CPU ms per batch, their B/A ratios
 * and the median of per-round ratios, the largest logit difference between the two, and the op counts of
 * each graph as ONNX Runtime optimised it (which fusions fired; native providers only):
 * `deno run -A bench/ab_inference.ts --a default --b fused`.
 * Variants (substrings, combinable): default (standard-op attention), fused (`com.microsoft.Attention`),
 * flat (2-D token activations), wasm (onnxruntime-web), t1 (1 intra-op thread), nospin, basic/extended (ORT
 * optimisation level), noskip / nobiasgelu (ORT's SkipLayerNormFusion / BiasGeluFusion disabled), int8
 * (`int8Compute`: dense layers as DynamicQuantizeMatMul).
 * @module
 */
import { parseArgs } from "node:util";
import { ELECTRA_SMALL, electraConfig, withLabels } from "../onnx/electra/config.ts";
import { buildTokenClassificationGraph } from "../onnx/electra/token_classification.ts";
import { openSession, type Session } from "../onnx/runtime.ts";
import { decodeModel, encodeModel } from "../onnx/proto.ts";
import { int8Compute } from "../onnx/quantize.ts";
import { tensor } from "../onnx/tensor.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string", default: "default" },
    b: { type: "string", default: "fused" },
    batch: { type: "string", default: "32" },
    seq: { type: "string", default: "128" },
    rounds: { type: "string", default: "8" },
  },
});
const B = Number(values.batch), T = Number(values.seq);
const LABELS = ["O", ...["PS", "LC", "OG", "DT", "TI", "QT"].flatMap((t) => [`B-${t}`, `I-${t}`])];
const config = withLabels(
  electraConfig({ ...ELECTRA_SMALL, maxPositionEmbeddings: Math.max(512, T) }),
  LABELS,
);

/** Node counts by op type (`domain:op` outside the default domain) of an ONNX model. */
function opCounts(bytes: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of decodeModel(bytes).graph?.node ?? []) {
    const op = n.domain ? `${n.domain}:${n.opType}` : n.opType;
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

const tmp = await Deno.makeTempDir({ prefix: "nersota-ab-inference-" });
const optimizedOps: Record<string, number>[] = [];

async function open(v: string): Promise<Session> {
  const g = buildTokenClassificationGraph({
    config,
    seed: 1,
    fusedAttention: v.includes("fused"),
    flatTokens: v.includes("flat"),
  });
  const optimized = `${tmp}/${optimizedOps.length}.onnx`;
  const bytes = v.includes("int8") ? encodeModel(int8Compute(decodeModel(g.toBytes()))) : g.toBytes();
  const session = await openSession(bytes, {
    optimizedModelFilePath: optimized, // native only: the graph after ORT's fusions, to report which fired
    provider: v.includes("wasm") ? "wasm" : "cpu",
    threads: v.includes("t1") ? 1 : undefined,
    allowSpinning: v.includes("nospin") ? false : undefined,
    graphOptimizationLevel: v.includes("basic") ? "basic" : v.includes("extended") ? "extended" : "all",
    disabledOptimizers: [
      ...(v.includes("noskip") ? ["SkipLayerNormFusion"] : []),
      ...(v.includes("nobiasgelu") ? ["BiasGeluFusion"] : []),
    ],
  });
  optimizedOps.push(v.includes("wasm") ? {} : opCounts(await Deno.readFile(optimized)));
  return session;
}

// Token ids as the inference bench makes them; every fourth sequence padded after half its length.
const ids = new Array<number>(B * T), mask = new Array<number>(B * T);
let x = 12345;
for (let i = 0; i < B * T; i++) {
  ids[i] = 5 + ((x = (x * 1103515245 + 12345) >>> 0) % (config.vocabSize - 5));
  mask[i] = Math.floor(i / T) % 4 === 3 && i % T >= T / 2 ? 0 : 1;
}
const feeds = {
  input_ids: tensor("int64", [B, T], ids),
  attention_mask: tensor("int64", [B, T], mask),
  token_type_ids: tensor("int64", [B, T], new Array(B * T).fill(0)),
};

/** CPU seconds (user + system) of this process so far, from /proc/self/stat (100 Hz ticks). */
const cpuS = () => {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

const sessions = [await open(values.a!), await open(values.b!)];
const first = [];
for (const s of sessions) first.push(Float32Array.from((await s.run(feeds)).logits.data as Float32Array)); // warm-up
let maxDiff = 0;
for (let i = 0; i < first[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(first[0][i] - first[1][i]));
const times: number[][] = [[], []], cpu: number[][] = [[], []];
for (let r = 0; r < Number(values.rounds); r++) {
  for (let k = 0; k < 2; k++) {
    const t = performance.now(), c = cpuS();
    await sessions[k].run(feeds);
    times[k].push(performance.now() - t);
    cpu[k].push((cpuS() - c) * 1000);
  }
}
for (const s of sessions) await s.release();
await Deno.remove(tmp, { recursive: true });
const med = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(JSON.stringify({
  a: values.a,
  b: values.b,
  batch: B,
  seq: T,
  rounds: Number(values.rounds),
  a_ms: med(times[0]),
  b_ms: med(times[1]),
  b_over_a: med(times[1]) / med(times[0]),
  b_over_a_paired: med(times[1].map((t, i) => t / times[0][i])),
  a_tokens_per_s: (B * T * 1000) / med(times[0]),
  b_tokens_per_s: (B * T * 1000) / med(times[1]),
  a_cpu_ms: med(cpu[0]),
  b_cpu_ms: med(cpu[1]),
  b_over_a_cpu: med(cpu[1]) / med(cpu[0]),
  a_times: times[0].map(Math.round),
  b_times: times[1].map(Math.round),
  max_abs_logit_diff: maxDiff,
  a_optimized_ops: optimizedOps[0],
  b_optimized_ops: optimizedOps[1],
  load,
}));
