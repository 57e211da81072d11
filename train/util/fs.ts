/**
 * Atomic file writes for everything training writes (checkpoints, shards, vocabularies, model folders,
 * reports): a temporary sibling file, fsync, then a rename, so a crash or kill never leaves a
 * half-written file where a good one was. Also the file-exists test and JSON file reading they share.
 * @module
 */
import { basename, dirname, join, resolve, sep as SEP } from "node:path";
import { type JsonText, parseJsonText } from "../../onnx/json_lines.ts";

/**
 * Writes `data` to `path` atomically, creating the parent folder; strings are written as UTF-8. Temporary
 * files of `path` left by a process that was killed mid-write are removed first.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    await removeOrphanTemps(path);
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

/** Whether process `pid` is alive (Linux `/proc`; elsewhere every process counts as alive, so nothing is removed). */
async function alive(pid: number): Promise<boolean> {
  if (pid === Deno.pid) return true;
  if (!(await Deno.stat("/proc/self").then(() => true, () => false))) return true;
  return await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
}

/** Removes `PATH.tmp-PID-XXXXXXXX` files whose writer process is gone (it was killed mid-write). */
export async function removeOrphanTemps(path: string): Promise<void> {
  const dir = dirname(path), name = basename(path);
  const re = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.tmp-(\\d+)-[0-9a-f]{8}$`);
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return;
  }
  for (const e of entries) {
    const m = re.exec(e.name);
    if (m && e.isFile && !(await alive(Number(m[1])))) await Deno.remove(join(dir, e.name)).catch(() => {});
  }
}

/** The absolute path `path` names once symbolic links are followed (for a path not yet written: its folder's). */
async function canonical(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    try {
      return join(await Deno.realPath(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/** What the file helpers read of a model folder's nersota.json (plain JSON, unchecked). */
export interface FolderFileMeta {
  crf?: unknown;
  variants?: Record<string, unknown>;
  sha256?: Record<string, unknown>;
}

/**
 * The inference files of a model folder by name: the standard ones, and the CRF and graph variants its
 * nersota.json names (`meta`, read as plain JSON: the compiled binary's bundle code stays free of the graph
 * code that infer/model_folder.ts pulls in). Names only; a folder need not have them all.
 */
export function inferenceFileNames(meta: FolderFileMeta | undefined): string[] {
  const names = ["config.json", "vocab.txt", "tokenizer.json", "inference.onnx", "nersota.json"];
  if (typeof meta?.crf === "string") names.push(meta.crf);
  for (const f of Object.values(meta?.variants ?? {})) if (typeof f === "string") names.push(f);
  return names;
}

/**
 * The files of the model folder `dir` (one with a readable nersota.json): its inference files, its training
 * weights and those its nersota.json seals; empty for any other folder.
 */
async function modelFolderFiles(dir: string): Promise<Set<string>> {
  let meta: FolderFileMeta;
  try {
    meta = JSON.parse(await Deno.readTextFile(join(dir, "nersota.json")));
  } catch {
    return new Set();
  }
  return new Set([
    ...inferenceFileNames(meta),
    "model.safetensors",
    "crf.safetensors",
    ...Object.keys(meta?.sha256 ?? {}),
  ]);
}

/**
 * Throws before any work when an output is one of the inputs, a folder that holds one, or a file of an input
 * model folder: `{"--out": D}` against `{"--model": D}` says `--out "D" is the input --model "D"; write the
 * output elsewhere`, and `{"--report": "D/nersota.json"}` says it is `the file "nersota.json" of the input`.
 * New files inside an input folder (`--report D/eval.json`) are allowed.
 */
export async function refuseOverwrite(
  outputs: Record<string, string | undefined>,
  inputs: Record<string, string | readonly string[] | undefined>,
): Promise<void> {
  const ins: [string, string, string][] = [];
  for (const [flag, v] of Object.entries(inputs)) {
    for (const p of v === undefined ? [] : typeof v === "string" ? [v] : v) {
      ins.push([flag, p, await canonical(p)]);
    }
  }
  const outs = Object.entries(outputs).filter((e): e is [string, string] => e[1] !== undefined);
  for (const [flag, out] of outs) {
    const o = await canonical(out);
    for (const [inFlag, inPath, i] of ins) {
      if (i === o || i.startsWith(o + SEP)) {
        throw new Error(
          `${flag} "${out}" ${
            i === o ? "is" : "holds"
          } the input ${inFlag} "${inPath}"; write the output elsewhere`,
        );
      }
      if (dirname(o) === i && (await modelFolderFiles(i)).has(basename(o))) {
        throw new Error(
          `${flag} "${out}" is the file "${
            basename(o)
          }" of the input model folder ${inFlag} "${inPath}"; write the output elsewhere`,
        );
      }
    }
  }
  // Two outputs on one path would leave only the second.
  for (let a = 0; a < outs.length; a++) {
    for (let b = a + 1; b < outs.length; b++) {
      if (await canonical(outs[a][1]) === await canonical(outs[b][1])) {
        throw new Error(`${outs[a][0]} and ${outs[b][0]} are the same file "${outs[a][1]}"`);
      }
    }
  }
}

/** True when `path` (a path or `file:` URL) exists; any failure to stat it counts as absent. */
export async function exists(path: string | URL): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/**
 * Reads and parses a JSON file, keeping where its keys are (for messages naming lines); errors name the file
 * (and `what` it is, when given): `Cannot read …` or `FILE:LINE:COL: not valid JSON (WHAT): …`.
 */
export async function readJsonText(path: string, what?: string): Promise<JsonText> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read ${what ? `${what} "${path}"` : `"${path}"`}: ${(e as Error).message}`);
  }
  return parseJsonText(text, path, what);
}

/** Reads and parses a JSON file (see `readJsonText`). */
export async function readJsonFile(path: string, what?: string): Promise<unknown> {
  return (await readJsonText(path, what)).json;
}
