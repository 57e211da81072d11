/**
 * A quantised copy of an inference model folder (`deno task quantize`): `inference.onnx` with its weights
 * stored as int8 (per-channel scales) or float16 (onnx/quantize.ts), optionally an int8-computation variant,
 * the folder's other inference files copied, and `nersota.json` marked `quantized` and sealed anew.
 * @module
 */
import { join } from "node:path";
import { parseMeta, sealFolderFiles } from "../../infer/model_folder.ts";
import { decodeModel, encodeModel } from "../../onnx/proto.ts";
import { float16Weights, int8Compute, int8Weights } from "../../onnx/quantize.ts";
import { exists, readJsonFile, refuseOverwrite, writeFileAtomic } from "../util/fs.ts";

/** What to quantise and how. */
export interface QuantizeFolderOptions {
  /** The float32 inference folder. */
  model: string;
  /** The copy (created). */
  out: string;
  weights: "int8" | "fp16";
  /** Tensors with fewer elements stay float32 (default: onnx/quantize.ts's, per kind). */
  minElements?: number;
  /** Also write `inference.int8.onnx` (dense layers computed in int8), the copy's `int8` variant. */
  int8Variant?: boolean;
}

/** Sizes in bytes of what `quantizeFolder` read and wrote. */
export interface QuantizedFolder {
  /** The original `inference.onnx`. */
  fromBytes: number;
  /** The quantised `inference.onnx`. */
  toBytes: number;
  /** `inference.int8.onnx`, when written. */
  int8VariantBytes?: number;
}

/** Writes the quantised copy of `o.model` into `o.out`; throws when the folder is quantised already. */
export async function quantizeFolder(o: QuantizeFolderOptions): Promise<QuantizedFolder> {
  await refuseOverwrite({ "--out": o.out }, { "--model": o.model }); // the float32 folder is kept
  const metaPath = join(o.model, "nersota.json");
  const raw = await readJsonFile(metaPath) as Record<string, unknown>;
  const meta = parseMeta(raw, metaPath);
  if (meta.quantized) {
    throw new Error(`"${o.model}" is already quantised (${meta.quantized}); start from the float32 folder`);
  }
  const onnxPath = join(o.model, "inference.onnx");
  const bytes = await Deno.readFile(onnxPath);
  const model = decodeModel(bytes, onnxPath);
  const { minElements } = o;
  const quantised = encodeModel(
    o.weights === "int8" ? int8Weights(model, { minElements }) : float16Weights(model, { minElements }),
  );
  await Deno.mkdir(o.out, { recursive: true });
  // The inference folder's other files (infer/model_folder.ts); training leftovers stay behind.
  for (
    const name of ["config.json", "vocab.txt", "tokenizer.json", "README.md", ...(meta.crf ? [meta.crf] : [])]
  ) {
    if (await exists(join(o.model, name))) {
      await writeFileAtomic(join(o.out, name), await Deno.readFile(join(o.model, name)));
    }
  }
  await writeFileAtomic(join(o.out, "inference.onnx"), quantised);
  // Variants of the float32 folder are float32 graphs; the copy has only its own.
  const variants: Record<string, string> = {};
  let int8VariantBytes: number | undefined;
  if (o.int8Variant) {
    const int8 = encodeModel(int8Compute(model, { minElements }));
    await writeFileAtomic(join(o.out, "inference.int8.onnx"), int8);
    variants.int8 = "inference.int8.onnx";
    int8VariantBytes = int8.length;
  }
  const copyMeta = { ...raw, quantized: o.weights, variants };
  // The copy's checksums are its own files' (the graph changed).
  const files: Record<string, Uint8Array | string> = {
    "nersota.json": JSON.stringify(copyMeta, null, 2) + "\n",
  };
  for await (const e of Deno.readDir(o.out)) {
    if (e.isFile && e.name !== "nersota.json") files[e.name] = await Deno.readFile(join(o.out, e.name));
  }
  await sealFolderFiles(files);
  await writeFileAtomic(join(o.out, "nersota.json"), files["nersota.json"]);
  return { fromBytes: bytes.length, toBytes: quantised.length, int8VariantBytes };
}
