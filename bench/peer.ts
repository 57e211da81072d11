/**
 * Runs the PyTorch peer benchmark (`../shared/bench/torch_electra.py`) in a child process of this one,
 * so that our numbers and the peer's come from the same run on the same machine.
 * @module
 */

/** What the peer prints: train and inference tokens/s at one batch × sequence shape. */
export interface PeerResult {
  peer: string;
  batch: number;
  seq: number;
  train_tokens_per_s: number;
  infer_tokens_per_s: number;
  /** Peak resident memory of the peer process in KiB (from /usr/bin/time), when measurable. */
  peak_rss_kib?: number;
}

/** The peer script's default location, beside this repository. */
export const PEER_SCRIPT = new URL("../../shared/bench/torch_electra.py", import.meta.url);

/** Runs the peer once; returns undefined (with the reason) when PyTorch or the script is missing. */
export async function runPeer(
  options: { batch?: number; seq?: number; steps?: number; python?: string } = {},
): Promise<{ result?: PeerResult; skipped?: string }> {
  const python = options.python ?? "/usr/bin/python3";
  try {
    await Deno.stat(PEER_SCRIPT);
  } catch {
    return { skipped: `peer script not found at ${PEER_SCRIPT.pathname}` };
  }
  const args = [
    PEER_SCRIPT.pathname,
    "--batch",
    String(options.batch ?? 32),
    "--seq",
    String(options.seq ?? 128),
    "--steps",
    String(options.steps ?? 5),
  ];
  const timeBin = "/usr/bin/time";
  const haveTime = await Deno.stat(timeBin).then(() => true, () => false);
  const cmd = haveTime
    ? new Deno.Command(timeBin, {
      args: ["-f", "PEAK_RSS_KIB=%M", python, ...args],
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(python, { args, stdout: "piped", stderr: "piped" });
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
      ? "PyTorch is not installed (apt-get install -y python3-torch libopenblas0-pthread)"
      : stderr.trim().split("\n").slice(-3).join(" | ");
    return { skipped: why };
  }
  const line = stdout.trim().split("\n").pop() ?? "";
  const result = JSON.parse(line) as PeerResult;
  const rss = stderr.match(/PEAK_RSS_KIB=(\d+)/);
  if (rss) result.peak_rss_kib = Number(rss[1]);
  return { result };
}
