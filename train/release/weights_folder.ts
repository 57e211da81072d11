/**
 * Reading a model folder's weights for training and export, whatever the folder holds:
 * - our `model.safetensors` (graph layout, NERSOTA metadata; fine-tuning outputs, `export --from-hf`),
 * - a Hugging Face ELECTRA `model.safetensors` (discriminator, token classifier or bare encoder),
 * - or only an inference folder (`nersota.json` + `inference.onnx`, as `models/default/` ships): the weights
 *   are read out of the graph (`onnx/graph_weights.ts`), int8-stored ones dequantised, which `notice` says.
 * A folder that is none of these gets one error naming it and what it lacks.
 * @module
 */
import { join } from "node:path";
import { decodeModel as decodeGraph } from "../../onnx/proto.ts";
import { graphWeights } from "../../onnx/graph_weights.ts";
import { keyLinesAt } from "../../onnx/json_lines.ts";
import { decodeSafetensors } from "../../onnx/safetensors.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import {
  decodeModelWeights,
  type ElectraModelFiles,
  exportHf,
  hfTensorShapes,
  importHf,
} from "../../onnx/electra/hf.ts";
import { readModelFolder, urlSource } from "../../infer/model_folder.ts";
import { exists, readJsonText } from "../util/fs.ts";

/** A folder's model, its vocabulary and, when the weights came from somewhere unusual, a notice saying so. */
export interface WeightsFolder {
  model: ElectraModelFiles;
  /** `vocab.txt`'s text (undefined when the folder has none). */
  vocab?: string;
  /** Where the weights came from when not from model.safetensors (e.g. dequantised from inference.onnx). */
  notice?: string;
}

/** What a usable folder holds, for errors about one that is not. */
const EXPECTED = "a NERSOTA model folder (config.json + model.safetensors), a Hugging Face ELECTRA folder " +
  "(config.json + model.safetensors) or an inference model folder (config.json, nersota.json, inference.onnx)";

/** Reads the weights of `dir` (see the module doc). */
export async function readWeightsFolder(dir: string): Promise<WeightsFolder> {
  if (!(await exists(dir))) throw new Error(`Model folder "${dir}" does not exist`);
  const vocabPath = join(dir, "vocab.txt");
  const vocab = (await exists(vocabPath)) ? await Deno.readTextFile(vocabPath) : undefined;
  const st = join(dir, "model.safetensors");
  if (await exists(st)) {
    const bytes = await Deno.readFile(st);
    const config = await readJsonText(join(dir, "config.json"));
    if (decodeSafetensors(bytes, st).metadata.format === "nersota") {
      const gen = join(dir, "generator_config.json");
      const genDoc = (await exists(gen)) ? await readJsonText(gen) : undefined;
      const lines = { config: keyLinesAt(config), generator: genDoc && keyLinesAt(genDoc) };
      return { model: decodeModelWeights(config.json, bytes, genDoc?.json, dir, lines), vocab };
    }
    const folder = { config: config.json, configLines: keyLinesAt(config), safetensors: bytes, source: dir };
    return { model: importHf(folder).model, vocab };
  }
  if (!(await exists(join(dir, "nersota.json"))) || !(await exists(join(dir, "inference.onnx")))) {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    const pickles = names.filter((n) => /\.(bin|pt|pth|ckpt)$/.test(n));
    throw new Error(
      `"${dir}" has no model.safetensors and no inference graph (nersota.json + inference.onnx); expected ` +
        EXPECTED + (pickles.length
          ? `. It has ${pickles.join(", ")}: PyTorch pickles are not read; re-save with ` +
            "save_pretrained(OUT, safe_serialization=True)"
          : names.length
          ? `. It has: ${names.sort().join(", ")}`
          : ". It is empty"),
    );
  }
  return await fromInferenceGraph(dir, vocab);
}

async function fromInferenceGraph(dir: string, vocab?: string): Promise<WeightsFolder> {
  // The reader checks config.json, id2label, nersota.json and the vocabulary with its own clear errors.
  const folder = await readModelFolder(urlSource(dir));
  const file = join(dir, folder.onnxFile);
  const found = graphWeights(decodeGraph(folder.onnx, file), file);
  const config = folder.config;
  const expected = hfTensorShapes(config, "ElectraForTokenClassification", folder.labels.length);
  const graphLayout: Record<string, Tensor> = {};
  const missing: string[] = [];
  for (const name of expected.keys()) {
    if (found.tensors[name]) graphLayout[name] = found.tensors[name];
    else missing.push(name);
  }
  if (missing.length) {
    throw new Error(
      `"${file}" lacks ${missing.length} of the model's ${expected.size} weights (${
        missing.slice(0, 3).join(", ")
      }${missing.length > 3 ? ", …" : ""}), so it cannot stand in for the missing model.safetensors`,
    );
  }
  const model: ElectraModelFiles = { kind: "token-classification", config, weights: graphLayout };
  exportHf(model); // checks every shape against the config, as model.safetensors is checked when read
  const stored = found.int8.filter((n) => expected.has(n));
  const half = found.float16.filter((n) => expected.has(n));
  const how = stored.length
    ? `; ${stored.length} of its ${expected.size} tensors are stored as int8 there and were dequantised ` +
      "(q × scale: the values the graph computes with, not the float32 weights before quantisation)"
    : half.length
    ? `; ${half.length} tensors are stored as float16 there and were widened to float32`
    : "";
  return {
    model,
    vocab: vocab ?? folder.vocab,
    notice: `"${dir}" has no model.safetensors: weights read from ${folder.onnxFile}${how}`,
  };
}
