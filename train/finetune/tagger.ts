/**
 * The tagger fine-tuning trains: ELECTRA with a token-classification head (and optionally a CRF) as the
 * artifact writer's forward builder, and the inference model folder written from its parameters.
 * @module
 */
import { join } from "node:path";
import type { BuildForward, ForwardResult } from "../../onnx/artifacts.ts";
import { CRF_NAMES, crfLoss, crfParams, initCrfTensors } from "../../onnx/crf.ts";
import { configToHf, type ElectraConfig, pythonJson, withLabels } from "../../onnx/electra/config.ts";
import { encodeModelWeights } from "../../onnx/electra/hf.ts";
import { fromWeights, initParams } from "../../onnx/electra/init.ts";
import { buildTokenClassificationGraph } from "../../onnx/electra/token_classification.ts";
import { crossEntropy } from "../../onnx/losses.ts";
import { encodeSafetensors } from "../../onnx/safetensors.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import type { CrfParams } from "../../infer/crf.ts";
import { sealFolderFiles } from "../../infer/model_folder.ts";
import { inferenceFolderFiles } from "../../infer/model_folder_files.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { effectiveStride, type FinetuneConfig, softmaxDecoding } from "./finetune_config.ts";

const utf8 = new TextEncoder();

/** What the tagger's forward builder needs. */
export interface TaggerModelOptions {
  config: ElectraConfig;
  numLabels: number;
  weights: Record<string, Tensor>;
  seed: number;
  /** With a CRF: its loss replaces cross-entropy; `maxLength` is the unrolled length. */
  crf?: { maxLength: number };
  /** Encoder on 2-D (B·T, ·) activations (`BuildContext.flatTokens`): same numbers, other ORT kernels. */
  flatTokens?: boolean;
}

/**
 * A `BuildForward` for token classification: ELECTRA + classifier (`buildTokenClassificationGraph`,
 * copied into the artifact's graph), then mean token cross-entropy over labels ≠ −100, or the CRF NLL.
 * Inference mode: `logits` only.
 */
export function taggerForward(o: TaggerModelOptions): BuildForward {
  const params = fromWeights(o.weights, {
    source: "starting weights",
    dtype: "float32",
    fallback: initParams({ seed: o.seed, std: o.config.initializerRange, padTokenId: o.config.padTokenId }),
  });
  const crfInit = o.crf ? { ...initCrfTensors(o.numLabels, o.seed), ...pickCrf(o.weights) } : undefined;
  // The ELECTRA builder makes its own graph; the artifact writer uses the graph the returned values live in.
  return (_g, ctx): ForwardResult => {
    const g = buildTokenClassificationGraph({
      config: o.config,
      numLabels: o.numLabels,
      params,
      training: false,
      dropout: ctx.mode === "train" ? ctx.dropout : undefined,
      flatTokens: o.flatTokens,
    });
    const logits = g.outputs.find((v) => v.name === "logits")!; // (B, T, L)
    if (ctx.mode === "inference") return { outputs: { logits } };
    const labels = g.input("labels", "int64", ["batch_size", "sequence_length"]);
    const loss = crfInit
      ? crfLoss(logits, labels, crfParams(g, crfInit), o.crf!.maxLength)
      : crossEntropy(logits, labels);
    return { loss, outputs: { logits } };
  };
}

function pickCrf(weights: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const n of Object.values(CRF_NAMES)) if (weights[n]) out[n] = weights[n];
  return out;
}

/** CRF tensors → the decoder's parameters. */
export function crfFromTensors(t: Record<string, Tensor>): CrfParams {
  const tr = t[CRF_NAMES.transitions];
  const L = tr.dims[0];
  return {
    transitions: Array.from({ length: L }, (_, i) => tr.data.slice(i * L, (i + 1) * L) as Float32Array),
    start: t[CRF_NAMES.start].data as Float32Array,
    end: t[CRF_NAMES.end].data as Float32Array,
  };
}

/** Writes the inference folder (plus model.safetensors and, with a CRF, crf.safetensors) into `out`. */
export async function writeTaggerFolder(
  out: string,
  input: {
    config: ElectraConfig;
    labels: string[];
    params: Record<string, Tensor>;
    vocab: string;
    c: FinetuneConfig;
    info: Record<string, unknown>;
  },
): Promise<void> {
  const config = withLabels(input.config, input.labels);
  const weights: Record<string, Tensor> = {}, crf: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(input.params)) {
    const copy = { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() } as Tensor;
    if (n.startsWith("crf.")) crf[n] = copy;
    else weights[n] = copy;
  }
  const files = inferenceFolderFiles({
    config,
    weights,
    vocab: input.vocab,
    meta: {
      labelMode: input.c.labelMode,
      scheme: input.c.scheme,
      maxLength: input.c.maxSeqLength,
      stride: effectiveStride(input.c),
      doLowerCase: false,
      decoding: softmaxDecoding(input.c),
      ...(input.c.symbolEntities === "drop" ? { symbolEntities: "drop" as const } : {}),
      info: input.info,
    },
  });
  if (Object.keys(crf).length) {
    // The pipeline reads nersota.json's "crf" to Viterbi-decode with these transitions.
    const meta = JSON.parse(files["nersota.json"] as string);
    meta.crf = "crf.safetensors";
    files["nersota.json"] = JSON.stringify(meta, null, 2) + "\n";
    files["crf.safetensors"] = encodeSafetensors(crf, { format: "nersota-crf" });
  }
  files["model.safetensors"] = encodeModelWeights({ kind: "token-classification", config, weights });
  files["config.json"] = pythonJson(configToHf(config, ["ElectraForTokenClassification"]));
  await sealFolderFiles(files);
  await Deno.mkdir(out, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    await writeFileAtomic(join(out, name), typeof data === "string" ? utf8.encode(data) : data as Uint8Array);
  }
}
