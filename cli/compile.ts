/**
 * `deno task compile`: a single `nersota` binary for the CLI that carries the model and the native
 * ONNX Runtime (the bundle and why: train/release/bundle.ts).
 *
 * ```sh
 * deno task compile [--model DIR] [--output dist/nersota] [--target x86_64-unknown-linux-gnu]
 * ```
 * `deno compile` downloads `denort` on first use; offline this step fails and the task says so.
 * @module
 */
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveModel, runMain } from "./util.ts";
import { bundleHash, compileBinary, compileFailureHelp, stageBundle } from "../train/release/bundle.ts";

/** CLI entry of `deno task compile`. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      output: { type: "string", default: "dist/nersota" },
      target: { type: "string" },
      "no-native": { type: "boolean" },
    },
  });
  const root = fileURLToPath(new URL("../", import.meta.url));
  const resolved = await resolveModel(values.model);
  const model = typeof resolved === "string" ? resolved : fileURLToPath(resolved);
  const stage = join(root, "cli/compiled_bundle");
  const ortNode = join(root, "node_modules/onnxruntime-node");
  const manifest = await stageBundle(model, values["no-native"] ? undefined : ortNode, stage);
  const files = Object.keys(manifest.files).length;
  console.error(`compile: staged ${files} files (bundle ${await bundleHash(manifest)}) in ${stage}`);
  const { output, target } = values;
  const res = await compileBinary({
    stage,
    entry: join(root, "cli/compiled_main.ts"),
    output,
    target,
    cwd: root,
  });
  if (!res.success) {
    Deno.stderr.writeSync(res.stderr);
    console.error(`compile: ${compileFailureHelp(new TextDecoder().decode(res.stderr), res.code, stage)}`);
    return 1;
  }
  console.error(`compile: wrote ${output} (${basename(output)} "문장" runs the CLI with the embedded model)`);
  return 0;
}

if (import.meta.main) await runMain("compile", main);
