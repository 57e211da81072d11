/**
 * Atomic file writes for everything training writes (checkpoints, shards, vocabularies, model folders,
 * reports): a temporary sibling file, fsync, then a rename, so a crash or kill never leaves a
 * half-written file where a good one was.
 * @module
 */
import { dirname } from "node:path";

/** Writes `data` to `path` atomically, creating the parent folder; strings are written as UTF-8. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
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
