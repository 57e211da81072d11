/**
 * Stage 7, release: reading a model folder's weights whatever their origin (ours, Hugging Face, quantised) for
 * training and export, and the model card written beside a shipped model (`deno task model-card`).
 * @module
 */
export * from "./model_card.ts";
export * from "./weights_folder.ts";
