/**
 * The GPU probe: what this toolkit can do on the accelerator of the machine it runs on, in one bounded run
 * that writes a JSON report as it goes (docs/gpu.md says how to read it).
 *
 * 1. The machine: `nvidia-smi` (GPUs, driver, CUDA version), the Vulkan loader and ICD files, CUDA and ONNX
 *    Runtime provider libraries on disk, host CPU and memory.
 * 2. Whether Deno's `navigator.gpu` finds an adapter, and a hardware one; whether ONNX Runtime's CUDA
 *    provider loads in onnxruntime-node (the exact error when its libraries are missing).
 * 3. On each provider that works: inference parity with `cpu` on the default model (entities equal, max logit
 *    difference), fine-tuning and ELECTRA-small pretraining steps/s at 32 × 128 and at the largest batch
 *    that fits, and a short pretraining run (fixed updates) whose loss must fall.
 * 4. Hours of pretraining ELECTRA-small to convergence at each measured rate (tokens / tokens per second).
 *
 * Each probe and each provider's parts run in child processes with deadlines (a hung driver or an
 * out-of-memory crash loses one part, not the report); every part's result is written to the report (atomic
 * rename) as soon as it arrives, so a run stopped from outside still leaves what it measured.
 *
 * ```
 * deno run -A bench/gpu_probe.ts [--fast] [--out FILE] [--providers cuda,webgpu,cpu]
 *     [--parts parity,pretrain,pretrain-run,finetune] [--budget-s 450] [--part-timeout-s N] [--software-webgpu]
 * ```
 * `bench/gpu_probe.sh` wraps it for the device machine (offline Deno and packages, Vulkan loader).
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { Provider } from "../onnx/runtime.ts";
import { writeFileAtomic } from "../train/util/fs.ts";
import { readPretrainConfig } from "../train/pretrain/pretrain_config.ts";
import {
  findCudaLibraries,
  probeHost,
  probeNvidia,
  probeVulkan,
  probeWebGpu,
  run as runCommand,
  type WebGpuReport,
} from "./gpu_system.ts";
import {
  parity,
  pretrainRun,
  probeCudaProvider,
  type ProbeMode,
  trainThroughput,
} from "./gpu_probe_parts.ts";

/** The report's format tag. */
export const REPORT_FORMAT = "nersota-gpu-probe/1";

/** Parts measured on each working provider, in run order (parity only where the provider is not `cpu`). */
export const PARTS = ["parity", "pretrain", "pretrain-run", "finetune"] as const;
/** One provider part. */
export type PartName = typeof PARTS[number];

/** Share of the remaining time each part gets (pretraining throughput, the figure the hours come from, most). */
export const PART_WEIGHTS: Record<PartName, number> = {
  parity: 1,
  pretrain: 3,
  "pretrain-run": 2,
  finetune: 2,
};
/** Accelerators' parts get twice the time of the host's: their figures are what the run is for. */
export const PROVIDER_WEIGHTS: Record<Provider, number> = { cuda: 2, webgpu: 2, cpu: 1, wasm: 1 };

/** A part's outcome as the report stores it (its measurements are spread into the same object). */
export interface PartRecord {
  status: "ok" | "error" | "timeout" | "running" | "skipped";
  seconds?: number;
  /** Seconds the part was allowed (its deadline minus its start). */
  budget_s?: number;
  error?: string;
  /** Last lines of the child's stderr when the part failed. */
  log_tail?: string;
  /** ONNX Runtime's warning and error lines (e.g. nodes placed on the CPU, a library that did not load). */
  ort_log?: string[];
  [key: string]: unknown;
}

/** Options of `runProbe`. */
export interface ProbeOptions {
  mode: ProbeMode;
  /** Report path. */
  out: string;
  /** Providers to try, in order. */
  providers: Provider[];
  parts: PartName[];
  /** Whole-run budget in seconds, probes included. */
  budgetS: number;
  /** Upper bound of any one part's time (tests use it to force a timeout). */
  partTimeoutS?: number;
  /** Run the WebGPU parts on a software adapter (llvmpipe) too: slow, for checking the path without a GPU. */
  softwareWebgpu?: boolean;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

/** JSON with non-finite numbers kept readable ("Infinity", "NaN") instead of null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 2);
}

/** Hours to process `tokens` training tokens at `tokensPerS`: the formula docs/gpu.md applies. */
export function projectHours(tokens: number, tokensPerS: number): number {
  return tokens / tokensPerS / 3600;
}

/**
 * Cumulative deadlines (ms since the epoch) for a plan of parts sharing `seconds` by weight: part k must end
 * by `now + seconds · (w_1 + … + w_k) / Σw`, so time a part leaves unused passes to the parts after it.
 */
export function planDeadlines(weights: number[], seconds: number, now: number): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  let acc = 0;
  return weights.map((w) => now + ((acc += w) / total) * seconds * 1000);
}

/** ELECTRA-small's pretraining tokens (updates × batch × sequence of configs/small_config.json) and the hours at each rate of the report. */
export async function projection(report: Record<string, unknown>): Promise<Record<string, unknown>> {
  const cfg = await readPretrainConfig(
    fileURLToPath(new URL("../configs/small_config.json", import.meta.url)),
  );
  const t = cfg.train;
  const tokens = t.trainSteps * t.batchSize * t.maxSeqLength;
  const byProvider: Record<string, unknown> = {};
  const providers = (report.providers ?? {}) as Record<string, Record<string, PartRecord>>;
  for (const [p, rec] of Object.entries(providers)) {
    const rows: Record<string, unknown> = {};
    const sweep = rec.pretrain;
    const ref = sweep?.reference as { tokens_per_s?: number; batch?: number } | undefined;
    const largest = sweep?.largest as { tokens_per_s?: number; batch?: number } | null | undefined;
    const run = rec["pretrain-run"] as { loop_tokens_per_s?: number | null; batch?: number } | undefined;
    const row = (tps: number | null | undefined, batch: number | undefined) =>
      typeof tps === "number" && tps > 0
        ? { batch, tokens_per_s: tps, hours: projectHours(tokens, tps) }
        : undefined;
    if (row(ref?.tokens_per_s, ref?.batch)) rows.at_reference_batch = row(ref?.tokens_per_s, ref?.batch);
    if (row(largest?.tokens_per_s, largest?.batch)) {
      rows.at_largest_batch = row(largest?.tokens_per_s, largest?.batch);
    }
    if (row(run?.loop_tokens_per_s, run?.batch)) rows.real_loop = row(run?.loop_tokens_per_s, run?.batch);
    if (Object.keys(rows).length) byProvider[p] = rows;
  }
  return {
    formula: "hours = tokens / (measured tokens per second) / 3600",
    target: {
      config: "configs/small_config.json",
      train_steps: t.trainSteps,
      batch: t.batchSize,
      seq: t.maxSeqLength,
      tokens,
    },
    by_provider: byProvider,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Child processes

const LINE = "GPU_PROBE ";
const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Text without terminal colour codes. */
export function plainText(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

/** Lines of a child's stderr that ONNX Runtime wrote (warnings and errors), deduplicated, at most 20. */
export function ortLines(stderr: string): string[] {
  const lines = plainText(stderr).split("\n").filter((l) =>
    /\[[WE]:onnxruntime|onnxruntime.*(error|fail)/i.test(l)
  );
  return [...new Set(lines.map((l) => l.trim().slice(0, 1000)))].slice(0, 20);
}

interface ChildOutcome {
  results: Map<string, unknown>;
  started: string[];
  killedIn?: string;
  code: number | null;
  stderr: string;
}

/** A child's progress line: a part started, reported a partial result (a sweep's rows so far), or ended. */
type ChildEvent = "start" | "partial" | "result";

/**
 * Runs `bench/gpu_probe.ts --child …`, passing its `GPU_PROBE {"event", "part", "result"}` lines to `onEvent`;
 * kills it (SIGKILL) once the part it is running passes `deadlineOf(part)` (ms since the epoch).
 */
async function runChild(
  args: string[],
  deadlineOf: (part: string) => number,
  onEvent: (event: ChildEvent, part: string, result?: unknown) => Promise<void> = async () => {},
): Promise<ChildOutcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "--child", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const out: ChildOutcome = { results: new Map(), started: [], code: null, stderr: "" };
  let current = "";
  let killed = false;
  const timer = setInterval(() => {
    if (current && Date.now() > deadlineOf(current) && !killed) {
      killed = true;
      out.killedIn = current;
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }
  }, 200);
  const readErr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      out.stderr = plainText(out.stderr + chunk).slice(-20000);
    }
  })();
  let buf = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith(LINE)) continue;
      const msg = JSON.parse(line.slice(LINE.length)) as {
        event: ChildEvent;
        part: string;
        result?: unknown;
      };
      if (msg.event === "start") {
        current = msg.part;
        out.started.push(msg.part);
      } else if (msg.event === "result") {
        out.results.set(msg.part, msg.result);
        current = "";
      }
      await onEvent(msg.event, msg.part, msg.result);
    }
  }
  await readErr;
  out.code = (await child.status).code;
  clearInterval(timer);
  return out;
}

/** The child side: runs `parts` (or one probe) and prints start/result lines. */
async function childMain(values: Record<string, string | boolean | undefined>): Promise<void> {
  const say = (event: string, part: string, result?: unknown) =>
    console.log(
      LINE +
        JSON.stringify(
          { event, part, result },
          (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
        ),
    );
  const what = String(values.child);
  if (what === "webgpu" || what === "cuda") {
    say("start", what);
    say("result", what, what === "webgpu" ? await probeWebGpu() : await probeCudaProvider());
    return;
  }
  const provider = String(values.provider) as Provider;
  const mode = String(values.mode) as ProbeMode;
  const deadlines = new Map(
    String(values.deadlines ?? "").split(",").filter(Boolean).map((kv) => {
      const [k, v] = kv.split("=");
      return [k, Number(v)] as [string, number];
    }),
  );
  for (const part of String(values.parts).split(",").filter(Boolean) as PartName[]) {
    say("start", part);
    const t0 = performance.now();
    // A second of margin: the parent kills at the deadline, the sweep should stop before it.
    const cap = values["cap-s"] ? Number(values["cap-s"]) : Infinity;
    const budgetS = Math.max(
      1,
      Math.min(cap, ((deadlines.get(part) ?? Date.now() + 60_000) - Date.now()) / 1000) - 2,
    );
    let result: Record<string, unknown>;
    try {
      result = part === "parity"
        ? await parity(provider, mode)
        : part === "pretrain-run"
        ? await pretrainRun(provider, mode)
        : await trainThroughput(part, provider, mode, budgetS, (partial) => say("partial", part, partial));
      result = { status: "ok", ...result };
    } catch (e) {
      result = { status: "error", error: (e as Error).message.slice(0, 4000) };
    }
    say("result", part, { ...result, seconds: (performance.now() - t0) / 1000 });
  }
}

// ---------------------------------------------------------------------------------------------------------
// The orchestrator

async function gitSha(): Promise<string | null> {
  const r = await runCommand("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], 10);
  if (r.code !== 0) return null;
  const dirty = await runCommand("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"], 10);
  return r.stdout.trim() + (dirty.stdout.trim() ? "-dirty" : "");
}

/** Runs the whole probe and returns the report (also written to `o.out` after every step). */
export async function runProbe(o: ProbeOptions): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const end = t0 + o.budgetS * 1000;
  const log = o.log ?? ((l: string) => console.error(l));
  const say = (s: string) => log(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${s}`);
  const imports = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).imports ?? {};
  const report: Record<string, unknown> = {
    format: REPORT_FORMAT,
    mode: o.mode,
    complete: false,
    started: new Date(t0).toISOString(),
    finished: null,
    budget_s: o.budgetS,
    git: await gitSha(),
    deno: Deno.version.deno,
    packages: {
      "onnxruntime-node": imports["onnxruntime-node"] ?? null,
      "onnxruntime-web": imports["onnxruntime-web"] ?? null,
    },
    command: ["bench/gpu_probe.ts", ...Deno.args],
    host: await probeHost(),
  };
  const write = () => writeFileAtomic(o.out, toJson(report) + "\n");
  await write();

  // 1. The machine.
  const nvidia = await probeNvidia();
  say(
    nvidia.found
      ? `nvidia-smi: ${nvidia.gpus.map((g) => `${g.name} (driver ${g.driver_version})`).join(", ")}`
      : `nvidia-smi: ${nvidia.error}`,
  );
  const libs = await findCudaLibraries();
  report.gpu = { nvidia_smi: nvidia, cuda_libraries: libs };
  report.vulkan = await probeVulkan();
  await write();

  // 2. WebGPU adapter and CUDA provider, each in a child (a broken driver can hang the process that asks).
  const probe = async (what: "webgpu" | "cuda", capS: number): Promise<PartRecord> => {
    const deadline = Math.min(Date.now() + capS * 1000, end);
    const s = Date.now();
    const c = await runChild([what], () => deadline);
    const r = c.results.get(what) as PartRecord | undefined;
    const ort = ortLines(c.stderr);
    if (r) return { ...r, seconds: (Date.now() - s) / 1000, ...(ort.length ? { ort_log: ort } : {}) };
    return {
      status: c.killedIn ? "timeout" : "error",
      seconds: (Date.now() - s) / 1000,
      error: c.killedIn ? `no answer within ${capS} s` : `the child process exited with code ${c.code}`,
      log_tail: c.stderr.slice(-3000),
      ...(ort.length ? { ort_log: ort } : {}),
    };
  };
  const fast = o.mode === "fast";
  const webgpu = await probe("webgpu", fast ? 30 : 45) as PartRecord & Partial<WebGpuReport>;
  report.webgpu = webgpu;
  say(
    `WebGPU adapter: ${webgpu.status}${
      webgpu.adapter ? ` (${webgpu.adapter.description}; hardware: ${webgpu.hardware})` : ` (${webgpu.error})`
    }`,
  );
  await write();
  const cuda = await probe("cuda", fast ? 30 : 60);
  report.cuda = cuda;
  say(`CUDA provider: ${cuda.status}${cuda.error ? ` (${String(cuda.error).slice(0, 200)})` : ""}`);
  await write();

  // 3. The parts on each provider that works.
  const providers: Record<string, Record<string, unknown>> = {};
  report.providers = providers;
  const plan: { provider: Provider; part: PartName }[] = [];
  for (const p of o.providers) {
    let reason = "";
    if (p === "webgpu") {
      if (webgpu.status !== "ok") reason = `no WebGPU adapter: ${webgpu.error ?? webgpu.status}`;
      else if (!webgpu.hardware && !o.softwareWebgpu) {
        reason =
          `the WebGPU adapter is software (${webgpu.adapter?.description}): --software-webgpu runs it (slowly)`;
      }
    } else if (p === "cuda" && cuda.status !== "ok") {
      reason = `the CUDA provider does not load: ${cuda.error ?? cuda.status}`;
    }
    if (reason) {
      providers[p] = { status: "absent", reason };
      say(`${p}: absent (${reason.slice(0, 160)})`);
      continue;
    }
    providers[p] = { status: "running" };
    for (const part of o.parts) if (!(part === "parity" && p === "cpu")) plan.push({ provider: p, part });
  }
  await write();
  const reserve = 5_000; // for the projection and the last write
  const deadlines = planDeadlines(
    plan.map((x) => PART_WEIGHTS[x.part] * PROVIDER_WEIGHTS[x.provider]),
    Math.max(0, (end - reserve - Date.now()) / 1000),
    Date.now(),
  );
  const startedAt = new Map<string, number>();
  const keyOf = (p: string, part: string) => `${p}/${part}`;
  const planned = (p: string, part: string) =>
    deadlines[plan.findIndex((x) => x.provider === p && x.part === part)];
  // A part's deadline: its planned one, or sooner once it started when --part-timeout-s caps it.
  const deadlineOf = (p: string, part: string) => {
    const started = startedAt.get(keyOf(p, part));
    const cap = o.partTimeoutS && started !== undefined ? started + o.partTimeoutS * 1000 : Infinity;
    return Math.min(planned(p, part), cap);
  };

  for (const p of [...new Set(plan.map((x) => x.provider))]) {
    let todo = plan.filter((x) => x.provider === p).map((x) => x.part);
    while (todo.length) {
      const live = todo.filter((part) => planned(p, part) > Date.now() + 1000);
      for (const part of todo.filter((x) => !live.includes(x))) {
        providers[p][part] = { status: "skipped", error: "no time left in the budget" };
      }
      if (!live.length) break;
      const c = await runChild(
        [
          "provider",
          "--provider",
          p,
          "--mode",
          o.mode,
          "--parts",
          live.join(","),
          "--deadlines",
          live.map((part) => `${part}=${Math.round(planned(p, part))}`).join(","),
          ...(o.partTimeoutS ? ["--cap-s", String(o.partTimeoutS)] : []),
        ],
        (part) => deadlineOf(p, part),
        async (event, part, result) => {
          if (event === "start") {
            startedAt.set(keyOf(p, part), Date.now());
            providers[p][part] = { status: "running" };
          } else if (event === "partial") {
            providers[p][part] = { ...(result as Record<string, unknown>), status: "running" };
          } else {
            const r = result as PartRecord;
            const budget = (deadlineOf(p, part) - (startedAt.get(keyOf(p, part)) ?? Date.now())) / 1000;
            providers[p][part] = { ...r, budget_s: Math.round(budget) };
            say(
              `${p} ${part}: ${r.status}${r.error ? ` (${String(r.error).slice(0, 200)})` : ""} in ${
                Number(r.seconds).toFixed(1)
              } s`,
            );
          }
          await write();
        },
      );
      const ort = ortLines(c.stderr);
      for (const part of c.started) {
        const rec = providers[p][part] as PartRecord;
        if (ort.length && rec.status !== "running") rec.ort_log = ort;
      }
      const unfinished = c.started.find((part) => !c.results.has(part));
      if (unfinished) {
        const s = startedAt.get(keyOf(p, unfinished)) ?? Date.now();
        providers[p][unfinished] = {
          // What a sweep had measured before the end stays (its `stopped` says "in progress").
          ...(providers[p][unfinished] as Record<string, unknown>),
          status: c.killedIn ? "timeout" : "error",
          seconds: (Date.now() - s) / 1000,
          budget_s: Math.round((deadlineOf(p, unfinished) - s) / 1000),
          error: c.killedIn
            ? `stopped at its deadline after ${((Date.now() - s) / 1000).toFixed(0)} s`
            : `the child process died (exit code ${c.code})`,
          log_tail: c.stderr.slice(-3000),
          ...(ort.length ? { ort_log: ort } : {}),
        };
        say(`${p} ${unfinished}: ${(providers[p][unfinished] as PartRecord).status}`);
      } else if (!c.started.length && live.length) {
        // The child died before its first part: charge that part, so the loop moves on.
        providers[p][live[0]] = {
          status: "error",
          error: `the child process exited with code ${c.code} before starting`,
          log_tail: c.stderr.slice(-3000),
        };
      }
      todo = todo.filter((part) =>
        !(part in providers[p]) || (providers[p][part] as PartRecord).status === "running"
      );
      await write();
    }
    const statuses = plan.filter((x) => x.provider === p).map((x) =>
      (providers[p][x.part] as PartRecord)?.status
    );
    providers[p].status = statuses.every((s) => s === "ok")
      ? "ok"
      : statuses.some((s) => s === "ok")
      ? "partial"
      : "failed";
  }

  // 4. Hours to convergence.
  report.projection = fast
    ? { skipped: "fast mode measures a tiny model, not ELECTRA-small: run without --fast for hours" }
    : await projection(report);
  report.complete = true;
  report.finished = new Date().toISOString();
  report.seconds = (Date.now() - t0) / 1000;
  await write();
  say(`report: ${o.out}`);
  return report;
}

const PROVIDERS: readonly Provider[] = ["cpu", "cuda", "webgpu", "wasm"];

function list<T extends string>(value: string, known: readonly T[], flag: string): T[] {
  const xs = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const x of xs) {
    if (!known.includes(x as T)) throw new Error(`${flag}: unknown "${x}" (known: ${known.join(", ")})`);
  }
  return xs as T[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      fast: { type: "boolean", default: false },
      out: { type: "string" },
      providers: { type: "string" },
      parts: { type: "string" },
      "budget-s": { type: "string" },
      "part-timeout-s": { type: "string" },
      "software-webgpu": { type: "boolean", default: false },
      child: { type: "string" },
      provider: { type: "string" },
      mode: { type: "string" },
      deadlines: { type: "string" },
      "cap-s": { type: "string" },
    },
  });
  if (values.child) return await childMain(values);
  const mode: ProbeMode = values.fast ? "fast" : "full";
  const sha = (await gitSha()) ?? "nogit";
  const outDir = Deno.env.get("OUT");
  const out = values.out ??
    (outDir ? `${outDir}/gpu_probe.json` : fileURLToPath(
      new URL(
        `./results/gpu-probe-${new Date().toISOString().slice(0, 16).replace(":", "")}-${sha}.json`,
        import.meta.url,
      ),
    ));
  let budgetS = Number(values["budget-s"] ?? (mode === "fast" ? 150 : 450));
  // bench/gpu_probe.sh's hard limit: end the planned work before it kills this process.
  const hardDeadline = Number(Deno.env.get("NERSOTA_PROBE_DEADLINE_MS") ?? NaN);
  if (Number.isFinite(hardDeadline)) {
    budgetS = Math.min(budgetS, Math.max(1, (hardDeadline - Date.now()) / 1000));
  }
  const partTimeoutS = values["part-timeout-s"] ? Number(values["part-timeout-s"]) : undefined;
  if (!(budgetS > 0) || (partTimeoutS !== undefined && !(partTimeoutS > 0))) {
    throw new Error("--budget-s and --part-timeout-s must be positive numbers of seconds");
  }
  await runProbe({
    mode,
    out,
    providers: list(
      values.providers ?? (mode === "fast" ? "cpu,wasm,webgpu,cuda" : "cuda,webgpu,cpu"),
      PROVIDERS,
      "--providers",
    ),
    parts: list(values.parts ?? PARTS.join(","), PARTS, "--parts"),
    budgetS,
    partTimeoutS,
    softwareWebgpu: values["software-webgpu"],
  });
}

if (import.meta.main) await main();
