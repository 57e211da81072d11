/**
 * Web Worker of `build_data.ts`: tokenizes and packs one chunk of cleaned lines at a time and writes it
 * as a shard (atomically), replying with the chunk's counts.
 * @module
 */

/// <reference lib="deno.worker" />

import { join } from "node:path";
import { buildChunk, type WorkerReply, type WorkerRequest } from "./build_data.ts";
import { writeFileAtomic } from "./shards.ts";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";

let state: { tokenizer: WordPieceTokenizer; outDir: string; seed: number; maxSeqLength: number } | null =
  null;

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const msg = e.data;
  if (msg.type === "init") {
    state = {
      tokenizer: WordPieceTokenizer.fromVocab(msg.vocabText),
      outDir: msg.outDir,
      seed: msg.seed,
      maxSeqLength: msg.maxSeqLength,
    };
    return;
  }
  try {
    if (state === null) throw new Error("chunk before init");
    const { bytes, result } = buildChunk(state.tokenizer, msg.lines, {
      index: msg.index,
      seed: state.seed,
      maxSeqLength: state.maxSeqLength,
    });
    await writeFileAtomic(join(state.outDir, result.file), bytes);
    self.postMessage({ type: "done", result } satisfies WorkerReply);
  } catch (err) {
    self.postMessage(
      { type: "error", index: msg.index, message: (err as Error).message } satisfies WorkerReply,
    );
  }
};
