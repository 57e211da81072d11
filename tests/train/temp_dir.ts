// Shared by tests that need a scratch folder.
import { join } from "node:path";

/** Runs `fn` with a new temporary folder, removed afterwards whatever `fn` does. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Copies the plain files of folder `src` (a model fixture, say) into the existing folder `dst`. */
export async function copyFolderFiles(src: string, dst: string): Promise<void> {
  for await (const e of Deno.readDir(src)) {
    if (e.isFile) await Deno.copyFile(join(src, e.name), join(dst, e.name));
  }
}
