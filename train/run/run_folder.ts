/**
 * A training run's folder (`--out` of `pretrain` and `finetune`) belongs to one run. A new run refuses a
 * folder that holds files (pruning keeps the highest step numbers, so an older run's checkpoints would
 * take the new one over) unless told to clear it; a resume must continue the run the folder records in
 * `run.json`, on the same data and settings.
 * @module
 */
import { join } from "node:path";

/** Files that mark a folder as a run's. */
const RUN_FILES = ["run.json", "checkpoints", "metrics.jsonl"];

/**
 * Before a new run writes into `out`: an absent or empty folder is fine; one with files is refused, or with
 * `clear` emptied when it holds a run (and refused when it does not: clearing is for run folders only).
 */
export async function prepareRunFolder(out: string, clear = false): Promise<void> {
  let names: string[];
  try {
    names = (await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new Error(`Cannot read the run folder "${out}": ${(e as Error).message}`);
  }
  if (!names.length) return;
  const isRun = names.some((n) => RUN_FILES.includes(n));
  const shown = names.slice(0, 5).join(", ") + (names.length > 5 ? `, … (${names.length} in all)` : "");
  if (!clear) {
    throw new Error(
      `"${out}" is not empty (${shown}): a new run there would mix with ${
        isRun ? "the run it holds" : "its files"
      }. Pass --resume to continue that run, --clear to delete it and start again, or choose another --out`,
    );
  }
  if (!isRun) {
    throw new Error(
      `--clear: "${out}" holds no training run (no ${
        RUN_FILES.join(", ")
      }); remove its files yourself or choose another --out`,
    );
  }
  for (const n of names) await Deno.remove(join(out, n), { recursive: true });
}

/** `out/run.json` as recorded when the run started, or undefined when there is none. */
export async function readRunRecord(out: string): Promise<Record<string, unknown> | undefined> {
  const path = join(out, "run.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot read "${path}": ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot parse "${path}": ${(e as Error).message}`);
  }
}

/**
 * Throws when a resume asks for something other than what the run recorded: each `[what, recorded, now]`
 * whose values differ is named (values compared as JSON; an undefined recorded value is not checked).
 */
export function checkResumeMatches(out: string, pairs: [string, unknown, unknown][]): void {
  const diffs = pairs.filter(([, was, now]) =>
    was !== undefined && JSON.stringify(was) !== JSON.stringify(now)
  );
  if (!diffs.length) return;
  throw new Error(
    `Cannot resume the run in "${out}": ${
      diffs.map(([what, was, now]) =>
        `${what} was ${JSON.stringify(was)} (run.json), now ${JSON.stringify(now)}`
      )
        .join("; ")
    }. A resumed run continues with the data and settings it started with: drop the changed options, or start a new run (another --out, or --clear)`,
  );
}

/** SHA-256 (hex) of a JSON-serialisable value: a fingerprint of the examples a run trains on. */
export async function digestOf(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
