import assert from "node:assert/strict";
import { alignLabels, emptyAlignStats, formatAlignStats, labelsFor } from "../../../train/ner_data/align.ts";
import { ENC } from "./align_cases.ts";

const ENTITIES = [{ type: "PS", start: 0, end: 2 }, { type: "LC", start: 7, end: 10 }];

Deno.test("labelsFor() lists O then B/I (or B/I/E/S) per sorted type", () => {
  assert.deepEqual(labelsFor(["PS", "DT", "PS"], "BIO"), ["O", "B-DT", "I-DT", "B-PS", "I-PS"]);
  assert.deepEqual(labelsFor(["PS"], "BIOES"), ["O", "B-PS", "I-PS", "E-PS", "S-PS"]);
});

Deno.test("alignLabels() all-subwords ends 민수 before the particle 랑 and keeps emoji offsets", () => {
  const labels = labelsFor(["PS", "LC"]); // O B-LC I-LC B-PS I-PS
  const stats = emptyAlignStats();
  const ids = alignLabels(ENC, ENTITIES, { labels, stats });
  assert.deepEqual(ids.map((i) => (i < 0 ? "-" : labels[i])), [
    "-",
    "B-PS",
    "O",
    "O",
    "B-LC",
    "I-LC",
    "O",
    "O",
    "O",
    "-",
  ]);
  assert.deepEqual(stats, {
    entities: 2,
    exact: 2,
    startInside: 0,
    endInside: 0,
    unaligned: 0,
    conflicts: 0,
  });
});

Deno.test("alignLabels() first-subword labels words and counts entities that end inside a word", () => {
  const labels = labelsFor(["PS", "LC"]);
  const stats = emptyAlignStats();
  const ids = alignLabels(ENC, ENTITIES, { labels, mode: "first-subword", stats });
  assert.deepEqual(ids.map((i) => (i < 0 ? "-" : labels[i])), [
    "-",
    "B-PS",
    "-",
    "O",
    "B-LC",
    "-",
    "-",
    "O",
    "-",
    "-",
  ]);
  // 민수 ends inside 민수랑 and 강남역 inside 강남역에서: both are widened to whole words.
  assert.equal(stats.endInside, 2);
  assert.equal(stats.exact, 0);
  assert.match(formatAlignStats(stats), /2 end inside a token \(100\.00%\)/);
});

Deno.test("alignLabels() BIOES uses S- for one token and E- for the last", () => {
  const labels = labelsFor(["PS", "LC"], "BIOES");
  const ids = alignLabels(ENC, ENTITIES, { labels, scheme: "BIOES" });
  assert.deepEqual(ids.map((i) => (i < 0 ? "-" : labels[i])), [
    "-",
    "S-PS",
    "O",
    "O",
    "B-LC",
    "E-LC",
    "O",
    "O",
    "O",
    "-",
  ]);
});

Deno.test("alignLabels() counts boundaries inside tokens, unaligned entities and conflicts", async (t) => {
  const labels = labelsFor(["PS", "LC", "QT"]);
  await t.step("an entity inside one token", () => {
    const stats = emptyAlignStats();
    const ids = alignLabels(ENC, [{ type: "LC", start: 7, end: 8 }], { labels, stats });
    assert.equal(labels[ids[4]], "B-LC"); // the whole token 강남 is labelled
    assert.deepEqual([stats.endInside, stats.startInside, stats.exact], [1, 0, 0]);
  });
  await t.step("an entity on whitespace only, and one past the end", () => {
    const stats = emptyAlignStats();
    alignLabels(ENC, [{ type: "QT", start: 3, end: 4 }, { type: "QT", start: 40, end: 42 }], {
      labels,
      stats,
    });
    assert.equal(stats.unaligned, 2);
  });
  await t.step("two entities in one token", () => {
    const stats = emptyAlignStats();
    const ids = alignLabels(ENC, [{ type: "PS", start: 0, end: 1 }, { type: "QT", start: 1, end: 2 }], {
      labels,
      stats,
    });
    assert.equal(labels[ids[1]], "B-PS");
    assert.equal(stats.conflicts, 1);
  });
  await t.step("an unknown type is an error", () => {
    assert.throws(() => alignLabels(ENC, [{ type: "OG", start: 0, end: 2 }], { labels }), /no label "B-OG"/);
  });
});
