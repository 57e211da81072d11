/**
 * `deno task quantize --model DIR --weights int8|fp16 --out DIR [--int8-variant]`: copies an inference model
 * folder with its `inference.onnx` weights stored as int8 (per-channel scales) or float16
 * (train/release/quantize_folder.ts), sets `nersota.json`'s `quantized`, and prints the sizes. The computation stays float32, so the copy runs
 * everywhere the original does; evaluate it (`deno task eval --model OUT`) to measure the F1 change.
 * `--int8-variant` also writes `inference.int8.onnx` with int8 dense-layer computation (`int8Compute`, CPU
 * execution provider), listed as the folder's `int8` variant (`deno task ner --variant int8`).
 * @module
 */
import { parseArgs } from "node:util";
import { runMain, usageError } from "./util.ts";
import { quantizeFolder } from "../train/release/quantize_folder.ts";

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
  const mib = (n: number) => (n / 2 ** 20).toFixed(2);
  const { model, out, weights } = values;
  const q = await quantizeFolder({ model, out, weights, minElements, int8Variant: values["int8-variant"] });
  if (q.int8VariantBytes !== undefined) {
    console.error(`quantize: int8-computation variant ${mib(q.int8VariantBytes)} MiB (inference.int8.onnx)`);
  }
  console.error(`quantize: ${mib(q.fromBytes)} MiB → ${mib(q.toBytes)} MiB (${weights}) in "${out}"`);
  return 0;
}

if (import.meta.main) await runMain("quantize", main);
