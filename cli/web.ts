/**
 * `deno task web`: bundles the browser page into `web/dist/` (app.js via `deno bundle`, index.html,
 * onnxruntime-web's wasm files in `dist/ort/`; train/release/web_page.ts), then serves it with the model at
 * `/model/`.
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
import { buildWeb } from "../train/release/web_page.ts";

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
