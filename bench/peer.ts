/**
 * Runs the PyTorch peer benchmark (`../shared/bench/torch_electra.py`) in a child process of this one,
 * so that our numbers and the peer's come from the same run on the same machine. The peer runs fair by
 * default: without the variables that pin OpenBLAS to old kernels (`PINNING_VARIABLES`), at a torch
 * thread count the caller picks (`bench/main.ts` tries 1 and 2 each round and keeps the faster).
 * @module
 */
import { peerEnvironment } from "./fair.ts";

/** What the peer prints: train and inference tokens/s at one batch × sequence shape. */
export interface PeerResult {
  peer: string;
  batch: number;
  seq: number;
  train_tokens_per_s: number;
  /** Absent from the pretraining reference (`RTD_SCRIPT`), which only trains. */
  infer_tokens_per_s: number;
  /** torch intra-op threads of this run. */
  threads: number;
  /** Peak resident memory of the peer process in KiB (from /usr/bin/time), when measurable. */
  peak_rss_kib?: number;
}

/** The peer script's default location, beside this repository. */
export const PEER_SCRIPT = new URL("../../shared/bench/torch_electra.py", import.meta.url);

/** The PyTorch reference of our pretraining step, run with `RTD_ARGS` as the pretraining row's peer. */
export const RTD_SCRIPT = new URL("./rtd_reference/torch_rtd.py", import.meta.url);

/** Arguments that put `RTD_SCRIPT` in throughput mode with the pretraining bench's config. */
export const RTD_ARGS: readonly string[] = Object.freeze([
  "--bench",
  "--config",
  decodeURIComponent(new URL("../configs/small_config.json", import.meta.url).pathname),
]);

/** Python interpreters tried for the peer, in order, after `$NERSOTA_PEER_PYTHON`. */
export const PYTHON_CANDIDATES: readonly string[] = Object.freeze(["python3", "/usr/bin/python3"]);

/** The first of `candidates` that imports torch, or undefined (with what each said) when none does. */
export async function findPeerPython(
  candidates: readonly string[] = [
    ...(Deno.env.get("NERSOTA_PEER_PYTHON") ? [Deno.env.get("NERSOTA_PEER_PYTHON")!] : []),
    ...PYTHON_CANDIDATES,
  ],
): Promise<{ python?: string; tried: string[] }> {
  const tried: string[] = [];
  for (const python of candidates) {
    try {
      const out = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (out.success) return { python, tried };
      tried.push(`${python}: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`);
    } catch (e) {
      tried.push(`${python}: ${(e as Error).message}`);
    }
  }
  return { tried };
}

/** Options of `runPeer`. */
export interface PeerOptions {
  batch?: number;
  seq?: number;
  steps?: number;
  /** torch intra-op threads (default 1, the peer script's default). */
  threads?: number;
  /** Interpreter (default /usr/bin/python3); `findPeerPython` finds one with torch. */
  python?: string;
  /** The peer script (default `PEER_SCRIPT`). */
  script?: URL;
  /** Arguments after the script's own (`--batch`, `--seq`, `--steps`, `--threads`). */
  extraArgs?: readonly string[];
  /** Keep the OpenBLAS pinning variables in the peer's environment (the old, handicapped peer). */
  pinned?: boolean;
}

/** Runs the peer once; returns undefined (with the reason) when PyTorch or the script is missing. */
export async function runPeer(options: PeerOptions = {}): Promise<{ result?: PeerResult; skipped?: string }> {
  const python = options.python ?? "/usr/bin/python3";
  const threads = options.threads ?? 1, script = options.script ?? PEER_SCRIPT;
  try {
    await Deno.stat(script);
  } catch {
    return { skipped: `peer script not found at ${script.pathname}` };
  }
  const args = [
    script.pathname,
    "--batch",
    String(options.batch ?? 32),
    "--seq",
    String(options.seq ?? 128),
    "--steps",
    String(options.steps ?? 5),
    "--threads",
    String(threads),
    ...(options.extraArgs ?? []),
  ];
  const timeBin = "/usr/bin/time";
  const haveTime = await Deno.stat(timeBin).then(() => true, () => false);
  const { env } = peerEnvironment(Deno.env.toObject(), options.pinned);
  const common = { stdout: "piped", stderr: "piped", env, clearEnv: true } as const;
  const cmd = haveTime
    ? new Deno.Command(timeBin, { args: ["-f", "PEAK_RSS_KIB=%M", python, ...args], ...common })
    : new Deno.Command(python, { args, ...common });
  let out: Deno.CommandOutput;
  try {
    out = await cmd.output();
  } catch (e) {
    return { skipped: `cannot run ${python}: ${(e as Error).message}` };
  }
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    const why = /No module named 'torch'/.test(stderr)
      ? `PyTorch is not installed for ${python} (pip install torch, or set NERSOTA_PEER_PYTHON)`
      : stderr.trim().split("\n").slice(-3).join(" | ");
    return { skipped: why };
  }
  const line = stdout.trim().split("\n").pop() ?? "";
  const result = { ...JSON.parse(line), threads } as PeerResult;
  const rss = stderr.match(/PEAK_RSS_KIB=(\d+)/);
  if (rss) result.peak_rss_kib = Number(rss[1]);
  return { result };
}
