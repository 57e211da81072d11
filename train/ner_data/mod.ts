/**
 * Stage 4, NER data: dataset readers and writers (`datasets/`), tag-set maps, fixed splits, gold-data checks,
 * guideline harmonisation, augmentation and noise for spoken Korean, pseudo-labelled silver data, and the
 * alignment of entity spans to token labels and length-bucketed batches that fine-tuning and evaluation feed.
 * @module
 */
export * from "./align.ts";
export * from "./augment.ts";
export * from "./augment_files.ts";
export * from "./colloquial.ts";
export * from "./features.ts";
export * from "./gold_check.ts";
export * from "./harmonize.ts";
export * from "./harmonize_files.ts";
export * from "./label_map.ts";
export * from "./noise.ts";
export * from "./pseudo_label.ts";
export * from "./pseudo_label_files.ts";
export * from "./split.ts";
export * from "./datasets/mod.ts";
export * from "./sources.ts";
