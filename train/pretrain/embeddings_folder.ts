/**
 * `deno task embeddings` as a function: skip-gram word-piece embeddings (embeddings.ts) trained on pretraining
 * shards and written as an encoder model folder (kind `base`: the trained word embeddings, every other weight
 * random) that fine-tuning and the probe start from, with `embeddings.json`, the run's record.
 * @module
 */
import { join } from "node:path";
import { configFromHf } from "../../onnx/electra/config.ts";
import { keyLinesAt } from "../../onnx/json_lines.ts";
import { readJsonText } from "../util/fs.ts";
import { writeFileAtomic } from "../run/artifacts_io.ts";
import { writeModelFolder } from "../release/hf_folder.ts";
import { openShards } from "../pretrain_data/shards.ts";
import { countTokens, embeddingEncoder, type SkipGramOptions, trainSkipGram } from "./embeddings.ts";

/** The skip-gram settings of `writeEmbeddingFolder` (all given: the record names each). */
export type EmbeddingSettings = Required<Omit<SkipGramOptions, "dim" | "skip" | "onProgress">>;

/** The inputs, the output folder and the skip-gram settings of `writeEmbeddingFolder`. */
export interface EmbeddingFolderOptions extends EmbeddingSettings {
  /** Pretraining shards (`deno task build-data`). */
  data: string;
  /** The shards' vocabulary, copied into the folder; `[..]` tokens are not trained. */
  vocab: string;
  /** Hugging Face config.json of the encoder (`embedding_size` is the vector width). */
  config: string;
  /** The model folder written: config.json, model.safetensors, vocab.txt, embeddings.json. */
  out: string;
  /** Train on the first N examples only (default: all). */
  maxExamples?: number;
  /** Progress lines (`1.2M / 3.4M tokens, 56789 tokens/s`). */
  log?: (message: string) => void;
}

/** What `writeEmbeddingFolder` trained on, how long it took and with which settings (`embeddings.json`). */
export interface EmbeddingRecord {
  data: string;
  examples: number;
  tokens: number;
  seconds: number;
  options: { dim: number } & EmbeddingSettings;
}

/** Trains the embeddings and writes the encoder folder `o.out`; returns the record it writes beside them. */
export async function writeEmbeddingFolder(o: EmbeddingFolderOptions): Promise<EmbeddingRecord> {
  const doc = await readJsonText(o.config, "model config");
  const config = configFromHf(doc.json, o.config, keyLinesAt(doc));
  const vocabText = await Deno.readTextFile(o.vocab);
  const tokens = vocabText.split(/\r?\n/);
  if (tokens.at(-1) === "") tokens.pop();
  if (tokens.length > config.vocabSize) {
    throw new Error(
      `"${o.vocab}" has ${tokens.length} tokens, more than the config's vocab_size ${config.vocabSize}`,
    );
  }
  const skip = new Set(tokens.flatMap((t, i) => (/^\[[A-Z]+\]$/.test(t) ? [i] : [])));
  const set = await openShards(o.data);
  const n = o.maxExamples === undefined ? set.length : Math.min(set.length, o.maxExamples);
  const sequences = function* () {
    for (let i = 0; i < n; i++) {
      const e = set.get(i);
      yield e.inputIds.subarray(0, e.length);
    }
  };
  const t0 = performance.now();
  const counts = countTokens(sequences(), config.vocabSize);
  const { epochs, window, negatives, learningRate, subsample, seed } = o;
  const options = { dim: config.embeddingSize, epochs, window, negatives, learningRate, subsample, seed };
  const vectors = trainSkipGram(sequences, counts, {
    ...options,
    skip,
    onProgress: (done, total) => {
      const s = (performance.now() - t0) / 1000;
      o.log?.(
        `${(done / 1e6).toFixed(1)}M / ${(total / 1e6).toFixed(1)}M tokens, ${Math.round(done / s)} tokens/s`,
      );
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const weights = embeddingEncoder(config, vectors, options.seed);
  await writeModelFolder({ kind: "base", config, weights }, o.out);
  await writeFileAtomic(join(o.out, "vocab.txt"), new TextEncoder().encode(vocabText));
  const tokensSeen = counts.reduce((a, c) => a + c, 0);
  const record = { data: o.data, examples: n, tokens: tokensSeen, seconds, options };
  await writeFileAtomic(
    join(o.out, "embeddings.json"),
    new TextEncoder().encode(JSON.stringify(record, null, 2) + "\n"),
  );
  return record;
}
