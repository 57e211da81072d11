/**
 * File-system side of training artifacts and checkpoints (Deno only; `onnx/` stays browser-safe):
 * atomic writes (temporary file in the same folder, then rename), so a crash never leaves a half-written
 * checkpoint where a good one was.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";
import { artifactFiles, type TrainingArtifacts } from "../../onnx/artifacts.ts";

export { writeFileAtomic };

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
