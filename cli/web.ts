/**
 * `deno task web`: bundles the browser page into `web/dist/` (app.js via `deno bundle`, index.html,
 * onnxruntime-web's wasm files in `dist/ort/`), then serves it with the model at `/model/`.
 *
 * ```sh
 * deno task web                         # build, serve on http://127.0.0.1:8000/ with the default model
 * deno task web --model DIR --port 9000
 * deno task web --build-only
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath as fromFileUrl } from "node:url";
import { resolveModel } from "./util.ts";
import { serveStatic } from "../infer/static_server.ts";

const WEB = new URL("../web/", import.meta.url);
/** Where the built page goes. */
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

/** The model folder to serve, as a path: `--model`, else models/default/ (`resolveModel`). */
export async function modelDir(model?: string): Promise<string> {
  const m = await resolveModel(model);
  return typeof m === "string" ? m : fromFileUrl(m);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string" },
      port: { type: "string", default: "8000" },
      host: { type: "string", default: "127.0.0.1" },
      "build-only": { type: "boolean" },
    },
  });
  try {
    const dir = await buildWeb();
    console.error(`web: built ${dir}`);
    if (!values["build-only"]) {
      const model = await modelDir(values.model);
      const ac = new AbortController();
      for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, () => ac.abort());
      const server = serveStatic({
        root: dir,
        model,
        hostname: values.host,
        port: Number(values.port),
        signal: ac.signal,
        onListen: (a) => console.error(`web: http://${a.hostname}:${a.port}/ (model ${model})`),
      });
      await server.finished;
    }
  } catch (e) {
    console.error(`web: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
