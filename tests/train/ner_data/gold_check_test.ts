import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConll, writeConll } from "../../../train/ner_data/datasets/conll.ts";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";
import { wordLevelGold, wordLevelWarning } from "../../../train/ner_data/gold_check.ts";
import { main } from "../../../cli/eval.ts";

const KLUE = fileURLToPath(new URL("../../../fixtures/finetune/train.tsv", import.meta.url));
const TINY = fileURLToPath(new URL("../../../fixtures/ner-tiny/", import.meta.url));

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

Deno.test("deno task eval warns on word-level gold, not on KLUE TSV", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-gold-" });
  const err = console.error, log = console.log;
  try {
    const { examples } = await readDataset(KLUE, "klue");
    await Deno.writeTextFile(join(dir, "words.conll"), writeConll(examples));
    const run = async (data: string) => {
      const lines: string[] = [];
      console.error = (m: string) => lines.push(String(m));
      console.log = () => {};
      assert.equal(await main(["--model", TINY, "--data", data]), 0);
      console.error = err;
      console.log = log;
      return lines.join("\n");
    };
    assert.match(await run(`conll:${join(dir, "words.conll")}`), /warning: the gold labels look word-level/);
    assert.doesNotMatch(await run(`klue:${KLUE}`), /word-level/);
  } finally {
    console.error = err;
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});
