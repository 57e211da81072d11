/**
 * Writing an inference model folder (see `model_folder.ts` for the layout): builds `inference.onnx` from
 * a tagger's weights. Kept apart from the reader so the browser bundle does not carry the graph builder.
 * @module
 */
import { buildTokenClassificationGraph, FAST_INFERENCE } from "../onnx/electra/token_classification.ts";
import { configToHf, type ElectraConfig, labelNames, pythonJson } from "../onnx/electra/config.ts";
import { fromWeights } from "../onnx/electra/init.ts";
import type { Tensor } from "../onnx/tensor.ts";
import {
  checkLabels,
  INFERENCE_FORMAT,
  INFERENCE_FORMAT_VERSION,
  type InferenceMeta,
  parseMeta,
} from "./model_folder.ts";

/** What `inferenceFolderFiles` needs: a tagger's config (with id2label), graph-layout weights and vocab. */
export interface InferenceFolderInput {
  config: ElectraConfig;
  /** Graph-layout weights under HF names (as `ElectraModelFiles.weights`). */
  weights: Record<string, Tensor>;
  vocab: string;
  meta?: Partial<Omit<InferenceMeta, "format" | "version">>;
}

/**
 * The files of an inference model folder (name → contents), built in memory so that the writer (a CLI
 * with `Deno.writeFile`, a test, a bundler) decides where they go.
 */
export function inferenceFolderFiles(input: InferenceFolderInput): Record<string, Uint8Array | string> {
  const labels = labelNames(input.config);
  if (!labels?.length) throw new Error("inferenceFolderFiles(): config has no id2label");
  const meta: InferenceMeta = parseMeta(
    { format: INFERENCE_FORMAT, version: INFERENCE_FORMAT_VERSION, ...input.meta },
    "nersota.json",
    input.config.maxPositionEmbeddings,
  );
  checkLabels(labels, meta.scheme);
  const graph = buildTokenClassificationGraph({
    config: input.config,
    numLabels: labels.length,
    params: fromWeights(input.weights, { source: "weights", dtype: "float32" }),
    ...FAST_INFERENCE, // same logits as the training graph's forward, faster on ONNX Runtime (its doc)
  });
  return {
    "config.json": pythonJson(configToHf(input.config, ["ElectraForTokenClassification"])),
    "vocab.txt": input.vocab.endsWith("\n") ? input.vocab : input.vocab + "\n",
    "inference.onnx": graph.toBytes(),
    "nersota.json": JSON.stringify(meta, null, 2) + "\n",
  };
}
