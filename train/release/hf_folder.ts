/**
 * Hugging Face ELECTRA folders ↔ NERSOTA model folders (`deno task export`, and the folders pretraining writes
 * at its end). HF folders hold `config.json`, `model.safetensors`, `vocab.txt` (and tokenizer files); PyTorch
 * `.bin` pickles are refused. Files are written to a temporary name and renamed, so a failed export never
 * leaves a half-written file behind.
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";
import {
  type ElectraModelFiles,
  encodeModelWeights,
  exportHf,
  type HfFolder,
  importHf,
  modelConfigJson,
  pythonJson,
  SPECIAL_TOKENS_MAP,
  tokenizerConfig,
} from "../../onnx/electra/hf.ts";
import { exists, readJsonFile, readJsonText } from "../util/fs.ts";
import { inferenceFolderFiles } from "../../infer/model_folder_files.ts";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import { decodeModel as decodeGraph, encodeModel } from "../../onnx/proto.ts";
import { int8Compute } from "../../onnx/quantize.ts";
import { keyLinesAt } from "../../onnx/json_lines.ts";
import { readWeightsFolder } from "./weights_folder.ts";
import { labelNames } from "../../onnx/electra/config.ts";

const TOKENIZER_FILES = ["tokenizer_config.json", "special_tokens_map.json"];

/** Reads a HF folder's config and safetensors, refusing PyTorch pickles with a message naming safetensors. */
export async function readHfFolder(dir: string): Promise<HfFolder> {
  const st = join(dir, "model.safetensors");
  if (!(await exists(st))) {
    const bins: string[] = [];
    if (await exists(dir)) {
      for await (const e of Deno.readDir(dir)) if (/\.(bin|pt|pth|ckpt)$/.test(e.name)) bins.push(e.name);
    }
    if (bins.length) {
      throw new Error(
        `"${dir}" has ${
          bins.join(", ")
        } but no model.safetensors: PyTorch pickle files are not read (loading them can run ` +
          `arbitrary code, and it needs Python). Convert once with transformers: ` +
          `AutoModel.from_pretrained(DIR).save_pretrained(OUT, safe_serialization=True), which writes model.safetensors.`,
      );
    }
    if (await exists(join(dir, "model.safetensors.index.json"))) {
      throw new Error(
        `"${dir}" holds a sharded checkpoint (model.safetensors.index.json); ELECTRA models fit one file: re-save unsharded`,
      );
    }
    throw new Error(`"${dir}" has no model.safetensors`);
  }
  const config = await readJsonText(join(dir, "config.json"));
  return {
    config: config.json,
    configLines: keyLinesAt(config),
    safetensors: await Deno.readFile(st),
    source: dir,
  };
}

async function copyTokenizer(from: string, to: string, required: boolean): Promise<void> {
  const vocab = join(from, "vocab.txt"), tokJson = join(from, "tokenizer.json");
  if (await exists(vocab)) await writeFileAtomic(join(to, "vocab.txt"), await Deno.readFile(vocab));
  else if (await exists(tokJson)) {
    // Some Hub folders carry only the fast tokenizer's file; its WordPiece vocabulary is the same list.
    const tok = WordPieceTokenizer.fromTokenizerJson(await Deno.readTextFile(tokJson));
    await writeFileAtomic(join(to, "vocab.txt"), tok.toVocabTxt());
  } else if (required) {
    throw new Error(
      `"${from}" has no vocab.txt and no tokenizer.json (the WordPiece vocabulary the model was trained with)`,
    );
  }
  for (const f of TOKENIZER_FILES) {
    if (await exists(join(from, f))) await writeFileAtomic(join(to, f), await Deno.readFile(join(from, f)));
  }
}

/** HF folder(s) → our model folder; returns warnings. */
export async function fromHf(dir: string, out: string, generatorDir?: string): Promise<string[]> {
  const main = await readHfFolder(dir);
  const genDir = generatorDir ??
    ((await exists(join(dir, "generator", "config.json"))) ? join(dir, "generator") : undefined);
  const generator = genDir ? await readHfFolder(genDir) : undefined;
  const { model, warnings } = importHf(main, generator);
  await writeModelFolder(model, out);
  await copyTokenizer(dir, out, true);
  if (model.kind === "token-classification") warnings.push(...(await writeInferenceFiles(model, dir, out)));
  return warnings;
}

/**
 * Makes an imported token classifier a folder `deno task ner` runs at once: `inference.onnx` and a
 * `nersota.json` as Hugging Face's pipeline reads the model (every sub-word labelled, argmax, its tokenizer's
 * lower-casing, windows of up to 512 tokens). Returns a warning, and writes nothing, when the labels are not
 * BIO/BIOES names.
 */
async function writeInferenceFiles(model: ElectraModelFiles, dir: string, out: string): Promise<string[]> {
  const labels = labelNames(model.config) ?? [];
  const scheme = labels.some((l) => /^[ES]-/.test(l)) ? "BIOES" : "BIO";
  const tc = join(dir, "tokenizer_config.json");
  const lower = (await exists(tc)) &&
    (await readJsonFile(tc) as { do_lower_case?: unknown }).do_lower_case === true;
  let files: Record<string, Uint8Array | string>;
  try {
    files = inferenceFolderFiles({
      config: model.config,
      weights: model.weights,
      vocab: await Deno.readTextFile(join(out, "vocab.txt")),
      meta: {
        labelMode: "all-subwords",
        scheme,
        maxLength: Math.min(512, model.config.maxPositionEmbeddings),
        doLowerCase: lower,
        decoding: "argmax",
        info: { importedFrom: dir },
      },
    });
  } catch (e) {
    return [`no inference files written (deno task ner cannot run "${out}"): ${(e as Error).message}`];
  }
  for (const name of ["inference.onnx", "nersota.json"]) {
    const data = files[name];
    await writeFileAtomic(join(out, name), data as Uint8Array | string);
  }
  return [];
}

/** Writes our model folder (config.json, generator_config.json, model.safetensors). */
export async function writeModelFolder(model: ElectraModelFiles, out: string): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const configs = modelConfigJson(model);
  await writeFileAtomic(join(out, "model.safetensors"), encodeModelWeights(model));
  await writeFileAtomic(join(out, "config.json"), configs.config);
  if (configs.generator) await writeFileAtomic(join(out, "generator_config.json"), configs.generator);
}

/** The files transformers.js and Optimum read beside the checkpoint of a token classifier (see `toHf`). */
export const ONNX_FILES = ["onnx/model.onnx", "onnx/model_quantized.onnx"];

/**
 * Our model folder → HF folder(s) that `transformers` loads: config.json (with id2label/label2id for a
 * tagger), model.safetensors, vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * and for a token classifier the ONNX graphs transformers.js and Optimum look for: `onnx/model.onnx`
 * (float32) and `onnx/model_quantized.onnx` (int8 dense layers, CPU). Returns notices for the user.
 */
export async function toHf(dir: string, out: string, generatorOut?: string): Promise<string[]> {
  const { model, vocab, notice } = await readWeightsFolder(dir);
  const notices = notice ? [notice] : [];
  if (vocab === undefined) {
    throw new Error(`"${dir}" has no vocab.txt (the WordPiece vocabulary the model was trained with)`);
  }
  const meta = (await exists(join(dir, "nersota.json")))
    ? await readJsonFile(join(dir, "nersota.json")) as Record<string, unknown>
    : {};
  const tokenizerJson = (await exists(join(dir, "tokenizer.json")))
    ? await Deno.readTextFile(join(dir, "tokenizer.json"))
    : JSON.stringify(
      WordPieceTokenizer.fromVocab(vocab, { lowercase: meta.doLowerCase === true }).toTokenizerJson(),
      null,
      2,
    ) + "\n";
  const { main, generator } = exportHf(model);
  const write = async (folder: string, files: { configJson: string; safetensors: Uint8Array }) => {
    await Deno.mkdir(folder, { recursive: true });
    await writeFileAtomic(join(folder, "model.safetensors"), files.safetensors);
    await writeFileAtomic(join(folder, "config.json"), files.configJson);
    await copyTokenizer(dir, folder, true);
    await writeFileAtomic(join(folder, "tokenizer.json"), tokenizerJson);
    if (!(await exists(join(dir, "tokenizer_config.json")))) {
      await writeFileAtomic(
        join(folder, "tokenizer_config.json"),
        pythonJson(tokenizerConfig(model.config.maxPositionEmbeddings)),
      );
    }
    if (!(await exists(join(dir, "special_tokens_map.json")))) {
      await writeFileAtomic(join(folder, "special_tokens_map.json"), pythonJson(SPECIAL_TOKENS_MAP));
    }
  };
  await write(out, main);
  if (generator) await write(generatorOut ?? join(out, "generator"), generator);
  if (model.kind === "token-classification") {
    const graph =
      inferenceFolderFiles({ config: model.config, weights: model.weights, vocab })["inference.onnx"];
    const bytes = graph as Uint8Array;
    await Deno.mkdir(join(out, "onnx"), { recursive: true });
    await writeFileAtomic(join(out, ONNX_FILES[0]), bytes);
    await writeFileAtomic(join(out, ONNX_FILES[1]), encodeModel(int8Compute(decodeGraph(bytes))));
    if (meta.crf) {
      notices.push(
        `"${dir}" decodes with a CRF (${meta.crf}): Hugging Face pipelines read the exported logits by argmax, ` +
          "without its transitions, so their labels can differ from deno task ner's",
      );
    } else if (meta.decoding === "bio-viterbi") {
      notices.push(
        `"${dir}" decodes with bio-viterbi; Hugging Face pipelines take the argmax of each token's logits ` +
          "(deno task ner --decoding argmax gives their labels)",
      );
    }
  }
  return notices;
}
