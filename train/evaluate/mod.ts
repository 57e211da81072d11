/**
 * Stage 6, evaluation: entity-level scores of a tagger on gold data (seqeval-compatible metrics, confusion
 * tables, error lists; `deno task eval`) and training curves drawn as SVG (`deno task plot`).
 * @module
 */
export * from "./evaluate.ts";
export * from "./evaluate_files.ts";
export * from "./metrics.ts";
export * from "./plot.ts";
