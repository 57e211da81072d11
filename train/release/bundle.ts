/**
 * The bundle of `deno task compile`: the model and the native ONNX Runtime that a single `nersota` binary
 * carries, how the binary extracts and loads them, and the `deno compile` run that builds it.
 *
 * The problem it works around (DESIGN.md): in a compiled binary the onnxruntime-node addon is unpacked alone, so its `DT_NEEDED libonnxruntime.so.1` (found through `RUNPATH $ORIGIN`) is missing.
 * The fix: the binary embeds the library, extracts it (and the model) once to
 * `~/.cache/nersota/<hash>/` — atomically, verified by SHA-256, reused by later runs — and loads it with
 * `Deno.dlopen` before onnxruntime-node loads its addon; the dynamic linker then satisfies the addon's
 * `libonnxruntime.so.1` with the already-loaded library (matched by soname). When that fails the binary
 * falls back to onnxruntime-web (wasm), which needs no native code.
 *
 * This module runs inside the compiled binary (`cli/compiled_main.ts`), so it imports no graph code.
 * @module
 */
import { dirname, join } from "node:path";
import { exists, type FolderFileMeta, inferenceFileNames, readJsonFile } from "../util/fs.ts";

/** What the embedded bundle holds: file name (relative to the bundle) → SHA-256 hex. */
export interface BundleManifest {
  format: "nersota-bundle";
  version: 1;
  /** Files under `model/` and `native/`, with their SHA-256. */
  files: Record<string, string>;
}

/** SHA-256 of bytes as lowercase hex. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The cache key of a manifest: the first 16 hex digits of the SHA-256 of its canonical JSON. */
export async function bundleHash(manifest: BundleManifest): Promise<string> {
  const files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : 1)));
  return (await sha256Hex(JSON.stringify({ ...manifest, files }))).slice(0, 16);
}

/** `$XDG_CACHE_HOME/nersota` or `~/.cache/nersota` (`%LOCALAPPDATA%\nersota` on Windows). */
export function defaultCacheRoot(): string {
  const env = (k: string) => Deno.env.get(k);
  if (env("NERSOTA_CACHE")) return env("NERSOTA_CACHE")!;
  if (Deno.build.os === "windows" && env("LOCALAPPDATA")) return join(env("LOCALAPPDATA")!, "nersota");
  return join(env("XDG_CACHE_HOME") ?? join(env("HOME") ?? Deno.cwd(), ".cache"), "nersota");
}

/** Checks every file of `dir` against the manifest; returns the names that are missing or differ. */
export async function verifyDir(dir: string, manifest: BundleManifest): Promise<string[]> {
  const bad: string[] = [];
  for (const [name, hash] of Object.entries(manifest.files)) {
    try {
      if ((await sha256Hex(await Deno.readFile(join(dir, name)))) !== hash) bad.push(name);
    } catch {
      bad.push(name);
    }
  }
  return bad;
}

/** Result of `extractBundle`. */
export interface Extracted {
  dir: string;
  /** True when a verified earlier extraction was used as is. */
  reused: boolean;
}

/**
 * Extracts the bundle's files (read with `read(name)`) to `<cacheRoot>/<hash>/`: into a private temporary
 * folder first, verified, then renamed into place, so a crash or a concurrent run never leaves a
 * half-written folder where the next run looks. An existing folder that verifies is reused; one that does
 * not (tampered, truncated) is replaced.
 */
export async function extractBundle(
  manifest: BundleManifest,
  read: (name: string) => Promise<Uint8Array>,
  cacheRoot = defaultCacheRoot(),
): Promise<Extracted> {
  const hash = await bundleHash(manifest);
  const dir = join(cacheRoot, hash);
  if (await exists(dir)) {
    if ((await verifyDir(dir, manifest)).length === 0) return { dir, reused: true };
    // A damaged cache: move it aside (atomic), then delete it, so readers never see it half-deleted.
    const trash = `${dir}.bad-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.rename(dir, trash).catch(() => {});
    await Deno.remove(trash, { recursive: true }).catch(() => {});
  }
  await Deno.mkdir(cacheRoot, { recursive: true });
  const tmp = `${dir}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    for (const [name, hashOf] of Object.entries(manifest.files)) {
      const bytes = await read(name);
      if ((await sha256Hex(bytes)) !== hashOf) {
        throw new Error(`Embedded file "${name}" does not match its SHA-256 in the manifest`);
      }
      await Deno.mkdir(dirname(join(tmp, name)), { recursive: true });
      await Deno.writeFile(join(tmp, name), bytes, { mode: 0o755 });
    }
    await Deno.writeTextFile(join(tmp, "manifest.json"), JSON.stringify(manifest, null, 2));
    try {
      await Deno.rename(tmp, dir);
    } catch (e) {
      // Another process won the race: use its folder if it verifies.
      if (await exists(dir) && (await verifyDir(dir, manifest)).length === 0) return { dir, reused: true };
      throw e;
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return { dir, reused: false };
}

/** The native files onnxruntime-node needs on this platform, relative to its package folder. */
export function nativeFiles(
  os = Deno.build.os,
  arch = Deno.build.arch,
): { dir: string; library: string; addon: string } {
  const a = arch === "aarch64" ? "arm64" : "x64";
  const dir = `bin/napi-v6/${os === "windows" ? "win32" : os}/${a}`;
  const library = os === "linux"
    ? "libonnxruntime.so.1"
    : os === "darwin"
    ? "libonnxruntime.1.dylib"
    : "onnxruntime.dll";
  return { dir, library, addon: "onnxruntime_binding.node" };
}

/**
 * Loads the extracted ONNX Runtime library so that the addon's dependency on it resolves by soname;
 * returns an error message instead of throwing (the caller falls back to wasm).
 */
export function preloadNative(libraryPath: string): string | undefined {
  try {
    Deno.dlopen(libraryPath, {});
    return undefined;
  } catch (e) {
    return `Cannot load "${libraryPath}": ${(e as Error).message}`;
  }
}

/** Writes the bundle folder that `deno compile --include` embeds: model/, native/, manifest.json. */
export async function stageBundle(
  modelDir: string,
  ortNodeDir: string | undefined,
  out: string,
): Promise<BundleManifest> {
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(out, "model"), { recursive: true });
  const files: Record<string, string> = {};
  // Besides the fixed names, the files nersota.json points at: the CRF parameters and graph variants.
  // (The folder is validated when it loads.)
  const metaPath = join(modelDir, "nersota.json");
  const meta = await exists(metaPath) ? await readJsonFile(metaPath) as FolderFileMeta : undefined;
  for (const name of inferenceFileNames(meta)) {
    const src = join(modelDir, name);
    if (!(await exists(src))) continue;
    const bytes = await Deno.readFile(src);
    await Deno.writeFile(join(out, "model", name), bytes);
    files[`model/${name}`] = await sha256Hex(bytes);
  }
  if (!files["model/inference.onnx"]) {
    throw new Error(`"${modelDir}" has no inference.onnx: not an inference model folder`);
  }
  if (ortNodeDir) {
    const n = nativeFiles();
    await Deno.mkdir(join(out, "native"), { recursive: true });
    const lib = join(ortNodeDir, n.dir, n.library);
    if (await exists(lib)) {
      const bytes = await Deno.readFile(lib);
      await Deno.writeFile(join(out, "native", n.library), bytes);
      files[`native/${n.library}`] = await sha256Hex(bytes);
    }
  }
  const manifest: BundleManifest = { format: "nersota-bundle", version: 1, files };
  await Deno.writeTextFile(join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Whether `deno compile`'s failure text says it could not download `denort`. */
export function isDownloadFailure(stderr: string): boolean {
  return /denort|download|dns error|network|failed to fetch|error sending request|connection/i.test(stderr);
}

/** What `compileBinary` runs `deno compile` on and where the binary goes. */
export interface CompileOptions {
  /** The staged bundle folder (`stageBundle`), embedded with `--include`. */
  stage: string;
  /** The binary's entry module. */
  entry: string;
  output: string;
  /** `deno compile --target`, e.g. `x86_64-unknown-linux-gnu`. */
  target?: string;
  /** The working folder of `deno compile` (the repository, for its deno.json and node_modules). */
  cwd: string;
}

/** Runs `deno compile` on the staged bundle (its output shown as it goes); returns its status and error text. */
export async function compileBinary(
  o: CompileOptions,
): Promise<{ success: boolean; code: number; stderr: Uint8Array }> {
  const args = [
    "compile",
    "-A",
    "--include",
    o.stage,
    "--output",
    o.output,
    ...(o.target ? ["--target", o.target] : []),
    o.entry,
  ];
  const res = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: o.cwd,
    stdout: "inherit",
    stderr: "piped",
  })
    .output();
  return { success: res.success, code: res.code, stderr: res.stderr };
}

/** What to tell the user when `deno compile` failed with `stderr` (exit `code`), `stage` being the bundle. */
export function compileFailureHelp(stderr: string, code: number, stage: string): string {
  if (!isDownloadFailure(stderr)) return `deno compile failed (exit ${code})`;
  return `\`deno compile\` could not download denort (the runtime it embeds) — this machine has no access to ` +
    `dl.deno.land. Run \`deno task compile\` where the network allows, or set DENORT_BIN to a local denort ` +
    `of Deno ${Deno.version.deno}. The staged bundle in ${stage} and its loader are tested offline by tests/train/release/bundle_test.ts.`;
}
