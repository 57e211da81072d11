import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { trainWordPiece, vocabToText, WordCounter } from "../../../train/corpus/vocab.ts";
import { WordPieceTokenizer } from "../../../infer/tokenizer.ts";
import { LineCleaner, readCorpora } from "../../../train/corpus/corpus.ts";

const corpusDir = fileURLToPath(new URL("../../../fixtures/tokenizer/corpus/", import.meta.url));

async function fixtureCounts(): Promise<Map<string, number>> {
  const counter = new WordCounter();
  const cleaner = new LineCleaner();
  for await (const t of readCorpora([corpusDir], { onIssue: () => {} })) {
    const line = cleaner.clean(t.text);
    if (line) counter.add(line);
  }
  return counter.counts;
}

Deno.test("trainWordPiece() merges the most frequent pair first, ties to smaller ids", () => {
  const counts = new Map([["aab", 3], ["ab", 2], ["b", 1]]);
  // Pairs: (a,##a)=3 and (##a,##b)=3 tie → (a,##a) has the smaller ids; then (aa,##b)=3; then (a,##b)=2.
  assert.deepEqual(trainWordPiece(counts, { vocabSize: 12, minFrequency: 1 }), [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "a",
    "b",
    "##a",
    "##b",
    "aa",
    "aab",
    "ab",
  ]);
  // Pairs seen fewer than minFrequency times are never merged, even with room left.
  assert.deepEqual(trainWordPiece(counts, { vocabSize: 100, minFrequency: 3 }).slice(9), ["aa", "aab"]);
});

Deno.test("trainWordPiece() puts special tokens and [unusedN] first", () => {
  const v = trainWordPiece(new Map([["가나", 2]]), { vocabSize: 11, unused: 2 });
  assert.deepEqual(v.slice(0, 7), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]"]);
  assert.deepEqual(v.slice(7), ["가", "나", "##나", "가나"]);
});

Deno.test("trainWordPiece() keeps the alphabet within limitAlphabet and the vocabulary size", () => {
  const counts = new Map([["가가가", 10], ["나", 5], ["다", 1]]);
  const v = trainWordPiece(counts, { vocabSize: 50, limitAlphabet: 2 });
  assert.ok(v.includes("가") && v.includes("나") && !v.includes("다"));
  // Room for only three character forms: 가, ##가 and 나, the most frequent ones.
  assert.deepEqual(trainWordPiece(counts, { vocabSize: 8 }).slice(5), ["가", "나", "##가"]);
});

Deno.test("trainWordPiece() is deterministic whatever the order of the word counts", async () => {
  const counts = await fixtureCounts();
  const a = trainWordPiece(counts, { vocabSize: 120, minFrequency: 1 });
  const b = trainWordPiece(counts, { vocabSize: 120, minFrequency: 1 });
  const reversed = new Map([...counts].reverse());
  const c = trainWordPiece(reversed, { vocabSize: 120, minFrequency: 1 });
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  assert.equal(new Set(a).size, a.length, "no duplicate tokens");
});

Deno.test("a trained vocabulary tokenizes its own corpus without [UNK]", async () => {
  const counts = await fixtureCounts();
  const tok = WordPieceTokenizer.fromVocab(
    vocabToText(trainWordPiece(counts, { vocabSize: 400, minFrequency: 1 })),
  );
  const e = tok.encode("어제 강남역에서 민수랑 봤는데 최고😀");
  assert.ok(!e.tokens.includes("[UNK]"), e.tokens.join(" "));
  assert.ok(e.tokens.length <= 12, e.tokens.join(" "));
});

Deno.test("WordCounter prunes the rarest words past maxWords", () => {
  const c = new WordCounter(1000);
  for (let i = 0; i < 5; i++) c.add("자주 나오는 말");
  for (let i = 0; i < 1200; i++) c.add(`희귀${i}`);
  assert.ok(c.counts.size <= 1000);
  assert.equal(c.counts.get("자주"), 5);
  assert.ok(c.pruned > 0 && c.pruneFloor === 1);
});
