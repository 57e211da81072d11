/**
 * Stage 2, pretraining data: corpus lines packed into ELECTRA pretraining examples and stored as binary
 * shards (`deno task build-data`), and ELECTRA's input masking of those examples at each step.
 * @module
 */
export * from "./build_data.ts";
export * from "./masking.ts";
export * from "./shards.ts";
