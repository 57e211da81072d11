/**
 * Metrics as JSON lines (one object per line: `{"type":"train","step":…}`), appended and flushed to disk
 * after each record, so a killed run keeps every line it printed. On resume, lines from after the
 * checkpoint being resumed are dropped (`truncateAfter`), so the log tells one consistent story.
 * @module
 */
import { writeFileAtomic } from "../util/fs.ts";

/** One metrics record: a type ("train", "eval", …), a step, and numbers or strings. */
export type MetricsRecord = { type: string; step: number } & Record<string, number | string | null>;

/** Appends JSON lines to a file, syncing after each write. */
export class MetricsLog {
  private constructor(private readonly file: Deno.FsFile, readonly path: string) {}

  /** Opens `path` for appending (created when absent). */
  static async open(path: string): Promise<MetricsLog> {
    return new MetricsLog(await Deno.open(path, { append: true, create: true }), path);
  }

  /** Appends one record and flushes it to disk. */
  async write(record: MetricsRecord): Promise<void> {
    // Non-finite numbers are not JSON; write them as null rather than lose the line.
    const line =
      JSON.stringify(record, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)) + "\n";
    const bytes = new TextEncoder().encode(line);
    let off = 0;
    while (off < bytes.length) off += await this.file.write(bytes.subarray(off));
    await this.file.syncData();
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }
}

/** Reads a JSON-lines metrics file; a torn last line (a crash mid-write) is skipped, other bad lines throw. */
export async function readMetrics(path: string): Promise<MetricsRecord[]> {
  const lines = (await Deno.readTextFile(path)).split("\n");
  const out: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      if (i >= lines.length - 2) return; // the last line of a killed run
      throw new Error(`Cannot parse line ${i + 1} of "${path}": ${(e as Error).message}`);
    }
  });
  return out;
}

/** Rewrites `path` keeping only records with step ≤ `step` (absent file: nothing to do). */
export async function truncateAfter(path: string, step: number): Promise<void> {
  let records: MetricsRecord[];
  try {
    records = await readMetrics(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const kept = records.filter((r) => r.step <= step).map((r) => JSON.stringify(r) + "\n").join("");
  await writeFileAtomic(path, kept);
}
