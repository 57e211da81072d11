// A bundle of the fixture model and the native ONNX Runtime staged in a temporary folder, as
// `deno task compile` stages it, for the bundle and compiled-binary tests.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stageBundle } from "../../../train/release/bundle.ts";
import { FIXTURE } from "../../infer/ner_fixture.ts";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** onnxruntime-node's package folder (its native library goes into the bundle). */
export const ORT_NODE = join(ROOT, "node_modules/onnxruntime-node");

/** Stages the fixture's bundle in a new temporary folder `tmp` (the caller removes it), with `cache`, a folder in it to extract to. */
export async function staged() {
  const tmp = await Deno.makeTempDir({ prefix: "nersota-compile-" });
  const stage = join(tmp, "bundle");
  const manifest = await stageBundle(fileURLToPath(FIXTURE), ORT_NODE, stage);
  const read = (name: string) => Deno.readFile(join(stage, name));
  return { tmp, stage, manifest, read, cache: join(tmp, "cache") };
}
