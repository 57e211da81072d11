/**
 * `deno task bench`: our ELECTRA-small fine-tuning step, pretraining step and inference against the
 * PyTorch peer (`../shared/bench/torch_electra.py`) at the same batch × sequence shape, in one invocation.
 *
 * Every measurement runs in its own child Deno process (so its peak resident memory, VmHWM, is its own),
 * and ours and the peer's runs are interleaved (peer, ours, peer, ours, …) so that load drift on a shared
 * machine falls on both sides alike. Each side's figure is the median over `--runs` rounds; the table
 * shows ours/peer ratios (tokens/s: higher is better; memory: lower is better), both as the ratio of the
 * medians and as the median of per-round ratios (each round's ours over the same round's peer). Absolute numbers on a
 * shared 2-core machine are noise: compare ratios measured side by side.
 *
 * The peer runs fair (`bench/fair.ts`): without the OpenBLAS pinning variables, at each of `--peer-threads`
 * torch thread settings per round, keeping the faster per metric. Each round also measures ONNX Runtime's
 * SGEMM roofline at our layer shapes (`bench/roofline.ts`); every row gives tokens/s, GFLOP/s (model GEMM
 * FLOPs, `bench/fair.ts`) and its share of that roofline. How to read them: docs/benchmarks.md.
 *
 * Results go to `bench/results/<date>T<hhmm>-<git sha>.json` (and `--out FILE`), with the load average, the
 * CPU's flags and every single run, so that commits can be compared.
 *
 * ```
 * deno task bench [--quick] [--only finetune,inference,inference_int8,finetune_dropout,pretrain,tokenizer,peer]
 *                 [--batch 32] [--seq 128] [--steps 5] [--runs 3] [--threads 2] [--out FILE] [--no-peer]
 *                 [--peer-threads 1,2] [--pinned-peer] [--no-roofline]
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { findPeerPython, type PeerResult, RTD_ARGS, RTD_SCRIPT, runPeer } from "./peer.ts";
import {
  bestPeerRun,
  type CpuInfo,
  encoderFlops,
  gflops,
  parseCpuInfo,
  type PeerBest,
  peerEnvironment,
  peerThreadOrder,
  pretrainingFlops,
  tokenClassificationFlops,
  trainingFlops,
} from "./fair.ts";
import { ELECTRA_SMALL, electraConfig, generatorConfig } from "../onnx/electra/config.ts";
import { maxPredictions } from "../train/pretrain_data/masking.ts";

// Run order within a round: the peer first, then the benches with targets right after it (inference_int8:
// the same graph with int8 dense layers, `int8Compute`).
const ALL = ["finetune", "inference", "inference_int8", "finetune_dropout", "pretrain", "tokenizer"] as const;
type BenchName = typeof ALL[number];

interface ChildArgs {
  batch: number;
  seq: number;
  steps: number;
  threads: number;
  quick: boolean;
}

/** Peak resident set size of this process in KiB (VmHWM), or 0 where /proc is missing. */
function peakRssKib(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+)\s+kB/);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs one bench in this (child) process and prints one JSON line. */
async function child(name: BenchName | "roofline", a: ChildArgs): Promise<void> {
  let r: Record<string, number>;
  if (name === "roofline") {
    const { measureRoofline } = await import("./roofline.ts");
    const m = await measureRoofline({ batch: a.batch, seq: a.seq, seconds: a.quick ? 0.5 : 2 });
    console.log("BENCH_RESULT " + JSON.stringify(m));
    return;
  }
  if (name === "pretrain") {
    // The same session options the fine-tuning bench uses (see FINETUNE_SESSION_EXTRAS): without them ORT's
    // memory pattern doubles a training step's peak memory. Patched here because pretrain_bench opens its own.
    const { FINETUNE_SESSION_EXTRAS } = await import("./finetune_bench.ts");
    const m = await import("npm:onnxruntime-node@1.30.0");
    // deno-lint-ignore no-explicit-any
    const ort: any = (m as any).default?.InferenceSession ? (m as any).default : m;
    const create = ort.InferenceSession.create.bind(ort.InferenceSession);
    ort.InferenceSession.create = (model: unknown, o: Record<string, unknown> = {}) =>
      create(model, { ...o, ...FINETUNE_SESSION_EXTRAS });
  }
  if (name === "finetune" || name === "finetune_dropout") {
    const { benchFinetune } = await import("./finetune_bench.ts");
    r = await benchFinetune({
      batch: a.batch,
      seq: a.seq,
      steps: a.steps,
      threads: a.threads,
      dropout: name === "finetune_dropout",
    });
    r.tokens_per_s = r.finetune_tokens_per_s;
  } else if (name === "pretrain") {
    const { benchPretrain } = await import("./pretrain_bench.ts");
    r = await benchPretrain({ batch: a.batch, seq: a.seq, steps: a.steps, threads: a.threads });
    r.tokens_per_s = r.pretrain_tokens_per_s;
  } else if (name === "inference" || name === "inference_int8") {
    const { benchInference } = await import("./inference_bench.ts");
    r = await benchInference({
      batch: a.batch,
      seq: a.seq,
      providers: ["cpu"],
      seconds: a.quick ? 1 : 3,
      minRuns: a.steps,
      int8: name === "inference_int8",
    });
    r.tokens_per_s = r.inference_tokens_per_s;
  } else {
    const { benchBuildData, benchTokenizer } = await import("./tokenizer_bench.ts");
    r = { ...(await benchTokenizer()), ...(await benchBuildData()) };
  }
  r.peak_rss_kib = peakRssKib();
  console.log("BENCH_RESULT " + JSON.stringify(r));
}

/** Spawns `deno run -A bench/main.ts --child <name>` and returns its result line. */
async function spawn(
  name: BenchName | "roofline",
  a: ChildArgs,
  // deno-lint-ignore no-explicit-any
): Promise<Record<string, any> | { error: string }> {
  const args = [
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    new URL("./main.ts", import.meta.url).pathname,
    "--child",
    name,
    "--batch",
    String(a.batch),
    "--seq",
    String(a.seq),
    "--steps",
    String(a.steps),
    "--threads",
    String(a.threads),
    ...(a.quick ? ["--quick"] : []),
  ];
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (!out.success || !line) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-4).join(" | ");
    return { error: `${name} failed (exit ${out.code}): ${err}` };
  }
  return JSON.parse(line.slice("BENCH_RESULT ".length));
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function loadAverage(): number[] {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

async function gitSha(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    const sha = new TextDecoder().decode(out.stdout).trim();
    const dirty = await new Deno.Command("git", {
      args: ["status", "--porcelain", "--untracked-files=no"],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    return (sha || "nogit") + (new TextDecoder().decode(dirty.stdout).trim() ? "-dirty" : "");
  } catch {
    return "nogit";
  }
}

const fmt = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "—";

/** Model GEMM FLOPs per token of each bench (`bench/fair.ts`): what its tokens/s turn into GFLOP/s with. */
export function flopsPerToken(
  batch: number,
  seq: number,
  labels = 13,
  pretrainVocab = 32000,
  generatorSize = 0.25,
  maskProb = 0.15,
): Record<string, number> {
  const n = batch * seq;
  const small = electraConfig({ ...ELECTRA_SMALL, maxPositionEmbeddings: Math.max(512, seq) });
  const infer = tokenClassificationFlops(small, batch, seq, labels) / n;
  const disc = electraConfig({ ...small, vocabSize: pretrainVocab });
  const pretrain = pretrainingFlops(
    disc,
    generatorConfig(disc, generatorSize),
    batch,
    seq,
    maxPredictions(maskProb, seq),
  );
  return {
    finetune: trainingFlops(infer),
    finetune_dropout: trainingFlops(infer),
    inference: infer,
    inference_int8: infer,
    pretrain: trainingFlops(pretrain) / n,
    encoder_forward: encoderFlops(small, batch, seq) / n,
  };
}

/** One table row of `summarize`. */
export interface BenchRow {
  bench: string;
  versus: string;
  ours_tokens_per_s: number;
  peer_tokens_per_s: number;
  ratio: number;
  paired_ratio: number;
  flops_per_token: number;
  ours_gflops: number;
  peer_gflops: number;
  /** GFLOP/s over the measured SGEMM roofline (NaN without one). */
  ours_roofline_share: number;
  peer_roofline_share: number;
  /** torch thread settings the kept peer figures came from, one per round. */
  peer_threads: number[];
  ours_peak_rss_kib: number;
  peer_peak_rss_kib: number;
  memory_ratio: number;
}

const VERSUS: Record<string, string> = {
  finetune: "peer train step",
  finetune_dropout: "peer train step (no dropout)",
  pretrain: "rtd_reference (PyTorch RTD step, same config)",
  inference: "peer inference",
  inference_int8: "peer inference (float32; ours int8 dense layers)",
};

/** Rows of ours against the peer's best per round: medians, paired ratios, GFLOP/s and roofline shares. */
export function summarize(
  benches: readonly string[],
  ours: Record<string, Record<string, number>[]>,
  peer: PeerBest[],
  flops: Record<string, number>,
  rooflineGflops: number,
): BenchRow[] {
  const med = (rows: Record<string, number>[] | undefined, key: string) =>
    median((rows ?? []).map((x) => x[key]));
  // Pretraining compares with the RTD reference where it ran, else (older runs) the peer's fine-tuning step.
  const peerKey = (b: string) =>
    (b.startsWith("inference")
      ? "infer"
      : b === "pretrain" && peer.some((p) => p.pretrain_tokens_per_s !== undefined)
      ? "pretrain"
      : "train") as "infer" | "train" | "pretrain";
  const rows: BenchRow[] = [];
  for (const b of benches.filter((x) => x !== "tokenizer")) {
    const k = peerKey(b);
    const peerTps = median(peer.map((p) => p[`${k}_tokens_per_s`] ?? NaN));
    const tps = med(ours[b], "tokens_per_s"), rss = med(ours[b], "peak_rss_kib");
    const peerRss = median(peer.map((p) => p.peak_rss_kib ?? NaN));
    // Paired: round r of ours over round r of the peer (measured minutes apart), then their median;
    // steadier than the ratio of medians when the machine's load drifts.
    const paired = median(
      (ours[b] ?? []).map((x, i) => (peer[i] ? x.tokens_per_s / (peer[i][`${k}_tokens_per_s`] ?? NaN) : NaN)),
    );
    const f = flops[b];
    rows.push({
      bench: b,
      versus: k === "train" && b === "pretrain" ? "peer train step (fine-tuning)" : VERSUS[b] ?? "peer",
      ours_tokens_per_s: tps,
      peer_tokens_per_s: peerTps,
      ratio: tps / peerTps,
      paired_ratio: paired,
      flops_per_token: f,
      ours_gflops: gflops(tps, f),
      peer_gflops: gflops(peerTps, f),
      ours_roofline_share: gflops(tps, f) / rooflineGflops,
      peer_roofline_share: gflops(peerTps, f) / rooflineGflops,
      peer_threads: peer.map((p) => p[`${k}_threads`] ?? NaN),
      ours_peak_rss_kib: rss,
      peer_peak_rss_kib: peerRss,
      memory_ratio: rss / peerRss,
    });
  }
  return rows;
}

/** The CPU of this machine from /proc/cpuinfo (empty fields where it is missing). */
function cpuInfo(): CpuInfo {
  try {
    return parseCpuInfo(Deno.readTextFileSync("/proc/cpuinfo"));
  } catch {
    return { model: "", cpus: navigator.hardwareConcurrency, flags: [], simd: [] };
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)} %` : "—");

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      batch: { type: "string", default: "32" },
      seq: { type: "string", default: "128" },
      steps: { type: "string" },
      runs: { type: "string" },
      threads: { type: "string", default: "2" },
      out: { type: "string" },
      "no-peer": { type: "boolean", default: false },
      "peer-threads": { type: "string", default: "1,2" },
      "pinned-peer": { type: "boolean", default: false },
      "no-roofline": { type: "boolean", default: false },
    },
  });
  const quick = values.quick!;
  const a: ChildArgs = {
    batch: Number(values.batch),
    seq: Number(values.seq),
    steps: Number(values.steps ?? (quick ? 2 : 5)),
    threads: Number(values.threads),
    quick,
  };
  if (values.child) return await child(values.child as BenchName | "roofline", a);

  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const wanted = (values.only ?? (quick ? "finetune,inference,peer" : [...ALL, "peer"].join(","))).split(",")
    .map((s) => s.trim());
  for (const w of wanted) {
    if (w !== "peer" && !(ALL as readonly string[]).includes(w)) {
      throw new Error(`--only: unknown bench "${w}" (known: ${[...ALL, "peer"].join(", ")})`);
    }
  }
  const peerThreadSettings = values["peer-threads"]!.split(",").map((t) => {
    const n = Number(t.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`--peer-threads: "${t}" is not a positive integer`);
    return n;
  });
  const benches = ALL.filter((b) => wanted.includes(b));
  const withPeer = wanted.includes("peer") && !values["no-peer"];
  const pinned = values["pinned-peer"]!;
  const cpu = cpuInfo();
  const load: Record<string, number[]> = { start: loadAverage() };
  console.log(
    `NERSOTA bench: batch ${a.batch} × seq ${a.seq}, ${a.steps} timed steps, ${runs} round(s), ${a.threads} ORT threads; ` +
      `load average ${load.start.join(" ")} on ${navigator.hardwareConcurrency} CPUs (${cpu.model})`,
  );

  const ours: Record<string, Record<string, number>[]> = {};
  const peer: PeerBest[] = [];
  const peerRuns: PeerResult[][] = [];
  const roofline: Record<string, unknown>[] = [];
  const errors: string[] = [];
  let peerSkipped: string | undefined, python: string | undefined;
  if (withPeer) {
    const found = await findPeerPython();
    python = found.python;
    if (!python) peerSkipped = `no Python with torch (tried ${found.tried.join("; ")})`;
  }
  const log = (s: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${s}`);
  // Interleaved rounds: roofline, peer (each thread setting), then each of ours (tokenizer only once).
  for (let r = 0; r < runs; r++) {
    if (!values["no-roofline"] && benches.some((b) => b !== "tokenizer")) {
      log(`round ${r + 1}/${runs}: roofline`);
      const res = await spawn("roofline", a);
      if ("error" in res) errors.push(String(res.error));
      else roofline.push(res);
    }
    if (withPeer && !peerSkipped) {
      const round: PeerResult[] = [];
      const order = peerThreadOrder(r, navigator.hardwareConcurrency, peerThreadSettings);
      for (const threads of order) {
        log(`round ${r + 1}/${runs}: peer, ${threads} torch thread(s)`);
        const p = await runPeer({ batch: a.batch, seq: a.seq, steps: a.steps, threads, python, pinned });
        if (p.result) round.push(p.result);
        else peerSkipped = p.skipped;
      }
      // The pretraining row's peer: the PyTorch RTD reference, same config and shape, same thread rule.
      const rtd: PeerResult[] = [];
      for (const threads of benches.includes("pretrain") && !peerSkipped ? order : []) {
        log(`round ${r + 1}/${runs}: rtd_reference, ${threads} torch thread(s)`);
        const p = await runPeer({
          batch: a.batch,
          seq: a.seq,
          steps: a.steps,
          threads,
          python,
          pinned,
          script: RTD_SCRIPT,
          extraArgs: RTD_ARGS,
        });
        if (p.result) rtd.push(p.result);
        else errors.push(`rtd_reference: ${p.skipped}`);
      }
      if (round.length) {
        peerRuns.push([...round, ...rtd]);
        const best = bestPeerRun(round);
        if (rtd.length) {
          const r = rtd.reduce((x, y) => (y.train_tokens_per_s > x.train_tokens_per_s ? y : x));
          best.pretrain_tokens_per_s = r.train_tokens_per_s;
          best.pretrain_threads = r.threads;
        }
        peer.push(best);
      }
    }
    for (const b of benches) {
      if (b === "tokenizer" && r > 0) continue;
      log(`round ${r + 1}/${runs}: ${b}`);
      const res = await spawn(b, a);
      if ("error" in res) {
        errors.push(String(res.error));
        log(String(res.error));
      } else (ours[b] ??= []).push(res);
    }
  }
  load.end = loadAverage();

  const med = (rows: Record<string, number>[] | undefined, key: string) =>
    median((rows ?? []).map((x) => x[key]));
  const bestRoofline = roofline.length ? Math.max(...roofline.map((x) => x.best_gflops as number)) : NaN;
  const flops = flopsPerToken(a.batch, a.seq);
  const rows = summarize(benches, ours, peer, flops, bestRoofline);
  const lines = [
    "",
    "| bench | ours tokens/s | ours GFLOP/s | ours % roofline | peer tokens/s | peer GFLOP/s | peer % roofline | peer threads | ours/peer (medians) | ours/peer (paired rounds) | ours peak MiB | peer peak MiB | mem ours/peer | target |",
    "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
  ];
  const targets: Record<string, number> = {
    finetune: 1.2,
    inference: 1.0,
    inference_int8: 1.5,
    pretrain: 1.2,
  };
  for (const row of rows) {
    const t = targets[row.bench];
    const target = t ? `≥ ${t}× paired: ${row.paired_ratio >= t ? "met" : "not met"}` : "";
    lines.push(
      `| ${row.bench} | ${fmt(row.ours_tokens_per_s)} | ${fmt(row.ours_gflops, 1)} | ${
        pct(row.ours_roofline_share)
      } | ${fmt(row.peer_tokens_per_s)} | ${fmt(row.peer_gflops, 1)} | ${pct(row.peer_roofline_share)} | ${
        row.peer_threads.join(", ")
      } | ${fmt(row.ratio, 2)}× | ${fmt(row.paired_ratio, 2)}× | ${fmt(row.ours_peak_rss_kib / 1024)} | ${
        fmt(row.peer_peak_rss_kib / 1024)
      } | ${fmt(row.memory_ratio, 2)}× | ${target} |`,
    );
  }
  if (roofline.length) {
    lines.push(
      "",
      `roofline (ONNX Runtime SGEMM at our layer shapes, best of rounds and 1/2 threads): ${
        fmt(bestRoofline, 1)
      } GFLOP/s; rounds ${roofline.map((x) => fmt(x.best_gflops as number, 1)).join(", ")}`,
    );
  }
  if (ours.tokenizer?.[0]) {
    const t = ours.tokenizer[0];
    lines.push(
      "",
      `tokenizer: ${fmt(t.tokenizer_encode_chars_per_s)} chars/s encode (${
        fmt(t.tokenizer_encode_tokens_per_s)
      } tokens/s), ` +
        `${fmt(t.tokenizer_encode_ids_chars_per_s)} chars/s ids only; build-data: ${
          fmt(t.build_data_w1_examples_per_s)
        } examples/s ` +
        `(1 worker), ${fmt(t.build_data_w2_examples_per_s)} examples/s (2 workers)`,
    );
  }
  for (const b of ["finetune", "finetune_dropout", "pretrain"]) {
    const key = b === "pretrain" ? "pretrain_step_ms" : "finetune_step_ms";
    if (ours[b]) {
      lines.push(
        `${b}: median step ${fmt(med(ours[b], key))} ms; rounds ${
          ours[b].map((x) => fmt(x[key])).join(", ")
        } ms, ` +
          `${ours[b].map((x) => fmt(x.tokens_per_s)).join(", ")} tokens/s`,
      );
    }
  }
  if (peerRuns.length) {
    const env = peerEnvironment(Deno.env.toObject(), pinned);
    lines.push(
      `peer (${peerRuns[0][0].peer}, ${python}${pinned ? ", pinned OpenBLAS" : ""}; without ${
        Object.keys(env.removed).join(", ") || "the pinning variables (none were set)"
      }): ` +
        peerRuns.map((round, r) =>
          `round ${r + 1}: ` +
          round.map((x) =>
            x.peer.includes("rtd_reference")
              ? `rtd_reference ${x.threads} thread(s) train ${fmt(x.train_tokens_per_s)}`
              : `${x.threads} thread(s) train ${fmt(x.train_tokens_per_s)}, inference ${
                fmt(x.infer_tokens_per_s)
              }`
          ).join("; ")
        ).join(" | "),
    );
  }
  if (peerSkipped) lines.push(`peer skipped: ${peerSkipped}`);
  for (const e of errors) lines.push(`error: ${e}`);
  lines.push(`load average: start ${load.start.join(" ")}, end ${load.end.join(" ")}`);
  console.log(lines.join("\n"));

  const sha = await gitSha();
  const removed = peerEnvironment(Deno.env.toObject(), pinned).removed;
  const result = {
    format: "nersota-bench/2",
    date: new Date().toISOString(),
    git: sha,
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    cpu,
    load_average: load,
    options: { ...a, runs, benches, peer: withPeer, peer_threads: peerThreadSettings, pinned_peer: pinned },
    peer_setup: { python, pinned, removed_variables: removed },
    flops_per_token: flops,
    roofline: { best_gflops: bestRoofline, rounds: roofline },
    ratios: rows,
    medians: Object.fromEntries(
      Object.entries(ours).map((
        [b, rs],
      ) => [b, Object.fromEntries(Object.keys(rs[0]).map((k) => [k, med(rs, k)]))]),
    ),
    runs: { ours, peer, peer_all: peerRuns },
    peer_skipped: peerSkipped,
    errors,
  };
  const json = JSON.stringify(result, null, 2) + "\n";
  const dir = new URL("./results/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const file = new URL(`${result.date.slice(0, 16).replace(":", "")}-${sha}.json`, dir).pathname;
  await Deno.writeTextFile(file, json);
  if (values.out) await Deno.writeTextFile(values.out, json);
  console.log(`results: ${file}${values.out ? ` and ${values.out}` : ""}`);
  if (errors.length) Deno.exitCode = 1;
}

if (import.meta.main) await main();
