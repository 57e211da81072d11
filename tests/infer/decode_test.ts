import assert from "node:assert/strict";
import { argmaxWithProb, checkMinScore, decodeEntities, hasLetterOrDigit } from "../../infer/decode.ts";
import { alignLabels, labelsFor } from "../../train/ner_data/align.ts";
import { ENC, TEXT } from "../train/ner_data/align_cases.ts";

const labels = labelsFor(["PS", "LC"]); // O B-LC I-LC B-PS I-PS
const id = (tags: string[]) => tags.map((t) => labels.indexOf(t));

Deno.test("decodeEntities() inverts all-subwords alignment, emoji included", () => {
  const gold = [{ type: "PS", start: 0, end: 2 }, { type: "LC", start: 7, end: 10 }];
  const ids = alignLabels(ENC, gold, { labels }).map((i) => (i < 0 ? 0 : i));
  const probs = [1, 0.9, 1, 1, 0.8, 0.6, 1, 1, 1, 1];
  const spans = decodeEntities(TEXT, ENC, ids, probs, { labels });
  assert.deepEqual(spans.map((s) => [s.type, s.start, s.end, s.text]), [["PS", 0, 2, "민수"], [
    "LC",
    7,
    10,
    "강남역",
  ]]);
  assert.ok(Math.abs(spans[0].score - 0.9) < 1e-12);
  assert.ok(Math.abs(spans[1].score - 0.7) < 1e-12); // mean of 0.8 and 0.6
});

Deno.test("decodeEntities() minScore leaves out entities whose mean unit probability is below it", () => {
  const gold = [{ type: "PS", start: 0, end: 2 }, { type: "LC", start: 7, end: 10 }];
  const ids = alignLabels(ENC, gold, { labels }).map((i) => (i < 0 ? 0 : i));
  const probs = [1, 0.9, 1, 1, 0.8, 0.6, 1, 1, 1, 1]; // PS scores 0.9, LC (0.8 + 0.6) / 2 = 0.7
  const texts = (minScore?: number) =>
    decodeEntities(TEXT, ENC, ids, probs, { labels, minScore }).map((s) => s.text);
  assert.deepEqual(texts(), ["민수", "강남역"]);
  assert.deepEqual(texts(0), ["민수", "강남역"]);
  assert.deepEqual(texts(0.65), ["민수", "강남역"]);
  assert.deepEqual(texts(0.75), ["민수"]);
  assert.deepEqual(texts(0.9), ["민수"]); // a score equal to the floor stays
  assert.deepEqual(texts(0.95), []);
  // first-subword: a word's score is its first sub-word's probability (민수랑 0.5, 강남역에서 0.7).
  const first = id(["O", "B-PS", "B-PS", "O", "B-LC", "I-PS", "O", "O", "I-PS", "O"]);
  const p2 = [1, 0.5, 0.1, 1, 0.7, 0.1, 0.1, 1, 0.1, 1];
  const kept = decodeEntities(TEXT, ENC, first, p2, { labels, mode: "first-subword", minScore: 0.6 });
  assert.deepEqual(kept.map((s) => [s.type, s.text]), [["LC", "강남역에서"]]);
  assert.throws(() => checkMinScore(-0.1, "minScore"), /minScore must be a number from 0 to 1, got -0.1/);
  assert.throws(() => checkMinScore("0.5", "minScore"), /got "0.5"/);
});

Deno.test("decodeEntities() first-subword: continuation tokens follow their word's label", () => {
  // Only first sub-words matter; the others' predictions (here I-PS and B-PS noise) are ignored.
  const ids = id(["O", "B-PS", "B-PS", "O", "B-LC", "I-PS", "O", "O", "I-PS", "O"]);
  const probs = [1, 0.5, 0.1, 1, 0.7, 0.1, 0.1, 1, 0.1, 1];
  const spans = decodeEntities(TEXT, ENC, ids, probs, { labels, mode: "first-subword" });
  // The whole words: first-subword mode cannot end 민수 before 랑.
  assert.deepEqual(spans.map((s) => [s.type, s.text, s.score]), [["PS", "민수랑", 0.5], [
    "LC",
    "강남역에서",
    0.7,
  ]]);
});

Deno.test("decodeEntities() repairs ill-formed BIO as seqeval does and ignores special tokens", async (t) => {
  await t.step("I- without B- starts an entity; a type change splits", () => {
    const ids = id(["O", "I-PS", "O", "O", "I-LC", "I-PS", "I-PS", "O", "O", "O"]);
    const spans = decodeEntities(TEXT, ENC, ids, undefined, { labels });
    assert.deepEqual(spans.map((s) => [s.type, s.text]), [["PS", "민수"], ["LC", "강남"], ["PS", "역에서"]]);
  });
  await t.step("labels on [CLS]/[SEP] are not entities", () => {
    const ids = id(["B-PS", "O", "O", "O", "O", "O", "O", "O", "O", "B-LC"]);
    assert.deepEqual(decodeEntities(TEXT, ENC, ids, undefined, { labels }), []);
  });
  await t.step("BIOES", () => {
    const bioes = labelsFor(["PS", "LC"], "BIOES");
    const ids = ["O", "S-PS", "O", "O", "B-LC", "E-LC", "S-LC", "O", "O", "O"].map((t) => bioes.indexOf(t));
    const spans = decodeEntities(TEXT, ENC, ids, undefined, { labels: bioes });
    assert.deepEqual(spans.map((s) => [s.type, s.text]), [["PS", "민수"], ["LC", "강남역"], ["LC", "에서"]]);
  });
});

Deno.test("decodeEntities() trims whitespace that token offsets include", () => {
  const enc = { ...ENC, offsets: ENC.offsets.map((o, i) => (i === 4 ? [6, 9] : o) as [number, number]) };
  const ids = id(["O", "O", "O", "O", "B-LC", "I-LC", "O", "O", "O", "O"]);
  assert.deepEqual(decodeEntities(TEXT, enc, ids, undefined, { labels }).map((s) => [s.start, s.text]), [[
    7,
    "강남역",
  ]]);
});

Deno.test("argmaxWithProb() returns the best label and its softmax probability", () => {
  const { ids, probs } = argmaxWithProb([0, Math.log(3), 5, 5], 2);
  assert.deepEqual(ids, [1, 0]);
  assert.ok(Math.abs(probs[0] - 0.75) < 1e-12);
  assert.ok(Math.abs(probs[1] - 0.5) < 1e-12);
});

Deno.test("hasLetterOrDigit(): syllables, Latin, Han, digits count; Hangul jamo, emoji and punctuation do not", () => {
  for (const t of ["민수", "BTS", "서울大", "3시", "ㅋㅋ민수", "ㄱ1", "é", "٣"]) {
    assert.ok(hasLetterOrDigit(t), t);
  }
  // Compatibility jamo (ㅋ U+314B), conjoining jamo (ᄏ U+110F, ᅡ U+1161), extended-A (ꥠ U+A960), emoji, symbols.
  for (
    const t of ["ㅋㅋㅋ", "ㅇㅋ", "ㅠㅠ", "\u110F\u1161", "\uA960", "😂😂", "💕", "^^;", "!!! ???", "", "  "]
  ) {
    assert.ok(!hasLetterOrDigit(t), JSON.stringify(t));
  }
});
