/**
 * Entry point of the binary `deno task compile` builds: extracts the embedded model and ONNX Runtime
 * library to the cache (train/release/bundle.ts), preloads the library so onnxruntime-node's addon finds it,
 * and runs the CLI with the embedded model as its default; without native code it uses onnxruntime-web.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BundleManifest, extractBundle, nativeFiles, preloadNative } from "../train/release/bundle.ts";
import { main } from "./ner.ts";
import type { OrtModule, Provider } from "../onnx/runtime.ts";

/** Prepares the runtime and model from the bundle at `bundleDir`; returns CLI defaults. */
export async function prepare(
  bundleDir: string,
  cacheRoot?: string,
): Promise<{ model: string; provider: Provider; ort: OrtModule; notice?: string }> {
  const manifest = JSON.parse(await Deno.readTextFile(join(bundleDir, "manifest.json"))) as BundleManifest;
  const { dir } = await extractBundle(manifest, (name) => Deno.readFile(join(bundleDir, name)), cacheRoot);
  const lib = `native/${nativeFiles().library}`;
  let notice: string | undefined;
  if (manifest.files[lib]) {
    const err = preloadNative(join(dir, lib));
    if (!err) {
      try {
        // A literal specifier, so that `deno compile` embeds the package.
        return {
          model: join(dir, "model"),
          provider: "cpu",
          ort: (await import("npm:onnxruntime-node@1.30.0")).default,
        };
      } catch (e) {
        notice = `native ONNX Runtime unavailable (${(e as Error).message}); using onnxruntime-web (wasm)`;
      }
    } else notice = `${err}; using onnxruntime-web (wasm)`;
  }
  const web = await import("npm:onnxruntime-web@1.30.0");
  return { model: join(dir, "model"), provider: "wasm", ort: web.default ?? web, notice };
}

if (import.meta.main) {
  try {
    const p = await prepare(fileURLToPath(new URL("./compiled_bundle/", import.meta.url)));
    if (p.notice) console.error(`nersota: ${p.notice}`);
    Deno.exit(await main(Deno.args, undefined, { model: p.model, provider: p.provider, ort: p.ort }));
  } catch (e) {
    console.error(`nersota: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
