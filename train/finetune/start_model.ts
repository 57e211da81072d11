/**
 * Where fine-tuning starts from: a model folder (ours, Hugging Face or an inference folder), a pretraining
 * checkpoint's encoder, or a random init from a Hugging Face `config.json`; pretraining heads are dropped.
 * @module
 */
import { join } from "node:path";
import { configFromHf, type ElectraConfig, labelNames } from "../../onnx/electra/config.ts";
import type { ModelKind } from "../../onnx/electra/hf.ts";
import { GENERATOR_PREFIX } from "../../onnx/electra/pretraining.ts";
import { keyLinesAt } from "../../onnx/json_lines.ts";
import { decodeSafetensors } from "../../onnx/safetensors.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { readPretrainCheckpoint } from "../pretrain/checkpoint_folder.ts";
import { readWeightsFolder } from "../release/weights_folder.ts";
import { exists, readJsonText } from "../util/fs.ts";

/** Where the starting weights come from. */
export type ModelInit =
  | { kind: "folder"; dir: string }
  | { kind: "random"; config: string; vocab: string }
  /** A pretraining checkpoint (`OUT/checkpoints/step-N.safetensors` of `deno task pretrain`): its encoder. */
  | { kind: "checkpoint"; path: string; vocab: string };

/** Parameter scopes of pretraining heads (RTD, generator, masked-LM), which a tagger does not use. */
const PRETRAINING_HEADS = [
  `${GENERATOR_PREFIX}.`,
  "discriminator_predictions.",
  "generator_predictions.",
  "generator_lm_head.",
];

/** Whether a parameter belongs to a pretraining head rather than to the encoder or a tagger's head. */
export function isPretrainingHead(name: string): boolean {
  return PRETRAINING_HEADS.some((p) => name.startsWith(p));
}

/** A starting model: config, graph-layout weights of the encoder (and maybe a classifier/CRF), vocabulary. */
export interface StartModel {
  config: ElectraConfig;
  weights: Record<string, Tensor>;
  vocab: string;
  kind: ModelKind | "random";
  /** Label names of a token-classification model. */
  labels?: string[];
  /** Where the weights came from when the folder had no model.safetensors (see train/release/weights_folder.ts). */
  notice?: string;
}

/**
 * Reads `--model DIR`: our model folder (model.safetensors with NERSOTA metadata, e.g. a previous
 * fine-tuning output), a Hugging Face folder (ElectraForPreTraining discriminator,
 * ElectraForTokenClassification or ElectraModel) or an inference folder with no model.safetensors (weights
 * read from its graph); or a fresh random init from a HF `config.json`.
 */
export async function loadStartModel(init: ModelInit): Promise<StartModel> {
  if (init.kind === "random") {
    const doc = await readJsonText(init.config, "--config");
    const config = configFromHf(doc.json, init.config, keyLinesAt(doc));
    return { config, weights: {}, vocab: await Deno.readTextFile(init.vocab), kind: "random" };
  }
  if (init.kind === "checkpoint") return await loadCheckpointEncoder(init.path, init.vocab);
  const dir = init.dir;
  const { model, vocab, notice } = await readWeightsFolder(dir);
  if (vocab === undefined) {
    throw new Error(`"${dir}" has no vocab.txt (the vocabulary the model was trained with)`);
  }
  const weights: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(model.weights)) {
    // A pretraining model's generator and RTD or masked-LM head are not part of a tagger.
    if (isPretrainingHead(n)) continue;
    weights[n] = t;
  }
  if (await exists(join(dir, "crf.safetensors"))) {
    Object.assign(
      weights,
      decodeSafetensors(await Deno.readFile(join(dir, "crf.safetensors")), join(dir, "crf.safetensors"))
        .tensors,
    );
  }
  return {
    config: model.config,
    weights,
    vocab,
    kind: model.kind,
    labels: model.kind === "token-classification" ? labelNames(model.config) : undefined,
    notice,
  };
}

/**
 * The encoder of a pretraining checkpoint (`deno task pretrain`'s `checkpoints/step-N.safetensors`): the
 * discriminator config its run state records, its parameters without the pretraining heads and Adam moments.
 */
export async function loadCheckpointEncoder(path: string, vocabPath: string): Promise<StartModel> {
  const { config, params } = await readPretrainCheckpoint(path);
  const weights: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(params)) if (!isPretrainingHead(n)) weights[n] = t;
  return { config: config.model, weights, vocab: await Deno.readTextFile(vocabPath), kind: "base" };
}
