/**
 * Stage 6, evaluation: entity-level scores of a tagger on gold data (seqeval-compatible metrics, confusion
 * tables, error lists, the paired bootstrap of two models; `deno task eval`) and training curves drawn as SVG (`deno task plot`).
 * @module
 */
export * from "./bootstrap.ts";
export * from "./evaluate.ts";
export * from "./evaluate_files.ts";
export * from "./metrics.ts";
export * from "./plot.ts";
