/**
 * Stage 7, release: model folders to and from Hugging Face's layout (`deno task export`), reading a folder's
 * weights whatever their origin (ours, Hugging Face, quantised) for training and export, the model card
 * written beside a shipped model (`deno task model-card`), quantised copies (`deno task quantize`), the
 * bundle a compiled binary carries (`deno task compile`) and the built browser page (`deno task web`).
 * @module
 */
export * from "./bundle.ts";
export * from "./hf_folder.ts";
export * from "./model_card.ts";
export * from "./model_card_files.ts";
export * from "./quantize_folder.ts";
export * from "./web_page.ts";
export * from "./weights_folder.ts";
