/**
 * Stage 3, pretraining: ELECTRA replaced-token-detection pretraining on the shards (`deno task pretrain`), its
 * configuration and graph builder, skip-gram word-piece embeddings (`deno task embeddings`), and the fixed
 * fine-tuning probe that scores an encoder or a pretraining run's checkpoints (`deno task probe`).
 * @module
 */
export * from "./checkpoint_folder.ts";
export * from "./embeddings.ts";
export * from "./embeddings_folder.ts";
export * from "./pretrain.ts";
export * from "./pretrain_config.ts";
export * from "./pretrain_eval.ts";
export * from "./pretrain_model.ts";
export * from "./probe.ts";
