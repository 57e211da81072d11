import assert from "node:assert/strict";
import { parseNikl, readNikl, writeNikl } from "../../../../train/ner_data/datasets/nikl.ts";

const fixture = new URL("../../../../fixtures/datasets/nikl_sample.json", import.meta.url);

Deno.test("readNikl() reads sentences, keeps sub-type labels and repairs offsets with warnings", async () => {
  const { examples, warnings } = await readNikl(fixture.pathname);
  assert.equal(examples.length, 3);
  const [a, b, c] = examples;
  assert.equal(a.id, "NWRW1800000022.417.1.1");
  assert.deepEqual(a.entities.map((e) => [e.type, a.text.slice(e.start, e.end)]), [
    ["PS_NAME", "김민수"],
    ["DT_DAY", "어제"],
    ["OGG_POLITICS", "부산시청"],
    ["TI_DURATION", "2시간"],
  ]);
  // Offsets 6..8 are code points after the emoji; in JS indices "서울" is at 7..9.
  assert.deepEqual(b.entities, [{ type: "LC", start: 7, end: 9 }]);
  // "삼성전자" is found at 0 rather than 1; "애플" is not in the sentence and is reported.
  assert.deepEqual(c.entities, [{ type: "OG", start: 0, end: 4 }]);
  assert.deepEqual(warnings.map((w) => [w.line, w.code]), [[22, "code-point-offsets"], [
    29,
    "offsets-repaired",
  ], [30, "entity-not-found"]]);
});

Deno.test("readNikl() reports the line of a malformed NE and of broken JSON", () => {
  const bad =
    `{"document": [{"id": "d", "sentence": [\n  {"id": "s", "form": "가나", "NE": [\n    {"form": "가", "label": "PS", "begin": "0", "end": 1}\n  ]}\n]}]}`;
  assert.throws(() => parseNikl(bad, "n.json"), {
    message:
      `Cannot parse line 3 of "n.json": expected an NE with string "label" and numeric "begin" and "end" in sentence "s"`,
  });
  assert.throws(() => parseNikl(`{"document": [\n  {"sentence": []},\n  oops\n]}`, "n.json"), {
    message: `Cannot parse line 3 of "n.json": unexpected "o" (invalid JSON)`,
  });
  assert.throws(() => parseNikl(`{"documents": []}`, "n.json"), {
    message: `Cannot parse line 1 of "n.json": expected an object with a "document" array (NIKL NER JSON)`,
  });
});

Deno.test("writeNikl() → parseNikl() round-trips", () => {
  const examples = [{ id: "s1", text: '😀 민수 "안녕"', entities: [{ type: "PS", start: 3, end: 5 }] }];
  const back = parseNikl(writeNikl(examples), "w.json");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples, examples);
});
