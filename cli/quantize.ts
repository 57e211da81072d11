/**
 * `deno task quantize --model DIR --weights int8|fp16 --out DIR [--int8-variant]`: copies an inference model
 * folder with its `inference.onnx` weights stored as int8 (per-channel scales) or float16 (onnx/quantize.ts),
 * sets `nersota.json`'s `quantized`, and prints the sizes. The computation stays float32, so the copy runs
 * everywhere the original does; evaluate it (`deno task eval --model OUT`) to measure the F1 change.
 * `--int8-variant` also writes `inference.int8.onnx` with int8 dense-layer computation (`int8Compute`, CPU
 * execution provider), listed as the folder's `int8` variant (`deno task ner --variant int8`).
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { runMain, usageError } from "./util.ts";
import { exists, readJsonFile } from "../train/util/fs.ts";
import { parseMeta, sealFolderFiles } from "../infer/model_folder.ts";
import { decodeModel, encodeModel } from "../onnx/proto.ts";
import { float16Weights, int8Compute, int8Weights } from "../onnx/quantize.ts";
import { writeFileAtomic } from "../train/util/fs.ts";

const USAGE = `Usage: deno task quantize --model DIR --weights int8|fp16 --out DIR [--int8-variant]

  --model DIR       inference model folder (config.json, vocab.txt, inference.onnx, nersota.json, …)
  --weights KIND    int8: 2-D weights as int8 with a scale per channel (about 4× smaller)
                    fp16: float weights as IEEE half floats (2× smaller)
  --out DIR         the quantised copy (created; must not be --model)
  --min-elements N  leave smaller tensors float32 (default: 4096 for int8, 1024 for fp16)
  --int8-variant    also write inference.int8.onnx: dense layers computed in int8 (CPU provider;
                    faster, logits change slightly), the folder's "int8" variant`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      weights: { type: "string" },
      out: { type: "string" },
      "min-elements": { type: "string" },
      "int8-variant": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.model || !values.out || !values.weights) {
    return usageError(USAGE, "--model, --weights and --out are required");
  }
  if (values.weights !== "int8" && values.weights !== "fp16") {
    return usageError(USAGE, `--weights must be int8 or fp16, got "${values.weights}"`);
  }
  const minElements = values["min-elements"] === undefined ? undefined : Number(values["min-elements"]);
  if (minElements !== undefined && !(Number.isInteger(minElements) && minElements >= 1)) {
    return usageError(USAGE, `--min-elements must be a positive integer, got "${values["min-elements"]}"`);
  }
  const metaPath = join(values.model, "nersota.json");
  const raw = await readJsonFile(metaPath) as Record<string, unknown>;
  const meta = parseMeta(raw, metaPath);
  if (meta.quantized) {
    throw new Error(
      `"${values.model}" is already quantised (${meta.quantized}); start from the float32 folder`,
    );
  }
  const onnxPath = join(values.model, "inference.onnx");
  const bytes = await Deno.readFile(onnxPath);
  const model = decodeModel(bytes, onnxPath);
  const quantised = encodeModel(
    values.weights === "int8" ? int8Weights(model, { minElements }) : float16Weights(model, { minElements }),
  );
  await Deno.mkdir(values.out, { recursive: true });
  // The inference folder's other files (infer/model_folder.ts); training leftovers stay behind.
  for (
    const name of ["config.json", "vocab.txt", "tokenizer.json", "README.md", ...(meta.crf ? [meta.crf] : [])]
  ) {
    if (await exists(join(values.model, name))) {
      await writeFileAtomic(join(values.out, name), await Deno.readFile(join(values.model, name)));
    }
  }
  await writeFileAtomic(join(values.out, "inference.onnx"), quantised);
  // Variants of the float32 folder are float32 graphs; the copy has only its own.
  const variants: Record<string, string> = {};
  if (values["int8-variant"]) {
    const int8 = encodeModel(int8Compute(model, { minElements }));
    await writeFileAtomic(join(values.out, "inference.int8.onnx"), int8);
    variants.int8 = "inference.int8.onnx";
    console.error(
      `quantize: int8-computation variant ${(int8.length / 2 ** 20).toFixed(2)} MiB (inference.int8.onnx)`,
    );
  }
  const copyMeta = { ...raw, quantized: values.weights, variants };
  // The copy's checksums are its own files' (the graph changed).
  const files: Record<string, Uint8Array | string> = {
    "nersota.json": JSON.stringify(copyMeta, null, 2) + "\n",
  };
  for await (const e of Deno.readDir(values.out)) {
    if (e.isFile && e.name !== "nersota.json") files[e.name] = await Deno.readFile(join(values.out, e.name));
  }
  await sealFolderFiles(files);
  await writeFileAtomic(join(values.out, "nersota.json"), files["nersota.json"]);
  console.error(
    `quantize: ${(bytes.length / 2 ** 20).toFixed(2)} MiB → ${
      (quantised.length / 2 ** 20).toFixed(2)
    } MiB (${values.weights}) in "${values.out}"`,
  );
  return 0;
}

if (import.meta.main) await runMain("quantize", main);
