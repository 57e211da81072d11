/**
 * Throughput of the WordPiece tokenizer (characters/s) and of `build-data` (examples/s), on real
 * spoken-Korean text from `../shared/data/corpus` when present, else on the project's fixtures.
 * `deno task bench` calls `benchTokenizer` and `benchBuildData`; `deno run -A bench/tokenizer_bench.ts`
 * runs both and prints JSON.
 * @module
 */

import { WordPieceTokenizer } from "../infer/tokenizer.ts";
import { LineCleaner, readCorpusFile } from "../train/corpus/corpus.ts";
import { trainWordPiece, vocabToText, WordCounter } from "../train/corpus/vocab.ts";
import { buildPretrainingData } from "../train/pretrain_data/build_data.ts";

const NSMC = new URL("../../shared/data/corpus/nsmc_reviews.txt", import.meta.url);
const FIXTURES = new URL("../fixtures/tokenizer/corpus/nsmc_reviews.txt", import.meta.url);
const TRAINED_VOCAB = new URL("../runs/vocab/vocab.txt", import.meta.url);

/** Up to `n` cleaned lines of benchmark text (real reviews when available, fixtures repeated otherwise). */
async function benchLines(n: number): Promise<string[]> {
  const cleaner = new LineCleaner({ dedupe: false });
  const out: string[] = [];
  const source = await Deno.stat(NSMC).then(() => NSMC, () => FIXTURES);
  while (out.length < n) {
    const before = out.length;
    for await (const t of readCorpusFile(source.pathname, { format: "text", onIssue: () => {} })) {
      const line = cleaner.clean(t.text);
      if (line) out.push(line);
      if (out.length >= n) break;
    }
    if (out.length === before) break;
  }
  return out;
}

/** The trained 35k vocabulary when `deno task vocab` has made one, else one trained here on the bench text. */
async function benchVocab(lines: string[]): Promise<string> {
  try {
    return await Deno.readTextFile(TRAINED_VOCAB);
  } catch {
    const counter = new WordCounter();
    for (const l of lines) counter.add(l);
    return vocabToText(trainWordPiece(counter.counts, { vocabSize: 16000 }));
  }
}

/** Tokenizer throughput: characters/s with offsets (`encode`) and ids only (`encodeIds`), cold and warm cache. */
export async function benchTokenizer(): Promise<Record<string, number>> {
  const lines = await benchLines(50000);
  const vocabText = await benchVocab(lines);
  const chars = lines.reduce((s, l) => s + l.length, 0);
  const time = (f: () => void) => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) / 1000;
  };
  let tokens = 0;
  const cold = WordPieceTokenizer.fromVocab(vocabText);
  const coldS = time(() => {
    for (const l of lines) tokens += cold.encode(l).ids.length;
  });
  const encodeS = time(() => {
    for (const l of lines) cold.encode(l);
  });
  const idsS = time(() => {
    const out: number[] = [];
    for (const l of lines) {
      out.length = 0;
      cold.encodeIds(l, out);
    }
  });
  return {
    tokenizer_lines: lines.length,
    tokenizer_chars: chars,
    tokenizer_encode_cold_chars_per_s: Math.round(chars / coldS),
    tokenizer_encode_chars_per_s: Math.round(chars / encodeS),
    tokenizer_encode_tokens_per_s: Math.round(tokens / encodeS),
    tokenizer_encode_ids_chars_per_s: Math.round(chars / idsS),
  };
}

/** build-data throughput on 100k lines with one and with two workers (examples/s and tokens/s). */
export async function benchBuildData(): Promise<Record<string, number>> {
  const lines = await benchLines(100000);
  const vocabText = await benchVocab(lines);
  const dir = await Deno.makeTempDir({ prefix: "nersota-bench-" });
  try {
    const corpus = `${dir}/bench_corpus.txt`;
    await Deno.writeTextFile(corpus, lines.join("\n") + "\n");
    const out: Record<string, number> = { build_data_lines: lines.length };
    for (const workers of [1, 2]) {
      const s = await buildPretrainingData({
        corpus: [corpus],
        vocabText,
        outDir: `${dir}/out${workers}`,
        numProcesses: workers,
        dedupe: false,
      });
      out[`build_data_w${workers}_examples_per_s`] = s.examplesPerSecond;
      out[`build_data_w${workers}_tokens_per_s`] = Math.round(s.tokens / s.seconds);
      out[`build_data_w${workers}_lines_per_s`] = Math.round(lines.length / s.seconds);
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  console.log(JSON.stringify({ ...(await benchTokenizer()), ...(await benchBuildData()) }, null, 2));
}
