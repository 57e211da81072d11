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
 * Results go to `bench/results/<date>T<hhmm>-<git sha>.json` (and `--out FILE`), with the load average and
 * every single run, so that commits can be compared.
 *
 * ```
 * deno task bench [--quick] [--only finetune,inference,inference_int8,finetune_dropout,pretrain,tokenizer,peer]
 *                 [--batch 32] [--seq 128] [--steps 5] [--runs 3] [--threads 2] [--out FILE] [--no-peer]
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { runPeer } from "./peer.ts";

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
async function child(name: BenchName, a: ChildArgs): Promise<void> {
  let r: Record<string, number>;
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
async function spawn(name: BenchName, a: ChildArgs): Promise<Record<string, number> | { error: string }> {
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
  if (values.child) return await child(values.child as BenchName, a);

  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const wanted = (values.only ?? (quick ? "finetune,inference,peer" : [...ALL, "peer"].join(","))).split(",")
    .map((s) => s.trim());
  for (const w of wanted) {
    if (w !== "peer" && !(ALL as readonly string[]).includes(w)) {
      throw new Error(`--only: unknown bench "${w}" (known: ${[...ALL, "peer"].join(", ")})`);
    }
  }
  const benches = ALL.filter((b) => wanted.includes(b));
  const withPeer = wanted.includes("peer") && !values["no-peer"];
  const load: Record<string, number[]> = { start: loadAverage() };
  console.log(
    `NERSOTA bench: batch ${a.batch} × seq ${a.seq}, ${a.steps} timed steps, ${runs} round(s), ${a.threads} ORT threads; ` +
      `load average ${load.start.join(" ")} on ${navigator.hardwareConcurrency} CPUs`,
  );

  const ours: Record<string, Record<string, number>[]> = {};
  const peer: Record<string, number>[] = [];
  const errors: string[] = [];
  let peerSkipped: string | undefined;
  const log = (s: string) => console.error(`  ${new Date().toISOString().slice(11, 19)} ${s}`);
  // Interleaved rounds: peer, then each of ours (tokenizer only once, it has no peer).
  for (let r = 0; r < runs; r++) {
    if (withPeer && !peerSkipped) {
      log(`round ${r + 1}/${runs}: peer`);
      const p = await runPeer({ batch: a.batch, seq: a.seq, steps: a.steps });
      if (p.result) peer.push(p.result as unknown as Record<string, number>);
      else peerSkipped = p.skipped;
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
  const peerTrain = med(peer, "train_tokens_per_s"), peerInfer = med(peer, "infer_tokens_per_s");
  const peerRss = med(peer, "peak_rss_kib");
  const versus: Record<string, [string, number]> = {
    finetune: ["peer train step", peerTrain],
    finetune_dropout: ["peer train step (no dropout)", peerTrain],
    pretrain: ["peer train step (fine-tuning; the peer has no pretraining)", peerTrain],
    inference: ["peer inference", peerInfer],
    inference_int8: ["peer inference (float32; ours int8 dense layers)", peerInfer],
  };
  // Paired ratios: round r of ours over round r of the peer (measured minutes apart), then their median;
  // steadier than the ratio of medians when the machine's load drifts.
  const peerKey = (b: string) => (b.startsWith("inference") ? "infer_tokens_per_s" : "train_tokens_per_s");
  const paired = (b: string) =>
    median((ours[b] ?? []).map((x, i) => (peer[i] ? x.tokens_per_s / peer[i][peerKey(b)] : NaN)));
  const rows: Record<string, unknown>[] = [];
  const lines = [
    "",
    "| bench | ours tokens/s | peer tokens/s | ours/peer (medians) | ours/peer (paired rounds) | ours peak MiB | peer peak MiB | mem ours/peer | target |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  const targets: Record<string, number> = { finetune: 1.2, inference: 1.5, inference_int8: 1.5 };
  for (const b of benches.filter((x) => x !== "tokenizer")) {
    const tps = med(ours[b], "tokens_per_s"), rss = med(ours[b], "peak_rss_kib");
    const [label, p] = versus[b];
    const ratio = tps / p, memRatio = rss / peerRss;
    const target = targets[b]
      ? `≥ ${targets[b]}× speed, ≤ 1× mem: ${ratio >= targets[b] && memRatio <= 1 ? "met" : "not met"}`
      : "";
    const pr = paired(b);
    rows.push({
      bench: b,
      versus: label,
      ours_tokens_per_s: tps,
      peer_tokens_per_s: p,
      ratio,
      paired_ratio: pr,
      ours_peak_rss_kib: rss,
      peer_peak_rss_kib: peerRss,
      memory_ratio: memRatio,
    });
    lines.push(
      `| ${b} | ${fmt(tps)} | ${fmt(p)} | ${fmt(ratio, 2)}× | ${fmt(pr, 2)}× | ${fmt(rss / 1024)} | ${
        fmt(peerRss / 1024)
      } | ${fmt(memRatio, 2)}× | ${target} |`,
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
  if (peer.length) {
    lines.push(
      `peer (${peer[0].peer}): train ${peer.map((x) => fmt(x.train_tokens_per_s)).join(", ")} tokens/s, ` +
        `inference ${peer.map((x) => fmt(x.infer_tokens_per_s)).join(", ")} tokens/s`,
    );
  }
  if (peerSkipped) lines.push(`peer skipped: ${peerSkipped}`);
  for (const e of errors) lines.push(`error: ${e}`);
  lines.push(`load average: start ${load.start.join(" ")}, end ${load.end.join(" ")}`);
  console.log(lines.join("\n"));

  const sha = await gitSha();
  const result = {
    format: "nersota-bench/1",
    date: new Date().toISOString(),
    git: sha,
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    load_average: load,
    options: { ...a, runs, benches, peer: withPeer },
    ratios: rows,
    medians: Object.fromEntries(
      Object.entries(ours).map((
        [b, rs],
      ) => [b, Object.fromEntries(Object.keys(rs[0]).map((k) => [k, med(rs, k)]))]),
    ),
    runs: { ours, peer },
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
