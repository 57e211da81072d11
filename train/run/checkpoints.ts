/**
 * A folder of training checkpoints, `step-00000100.safetensors` …: each written atomically (temporary
 * file, fsync, rename, see `train/run/artifacts_io.ts`), only the newest K kept, and verified on load by the
 * SHA-256 that `onnx/checkpoint.ts` records. A corrupt or truncated newest checkpoint is reported and the
 * one before it is used, so a crash mid-write or a damaged disk costs at most `save_every` steps.
 * @module
 */
import { join } from "node:path";
import { type CheckpointState, decodeCheckpoint, encodeCheckpoint } from "../../onnx/checkpoint.ts";
import { writeFileAtomic } from "./artifacts_io.ts";

const PATTERN = /^step-(\d+)\.safetensors$/;

/** The file name of the checkpoint after `step` updates. */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(8, "0")}.safetensors`;
}

/** A checkpoint file found in a folder. */
export interface CheckpointFile {
  step: number;
  path: string;
}

/** Checkpoints in `dir`, oldest first (an absent folder has none). */
export async function listCheckpoints(dir: string): Promise<CheckpointFile[]> {
  const found: CheckpointFile[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = e.isFile ? PATTERN.exec(e.name) : null;
      if (m) found.push({ step: Number(m[1]), path: join(dir, e.name) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return found.sort((a, b) => a.step - b.step);
}

/**
 * Writes `state` as `dir/step-N.safetensors` atomically, then deletes all but the newest `keep`, sparing steps
 * that are multiples of `keepEvery` (> 0: the snapshots a pretraining curve is probed on); returns the path.
 */
export async function saveCheckpoint(
  dir: string,
  state: CheckpointState,
  keep: number,
  keepEvery = 0,
): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, checkpointName(state.step));
  await writeFileAtomic(path, await encodeCheckpoint(state));
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - Math.max(1, keep)))) {
    if (keepEvery > 0 && old.step % keepEvery === 0) continue;
    await Deno.remove(old.path).catch(() => {});
  }
  return path;
}

/** What `loadLatestCheckpoint` found. */
export interface LoadedCheckpoint {
  state: CheckpointState;
  path: string;
  /** Newer checkpoints that failed verification, with the reason. */
  skipped: { path: string; error: string }[];
}

/**
 * The newest checkpoint in `dir` that reads and verifies; each newer one that does not is reported
 * through `warn` (default: stderr) and skipped. Returns undefined when there is none at all; throws
 * when there are checkpoints but none is usable.
 */
export async function loadLatestCheckpoint(
  dir: string,
  warn: (message: string) => void = (m) => console.error(m),
): Promise<LoadedCheckpoint | undefined> {
  const all = await listCheckpoints(dir);
  const skipped: LoadedCheckpoint["skipped"] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const { path } = all[i];
    try {
      const state = await decodeCheckpoint(await Deno.readFile(path), path);
      return { state, path, skipped };
    } catch (e) {
      const error = (e as Error).message;
      skipped.push({ path, error });
      warn(
        `warning: ${error}; ${
          i > 0
            ? `falling back to the previous checkpoint "${all[i - 1].path}"`
            : "no older checkpoint is left"
        }`,
      );
    }
  }
  if (all.length) {
    throw new Error(`No usable checkpoint in "${dir}": ${skipped.map((s) => s.error).join("; ")}`);
  }
  return undefined;
}
