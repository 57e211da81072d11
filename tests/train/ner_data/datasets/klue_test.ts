import assert from "node:assert/strict";
import { parseKlue, readKlue, writeKlue } from "../../../../train/ner_data/datasets/klue.ts";
import type { NerExample } from "../../../../train/ner_data/datasets/types.ts";

const fixture = new URL("../../../../fixtures/datasets/klue_sample.tsv", import.meta.url);

Deno.test("readKlue() reads ids, characters (emoji included) and entities", async () => {
  const { examples, warnings } = await readKlue(fixture.pathname);
  assert.deepEqual(warnings, []);
  assert.equal(examples.length, 2);
  const [a, b] = examples;
  assert.equal(a.id, "test-00000-nsmc");
  assert.equal(a.text, "민수랑 어제 봤어 😀 2번");
  // 😀 is two UTF-16 units, so "2번" starts at 13, not 12.
  assert.deepEqual(a.entities, [
    { type: "PS", start: 0, end: 2 },
    { type: "DT", start: 4, end: 6 },
    { type: "QT", start: 13, end: 15 },
  ]);
  assert.equal(a.text.slice(13, 15), "2번");
  assert.deepEqual(b.entities.map((e) => [e.type, b.text.slice(e.start, e.end)]), [["OG", "서울시"], [
    "TI",
    "오후 3시",
  ]]);
});

Deno.test("readKlue() reports the line of a bad tag", () => {
  const text = "## x-1\t<민수:PS>\n민\tB-PS\n수\tI-PERSON!\n";
  assert.throws(() => parseKlue(text, "x.tsv"), {
    message: `Cannot parse line 3 of "x.tsv": expected a tag like O, B-PS or I-PS, found "I-PERSON!"`,
  });
});

Deno.test("readKlue() reports a character line without a tab", () => {
  assert.throws(() => parseKlue("## x-1\t민\n민 O\n", "x.tsv"), {
    message: `Cannot parse line 2 of "x.tsv": expected "character<TAB>tag", found no tab`,
  });
});

Deno.test("readKlue() reports characters before any header", () => {
  assert.throws(() => parseKlue("민\tO\n", "x.tsv"), {
    message: `Cannot parse line 1 of "x.tsv": expected a "## id<TAB>sentence" line before the characters`,
  });
});

Deno.test("readKlue() warns when markup and tags disagree and uses the tags", () => {
  // KLUE dev 02824 has this shape: the tags put "<" inside the entity, the markup does not.
  const text = "## x-1\t<<10:QT>>점\n<\tB-QT\n1\tI-QT\n0\tI-QT\n>\tO\n점\tO\n\n## x-2\t가\n가\tI-PS\n";
  const { examples, warnings } = parseKlue(text, "x.tsv");
  assert.deepEqual(examples[0].entities, [{ type: "QT", start: 0, end: 3 }]);
  assert.deepEqual(warnings.map((w) => [w.line, w.code]), [[1, "markup-differs"], [9, "tag-repaired"], [
    8,
    "markup-differs",
  ]]);
  assert.deepEqual(examples[1].entities, [{ type: "PS", start: 0, end: 1 }]);
});

Deno.test("writeKlue() → parseKlue() round-trips, emoji and spaces included", () => {
  const examples: NerExample[] = [
    {
      id: "a",
      text: "민수랑 😀 서울 갔다",
      entities: [{ type: "PS", start: 0, end: 2 }, { type: "LC", start: 7, end: 9 }],
    },
    { id: "b", text: "오후 3시", entities: [{ type: "TI", start: 0, end: 5 }] },
  ];
  const text = writeKlue(examples);
  assert.ok(text.startsWith("## a\t<민수:PS>랑 😀 <서울:LC> 갔다\n민\tB-PS\n"));
  const back = parseKlue(text, "w.tsv");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples, examples);
});
