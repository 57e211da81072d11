import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseConll, writeConll } from "../../../train/ner_data/datasets/conll.ts";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";
import { wordLevelGold, wordLevelWarning } from "../../../train/ner_data/gold_check.ts";

const KLUE = fileURLToPath(new URL("../../../fixtures/finetune/train.tsv", import.meta.url));

Deno.test("wordLevelGold(): KLUE's character-level spans pass; the same data tagged word by word is flagged", async () => {
  const { examples } = await readDataset(KLUE, "klue");
  assert.equal(wordLevelGold(examples), undefined);
  // CoNLL cannot split words: the entities stretch over their whole words, particles included.
  const words = parseConll(writeConll(examples), "words.conll").examples;
  const f = wordLevelGold(words)!;
  assert.ok(f, "word-level gold is flagged");
  assert.equal(f.wholeWords, f.entities);
  assert.ok(f.withParticle >= 0.05 * f.entities && f.examples.length > 0);
  assert.match(
    wordLevelWarning(f),
    /gold labels look word-level: \d+ of \d+ entities span whole words and \d+ end in a particle/,
  );
  assert.equal(wordLevelGold(words.slice(0, 2)), undefined, "too few entities to say");
});
