/**
 * File-system side of training artifacts and checkpoints (Deno only; `onnx/` stays browser-safe):
 * atomic writes (temporary file in the same folder, then rename), so a crash never leaves a half-written
 * checkpoint where a good one was.
 * @module
 */
import { join } from "node:path";
import { artifactFiles, type TrainingArtifacts } from "../onnx/artifacts.ts";
import type { FileIO } from "../onnx/trainer.ts";

/** Writes `bytes` to `path` via a temporary sibling file and a rename (atomic on POSIX file systems). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`Cannot write "${path}": ${(e as Error).message}`, { cause: e });
  }
}

/** `FileIO` on the local file system, with atomic writes. */
export const denoFileIO: FileIO = {
  readFile: (path) => Deno.readFile(path),
  writeFile: writeFileAtomic,
};

/** Writes an artifact folder (graphs, step-0 checkpoint, manifest), each file atomically; returns the paths. */
export async function writeArtifacts(
  dir: string,
  artifacts: TrainingArtifacts,
  config?: unknown,
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files = await artifactFiles(artifacts, config);
  const paths: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFileAtomic(path, bytes);
    paths.push(path);
  }
  return paths;
}
