/**
 * Stage 1, corpus and vocabulary: reading raw text corpora line by line (with bad lines reported) and
 * training the WordPiece vocabulary on them (`deno task vocab`).
 * @module
 */
export * from "./corpus.ts";
export * from "./vocab.ts";
export * from "./vocab_files.ts";
