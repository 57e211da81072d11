/**
 * ELECTRA in ONNX graphs: config (HF `config.json`), parameter init, embeddings, post-LN encoder,
 * generator/discriminator/classifier heads, the replaced-token-detection pretraining graph, the
 * token-classification graph (HF/Optimum I/O), and weight exchange with Hugging Face folders.
 * Linear weights are stored (in, out) in the graph under HF names; `hf.ts` transposes at the boundary.
 *
 * @example
 * ```ts
 * import { buildTokenClassificationGraph, electraConfig } from "./mod.ts";
 * const config = electraConfig({ vocabSize: 100, numHiddenLayers: 1, hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 });
 * const g = buildTokenClassificationGraph({ config, numLabels: 3 });
 * if (g.outputs[0].name !== "logits") throw new Error("unexpected output");
 * ```
 * @module
 */
export * from "./config.ts";
export * from "./init.ts";
export * from "./embeddings.ts";
export * from "./encoder.ts";
export * from "./fused_attention.ts";
export * from "./heads.ts";
export * from "./pretraining.ts";
export * from "./masked_lm.ts";
export * from "./token_classification.ts";
export * from "./hf.ts";
