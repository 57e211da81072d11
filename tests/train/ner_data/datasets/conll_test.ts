import assert from "node:assert/strict";
import { parseConll, readConll, writeConll } from "../../../../train/ner_data/datasets/conll.ts";
import type { DatasetWarning } from "../../../../train/ner_data/datasets/types.ts";

const fixture = new URL("../../../../fixtures/datasets/conll_sample.txt", import.meta.url);

Deno.test("readConll() skips -DOCSTART- and reads multi-column lines", async () => {
  const { examples, warnings } = await readConll(fixture.pathname);
  assert.deepEqual(warnings, []);
  assert.equal(examples.length, 2);
  assert.equal(examples[0].text, "EU rejects German call to boycott British lamb .");
  assert.deepEqual(examples[0].entities, [
    { type: "ORG", start: 0, end: 2 },
    { type: "MISC", start: 11, end: 17 },
    { type: "MISC", start: 34, end: 41 },
  ]);
  assert.deepEqual(examples[1].entities, [{ type: "PER", start: 0, end: 15 }]);
});

Deno.test("readConll() reports the line of a bad tag", () => {
  assert.throws(() => parseConll("EU B-ORG\nrejects X\n", "c.txt"), {
    message: `Cannot parse line 2 of "c.txt": expected a tag like O, B-PER or I-PER, found "X"`,
  });
  assert.throws(() => parseConll("\n\nEU\n", "c.txt"), {
    message: `Cannot parse line 3 of "c.txt": expected "token tag", found one column`,
  });
});

Deno.test("readConll() reads I- without B- as seqeval does, with a warning", () => {
  const r = parseConll("a I-PER\nb I-LOC\nc B-LOC\n", "c.txt");
  assert.deepEqual(r.examples[0].entities.map((e) => e.type), ["PER", "LOC", "LOC"]);
  assert.deepEqual(r.warnings.map((w) => [w.line, w.code]), [[1, "tag-repaired"], [2, "tag-repaired"]]);
});

Deno.test("writeConll() → parseConll() round-trips and reports entities inside words", () => {
  const examples = [
    {
      id: "1",
      text: "Peter Blackburn met EU",
      entities: [{ type: "PER", start: 0, end: 15 }, { type: "ORG", start: 20, end: 22 }],
    },
    { id: "2", text: "a b", entities: [{ type: "X", start: 0, end: 1 }, { type: "X", start: 2, end: 3 }] },
  ];
  const back = parseConll(writeConll(examples), "w.txt");
  assert.deepEqual(back.examples, examples);
  const warnings: DatasetWarning[] = [];
  const text = writeConll(
    [{ id: "k", text: "민수랑 갔다", entities: [{ type: "PS", start: 0, end: 2 }] }],
    warnings,
  );
  assert.equal(text, "민수랑 B-PS\n갔다 O\n\n");
  assert.deepEqual(warnings.map((w) => [w.file, w.code]), [["k", "word-split"]]);
});
