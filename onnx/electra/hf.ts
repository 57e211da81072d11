/**
 * Moving ELECTRA weights between Hugging Face folders and this project's model folder, in memory
 * (file access lives in `cli/export.ts`, so this module stays browser-safe).
 *
 * - Names: the graph uses HF names. A joint pretraining model holds the discriminator's tensors under
 *   their `ElectraForPreTraining` names and the generator's (`ElectraForMaskedLM`) under `generator.`,
 *   except the shared `electra.embeddings.*`, which exist once; `mergePretraining` / `splitPretraining`
 *   convert to and from the two HF folders.
 * - Layout: HF `nn.Linear` weights are (out, in); the graph stores (in, out). Every 2-D weight other than
 *   an embedding table is transposed on the way in and out (`isLinearWeight`).
 * - HF extras: `electra.embeddings.position_ids` (a buffer older checkpoints saved) is dropped, and the
 *   tied `generator_lm_head.weight` is checked against the word embeddings and dropped; it is not written
 *   back, as `save_pretrained` does not write tied weights either.
 *
 * Our model folder: `config.json` (HF ElectraConfig format, `architectures` saying what it is),
 * `generator_config.json` (pretraining models only), `model.safetensors` (graph layout, joint names,
 * metadata `format: "nersota"`), `vocab.txt`, and the tokenizer files when known.
 * @module
 */
import { float16Bits, float16Value } from "../quantize.ts";
import type { KeyLines } from "../settings.ts";
import { decodeSafetensors, encodeSafetensors } from "../safetensors.ts";
import type { Tensor } from "../tensor.ts";
import { configFromHf, configToHf, type ElectraConfig, numLabels, pythonJson } from "./config.ts";

export { pythonJson };
import { GENERATOR_PREFIX } from "./pretraining.ts";

/** HF model classes this module reads and writes. */
export type HfArchitecture =
  | "ElectraForPreTraining"
  | "ElectraForMaskedLM"
  | "ElectraForTokenClassification"
  | "ElectraModel";

/**
 * What a model folder holds: a joint pretraining model, a discriminator, a masked LM (the `mlm` objective's
 * full-width model, or a generator on its own), a tagger or a bare encoder.
 */
export type ModelKind = "pretraining" | "discriminator" | "masked-lm" | "token-classification" | "base";

/** Metadata `format` of our model.safetensors (HF's is "pt"). */
export const NERSOTA_FORMAT = "nersota";
/** Metadata `layout` of our model.safetensors. */
export const GRAPH_LAYOUT = "linear weights (in, out)";

const EMBEDDING_TABLES = /(^|\.)(word_embeddings|position_embeddings|token_type_embeddings)\.weight$/;

/** Whether a tensor is an `nn.Linear` weight (stored transposed in the graph): 2-D, not an embedding table. */
export function isLinearWeight(name: string, dims: readonly number[]): boolean {
  return dims.length === 2 && name.endsWith(".weight") && !EMBEDDING_TABLES.test(name) &&
    !name.endsWith("generator_lm_head.weight");
}

/** Transposes a 2-D float tensor. */
export function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.dims;
  const src = t.data as Float32Array | Float64Array;
  const out = new (src.constructor as Float32ArrayConstructor)(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j];
  return { dtype: t.dtype, dims: [c, r], data: out };
}

/** float16 tensors widened to float32 (exactly): models stored in half precision compute and train in float32. */
export function widenFloat16(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    out[k] = t.dtype === "float16" ? f16ToF32(t) : t;
  }
  return out;
}

/** float32 tensors rounded to float16 (nearest even), for half-size storage; other dtypes unchanged. */
export function narrowToFloat16(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    out[k] = t.dtype === "float32"
      ? { dtype: "float16", dims: t.dims, data: Uint16Array.from(t.data as Float32Array, float16Bits) }
      : t;
  }
  return out;
}

/** Converts tensors between HF (out, in) and graph (in, out) layout (the same transpose both ways). */
export function swapLinearLayout(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = isLinearWeight(k, t.dims) ? transpose2d(t) : t;
  return out;
}

/** The tensors an HF ELECTRA checkpoint of `arch` holds, name → shape in HF layout (tied weights omitted). */
export function hfTensorShapes(
  c: ElectraConfig,
  arch: HfArchitecture,
  labels?: number,
): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const E = c.embeddingSize, H = c.hiddenSize, F = c.intermediateSize;
  const lin = (name: string, inSize: number, outSize: number) => {
    m.set(`${name}.weight`, [outSize, inSize]);
    m.set(`${name}.bias`, [outSize]);
  };
  const ln = (name: string, width: number) => {
    m.set(`${name}.weight`, [width]);
    m.set(`${name}.bias`, [width]);
  };
  m.set("electra.embeddings.word_embeddings.weight", [c.vocabSize, E]);
  m.set("electra.embeddings.position_embeddings.weight", [c.maxPositionEmbeddings, E]);
  m.set("electra.embeddings.token_type_embeddings.weight", [c.typeVocabSize, E]);
  ln("electra.embeddings.LayerNorm", E);
  if (E !== H) lin("electra.embeddings_project", E, H);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `electra.encoder.layer.${i}`;
    for (const x of ["query", "key", "value"]) lin(`${p}.attention.self.${x}`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`, H);
    lin(`${p}.intermediate.dense`, H, F);
    lin(`${p}.output.dense`, F, H);
    ln(`${p}.output.LayerNorm`, H);
  }
  if (arch === "ElectraForPreTraining") {
    lin("discriminator_predictions.dense", H, H);
    lin("discriminator_predictions.dense_prediction", H, 1);
  } else if (arch === "ElectraForMaskedLM") {
    lin("generator_predictions.dense", H, E);
    ln("generator_predictions.LayerNorm", E);
    m.set("generator_lm_head.bias", [c.vocabSize]);
  } else if (arch === "ElectraForTokenClassification") {
    const L = labels ?? numLabels(c);
    if (!L) {
      throw new Error("ElectraForTokenClassification needs the number of labels (id2label in config.json)");
    }
    lin("classifier", H, L);
  }
  return m;
}

/** Converts a float16 (raw bits) tensor to float32 (exactly). */
function f16ToF32(t: Tensor): Tensor {
  return { dtype: "float32", dims: t.dims, data: Float32Array.from(t.data as Uint16Array, float16Value) };
}

/** Which architecture a HF checkpoint is, from `architectures` in its config or else from its tensors. */
export function detectArchitecture(config: ElectraConfig, names: Iterable<string>): HfArchitecture {
  const declared = (config.extras.architectures as string[] | undefined)?.[0];
  const known: HfArchitecture[] = [
    "ElectraForPreTraining",
    "ElectraForMaskedLM",
    "ElectraForTokenClassification",
    "ElectraModel",
  ];
  if (declared && (known as string[]).includes(declared)) return declared as HfArchitecture;
  const set = new Set(names);
  if (set.has("discriminator_predictions.dense.weight")) return "ElectraForPreTraining";
  if (set.has("generator_lm_head.bias")) return "ElectraForMaskedLM";
  if (set.has("classifier.weight")) return "ElectraForTokenClassification";
  if (declared) {
    throw new Error(`architectures "${declared}" is not supported (supported: ${known.join(", ")})`);
  }
  return "ElectraModel";
}

/**
 * Checks a HF checkpoint (HF layout) against its config: every expected tensor present, float, with the
 * expected shape; nothing unexpected. Returns the tensors as float32 minus the dropped extras.
 */
export function checkHfTensors(
  tensors: Record<string, Tensor>,
  config: ElectraConfig,
  arch: HfArchitecture,
  source = "model.safetensors",
): Record<string, Tensor> {
  const expected = hfTensorShapes(config, arch);
  const out: Record<string, Tensor> = {};
  for (const [name, t0] of Object.entries(tensors)) {
    if (name === "electra.embeddings.position_ids" || name === "electra.embeddings.token_type_ids") continue; // buffers
    let t = t0;
    if (t.dtype === "float16") t = f16ToF32(t);
    if (name === "generator_lm_head.weight" && arch === "ElectraForMaskedLM") {
      out[name] = t; // tied; compared with the word embeddings by the caller
      continue;
    }
    const dims = expected.get(name);
    if (!dims) {
      throw new Error(
        `Unexpected tensor "${name}" in "${source}" for ${arch} (is config.json the right one for these weights?)`,
      );
    }
    if (t.dtype !== "float32" && t.dtype !== "float64") {
      throw new Error(`Tensor "${name}" in "${source}" has dtype ${t.dtype}, expected a float type`);
    }
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      throw new Error(
        `Tensor "${name}" in "${source}" has shape [${t.dims.join(", ")}], but config.json implies [${
          dims.join(", ")
        }]`,
      );
    }
    out[name] = t.dtype === "float64"
      ? { dtype: "float32", dims: t.dims, data: Float32Array.from(t.data as Float64Array) }
      : t;
  }
  for (const [name, dims] of expected) {
    if (!(name in out)) {
      throw new Error(
        `Missing tensor "${name}" in "${source}" (expected shape [${dims.join(", ")}] for ${arch})`,
      );
    }
  }
  return out;
}

function sameValues(a: Tensor, b: Tensor): boolean {
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/**
 * Joins an HF discriminator (`ElectraForPreTraining`, HF layout) and generator (`ElectraForMaskedLM`)
 * into joint graph-layout weights. The discriminator's embeddings are kept; the generator's must equal
 * them (they are shared) — a difference is reported in `warnings`, not silently mixed.
 */
export function mergePretraining(
  discriminator: Record<string, Tensor>,
  generator: Record<string, Tensor>,
): { weights: Record<string, Tensor>; warnings: string[] } {
  const warnings: string[] = [];
  const weights = swapLinearLayout(discriminator);
  const word = discriminator["electra.embeddings.word_embeddings.weight"];
  for (const [name, t] of Object.entries(swapLinearLayout(generator))) {
    if (name.startsWith("electra.embeddings.")) {
      if (!discriminator[name] || !sameValues(discriminator[name], t)) {
        warnings.push(
          `generator "${name}" differs from the discriminator's; the discriminator's is used (they are shared)`,
        );
      }
    } else if (name === "generator_lm_head.weight") {
      if (!word || !sameValues(word, t)) {
        warnings.push(
          `generator "generator_lm_head.weight" is not the word embedding table; ELECTRA ties them, so it is ignored`,
        );
      }
    } else {
      weights[`${GENERATOR_PREFIX}.${name}`] = t;
    }
  }
  return { weights, warnings };
}

/** Splits joint graph-layout weights into HF-layout discriminator and generator checkpoints. */
export function splitPretraining(
  weights: Record<string, Tensor>,
): { discriminator: Record<string, Tensor>; generator: Record<string, Tensor> } {
  const discriminator: Record<string, Tensor> = {}, generator: Record<string, Tensor> = {};
  const prefix = `${GENERATOR_PREFIX}.`;
  for (const [name, t] of Object.entries(weights)) {
    if (name.startsWith(prefix)) generator[name.slice(prefix.length)] = t;
    else {
      discriminator[name] = t;
      if (name.startsWith("electra.embeddings.")) generator[name] = t; // shared: each HF model has a copy
    }
  }
  return { discriminator: swapLinearLayout(discriminator), generator: swapLinearLayout(generator) };
}

/** A model in memory: configs and graph-layout weights with joint names. */
export interface ElectraModelFiles {
  kind: ModelKind;
  config: ElectraConfig;
  /** Pretraining models only. */
  generator?: ElectraConfig;
  weights: Record<string, Tensor>;
}

/** The contents of a HF folder that matter here. */
export interface HfFolder {
  /** Parsed `config.json`. */
  config: unknown;
  /** Where config.json's keys are (onnx/json_lines.ts), so that errors about them name the line. */
  configLines?: KeyLines;
  /** `model.safetensors` bytes. */
  safetensors: Uint8Array;
  /** Folder name, for errors. */
  source?: string;
}

const ARCH_OF_KIND: Record<ModelKind, HfArchitecture> = {
  pretraining: "ElectraForPreTraining",
  discriminator: "ElectraForPreTraining",
  "masked-lm": "ElectraForMaskedLM",
  "token-classification": "ElectraForTokenClassification",
  base: "ElectraModel",
};

function readHf(
  folder: HfFolder,
): { config: ElectraConfig; arch: HfArchitecture; tensors: Record<string, Tensor> } {
  const src = folder.source ?? "HF folder";
  const config = configFromHf(folder.config, `${src}/config.json`, folder.configLines);
  const file = `${src}/model.safetensors`;
  const { tensors } = decodeSafetensors(folder.safetensors, file);
  const arch = detectArchitecture(config, Object.keys(tensors));
  return { config, arch, tensors: checkHfTensors(tensors, config, arch, file) };
}

/**
 * Reads an HF ELECTRA folder (and, for pretraining, the generator's) into our model: names checked,
 * linear weights transposed to graph layout. `warnings` lists what was dropped or differed.
 */
export function importHf(
  main: HfFolder,
  generator?: HfFolder,
): { model: ElectraModelFiles; warnings: string[] } {
  const d = readHf(main);
  if (d.arch === "ElectraForMaskedLM" && generator) {
    throw new Error(
      `"${
        main.source ?? "HF folder"
      }" is a generator (ElectraForMaskedLM); import the discriminator and pass the generator beside it`,
    );
  }
  if (!generator) {
    const kind: ModelKind = d.arch === "ElectraForPreTraining"
      ? "discriminator"
      : d.arch === "ElectraForMaskedLM"
      ? "masked-lm"
      : d.arch === "ElectraForTokenClassification"
      ? "token-classification"
      : "base";
    return { model: { kind, config: d.config, weights: swapLinearLayout(d.tensors) }, warnings: [] };
  }
  if (d.arch !== "ElectraForPreTraining") {
    throw new Error(
      `A generator goes with an ElectraForPreTraining discriminator, but "${main.source}" is ${d.arch}`,
    );
  }
  const gsrc = generator.source ?? "generator folder";
  const gconfig = configFromHf(generator.config, `${gsrc}/config.json`, generator.configLines);
  const gfile = `${gsrc}/model.safetensors`;
  const gtensors = checkHfTensors(
    decodeSafetensors(generator.safetensors, gfile).tensors,
    gconfig,
    "ElectraForMaskedLM",
    gfile,
  );
  for (const k of ["vocabSize", "embeddingSize", "maxPositionEmbeddings", "typeVocabSize"] as const) {
    if (gconfig[k] !== d.config[k]) {
      throw new Error(
        `"${gsrc}/config.json": ${k} ${gconfig[k]} differs from the discriminator's ${d.config[k]}`,
      );
    }
  }
  const { weights, warnings } = mergePretraining(d.tensors, gtensors);
  return { model: { kind: "pretraining", config: d.config, generator: gconfig, weights }, warnings };
}

/** A HF folder's generated files (besides vocab and tokenizer files). */
export interface HfOutput {
  configJson: string;
  safetensors: Uint8Array;
}

/** Writes our model as HF checkpoint(s): the main model, and for pretraining models the generator too. */
export function exportHf(model: ElectraModelFiles): { main: HfOutput; generator?: HfOutput } {
  const arch = ARCH_OF_KIND[model.kind];
  const write = (
    config: ElectraConfig,
    a: HfArchitecture,
    tensors: Record<string, Tensor>,
    source: string,
  ): HfOutput => {
    checkHfTensors(tensors, config, a, source); // never write a folder transformers would refuse
    return {
      configJson: pythonJson(configToHf(config, [a])),
      safetensors: encodeSafetensors(tensors, { format: "pt" }),
    };
  };
  if (model.kind !== "pretraining") {
    return { main: write(model.config, arch, swapLinearLayout(model.weights), "model") };
  }
  if (!model.generator) throw new Error("exportHf(): a pretraining model needs its generator config");
  const { discriminator, generator } = splitPretraining(model.weights);
  return {
    main: write(model.config, arch, discriminator, "discriminator"),
    generator: write(model.generator, "ElectraForMaskedLM", generator, "generator"),
  };
}

/** Encodes our model.safetensors (graph layout, joint names). */
export function encodeModelWeights(model: ElectraModelFiles): Uint8Array {
  return encodeSafetensors(model.weights, { format: NERSOTA_FORMAT, kind: model.kind, layout: GRAPH_LAYOUT });
}

/**
 * Reads our model folder's files (config.json, optional generator_config.json, model.safetensors); `lines`
 * (where each config file's keys are) lets errors about a key name its line.
 */
export function decodeModelWeights(
  configJson: unknown,
  safetensors: Uint8Array,
  generatorConfigJson?: unknown,
  source = "model folder",
  lines: { config?: KeyLines; generator?: KeyLines } = {},
): ElectraModelFiles {
  const { tensors, metadata } = decodeSafetensors(safetensors, `${source}/model.safetensors`);
  if (metadata.format !== NERSOTA_FORMAT || metadata.layout !== GRAPH_LAYOUT) {
    throw new Error(
      `"${source}/model.safetensors" is not a NERSOTA model file (metadata format "${metadata.format}"); ` +
        "convert Hugging Face folders with `deno task export --from-hf DIR --out DIR`",
    );
  }
  const kind = metadata.kind as ModelKind;
  if (!(kind in ARCH_OF_KIND)) {
    throw new Error(`"${source}/model.safetensors": unknown model kind "${metadata.kind}"`);
  }
  const config = configFromHf(configJson, `${source}/config.json`, lines.config);
  const generator = generatorConfigJson === undefined
    ? undefined
    : configFromHf(generatorConfigJson, `${source}/generator_config.json`, lines.generator);
  if (kind === "pretraining" && !generator) {
    throw new Error(`"${source}": a pretraining model needs generator_config.json`);
  }
  const model: ElectraModelFiles = { kind, config, generator, weights: widenFloat16(tensors) };
  exportHf(model); // validates every name and shape against the configs
  return model;
}

/** Config JSON for our folder (HF format). */
export function modelConfigJson(model: ElectraModelFiles): { config: string; generator?: string } {
  return {
    config: pythonJson(configToHf(model.config, [ARCH_OF_KIND[model.kind]])),
    generator: model.generator ? pythonJson(configToHf(model.generator, ["ElectraForMaskedLM"])) : undefined,
  };
}

/** `special_tokens_map.json` of an ELECTRA WordPiece tokenizer. */
export const SPECIAL_TOKENS_MAP = {
  cls_token: "[CLS]",
  mask_token: "[MASK]",
  pad_token: "[PAD]",
  sep_token: "[SEP]",
  unk_token: "[UNK]",
};

/** `tokenizer_config.json` for `ElectraTokenizer` without lower-casing (Korean ELECTRA models keep case). */
export function tokenizerConfig(maxLength: number): Record<string, unknown> {
  return {
    ...SPECIAL_TOKENS_MAP,
    do_basic_tokenize: true,
    do_lower_case: false,
    model_max_length: maxLength,
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: "ElectraTokenizer",
  };
}
