/**
 * The browser page built for serving (`deno task web`): `web/app.ts` bundled by `deno bundle` into
 * `app.js`, `index.html`, and onnxruntime-web's wasm files in `ort/`, all in one folder (default `web/dist/`).
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";

const WEB = new URL("../../web/", import.meta.url);
/** Where the built page goes by default. */
export const DIST = new URL("./dist/", WEB);

async function ortDist(): Promise<URL> {
  // Deno's node_modules (nodeModulesDir "auto") holds the package the import map names.
  const url = new URL("../node_modules/onnxruntime-web/dist/", WEB);
  try {
    await Deno.stat(url);
  } catch {
    throw new Error(`Cannot find onnxruntime-web in "${fromFileUrl(url)}": run \`deno install\` first`);
  }
  return url;
}

/** Builds the page into `out` (default `web/dist/`); returns the output folder path. */
export async function buildWeb(out: URL = DIST): Promise<string> {
  await Deno.mkdir(new URL("ort/", out), { recursive: true });
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      "--sourcemap=external",
      "-o",
      fromFileUrl(new URL("app.js", out)),
      fromFileUrl(new URL("app.ts", WEB)),
    ],
    cwd: fromFileUrl(new URL("../", WEB)),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundle.success) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(bundle.stderr)}`);
  await Deno.copyFile(new URL("index.html", WEB), new URL("index.html", out));
  const ort = await ortDist();
  for await (const e of Deno.readDir(ort)) {
    // The runtime loads these by name at session creation (wasm and its JS glue).
    if (/^ort-wasm-simd-threaded.*\.(wasm|mjs)$/.test(e.name)) {
      await Deno.copyFile(new URL(e.name, ort), new URL(`ort/${e.name}`, out));
    }
  }
  return fromFileUrl(out);
}
