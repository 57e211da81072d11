/**
 * Stage 7, release: model folders to and from Hugging Face's layout (`deno task export`), reading a folder's
 * weights whatever their origin (ours, Hugging Face, quantised) for training and export, and the model card
 * written beside a shipped model (`deno task model-card`).
 * @module
 */
export * from "./hf_folder.ts";
export * from "./model_card.ts";
export * from "./weights_folder.ts";
