/**
 * NERSOTA: Korean named-entity recognition with ELECTRA-small on ONNX Runtime, in Deno and browsers.
 * One `inference.onnx` plus tokenizer files (a "model folder", see `infer/model_folder.ts`) serves the
 * API, the CLI, the HTTP server, the compiled binary and the browser page.
 *
 * @example
 * ```ts
 * import { loadRecognizer } from "./mod.ts";
 * const ner = await loadRecognizer(new URL("./fixtures/ner-tiny/", import.meta.url), { provider: "cpu" });
 * const text = "어제 강남역에서 민수랑 만났어 😀";
 * const entities = await ner.recognize(text);
 * for (const e of entities) {
 *   if (text.slice(e.start, e.end) !== e.text) throw new Error("offsets index the input string");
 * }
 * const batch = await ner.recognize([text, "", "오늘 서울"]);
 * if (batch.length !== 3 || batch[1].length !== 0) throw new Error("one list per text");
 * await ner.release();
 * ```
 * @module
 */

// Inference (issue 8).
export {
  defaultProvider,
  type DetailedRecognition,
  type Entity,
  type LoadOptions,
  loadRecognizer,
  type ModelInfo,
  NerPipeline,
  type PipelineOptions,
  type RunStats,
  type TokenLabel,
  wellFormed,
} from "./infer/pipeline.ts";
export {
  folderUrl,
  type InferenceMeta,
  type LoadedModelFolder,
  memorySource,
  type ModelSource,
  readModelFolder,
  urlSource,
} from "./infer/model_folder.ts";
export { inferenceFolderFiles, type InferenceFolderInput } from "./infer/model_folder_files.ts";
export { WordPieceTokenizer } from "./infer/tokenizer.ts";
export { convertOffsets, OFFSET_UNITS, type OffsetUnit } from "./infer/offsets.ts";
export type { Encoding } from "./infer/encoding.ts";
export {
  decodeEntities,
  type EntitySpan,
  getEntities,
  hasLetterOrDigit,
  type LabelMode,
  type LabelUnit,
  labelUnits,
  type SymbolEntities,
} from "./infer/decode.ts";
export { viterbi } from "./infer/crf.ts";
export { constrainedDecoder, type Decoding, labelDecoder, windowLabels } from "./infer/window_labels.ts";
export { float16Weights, int8Compute, int8Weights } from "./onnx/quantize.ts";
export { openSession, type Provider, type Session, type SessionOptions } from "./onnx/runtime.ts";
export type { Tensor } from "./onnx/tensor.ts";

// ---------------------------------------------------------------------------------------------------
// Other areas add their re-exports below (one block each; keep this file free of logic):
// - training / fine-tuning entry points (train/)
// - evaluation and metrics (train/evaluate/metrics.ts)
// - dataset readers, vocabulary training, export to/from Hugging Face folders
// ---------------------------------------------------------------------------------------------------
