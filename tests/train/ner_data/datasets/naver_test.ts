import assert from "node:assert/strict";
import { parseNaver, readNaver, writeNaver } from "../../../../train/ner_data/datasets/naver.ts";

const fixture = new URL("../../../../fixtures/datasets/naver_sample.txt", import.meta.url);

Deno.test("readNaver() joins words with spaces and tags whole words", async () => {
  const { examples, warnings } = await readNaver(fixture.pathname);
  assert.deepEqual(warnings, []);
  assert.equal(examples.length, 2);
  const b = examples[1];
  assert.equal(b.text, "이 음경동맥의 직경이 8 19mm입니다 .");
  assert.deepEqual(b.entities.map((e) => [e.type, b.text.slice(e.start, e.end)]), [["ORG", "음경동맥의"], [
    "NUM",
    "8 19mm입니다",
  ]]);
  assert.deepEqual(examples[0].entities.map((e) => e.type), ["PER", "DAT", "ORG", "CVL"]);
});

Deno.test("readNaver() reports the line of a bad tag or a missing column", async (t) => {
  await t.step("bad tag", () => {
    assert.throws(() => parseNaver("1\t가\t-\n2\t나\tPER-B\n", "n.txt"), {
      message: `Cannot parse line 2 of "n.txt": expected a tag like PER_B, ORG_I or -, found "PER-B"`,
    });
  });
  await t.step("two columns", () => {
    assert.throws(() => parseNaver("1\t가\n", "n.txt"), {
      message: `Cannot parse line 1 of "n.txt": expected "index<TAB>word<TAB>tag", found 2 column(s)`,
    });
  });
});

Deno.test("readNaver() warns on index gaps, unknown types and I without B", () => {
  const r = parseNaver("1\t가\tPER_I\n3\t나\tXYZ_B\n1\t다\t-\n", "n.txt");
  assert.deepEqual(r.warnings.map((w) => [w.line, w.code]), [[1, "tag-repaired"], [2, "index"], [
    2,
    "unknown-type",
  ], [3, "no-blank-line"]]);
  assert.equal(r.examples.length, 2);
  assert.deepEqual(r.examples[0].entities, [{ type: "PER", start: 0, end: 1 }, {
    type: "XYZ",
    start: 2,
    end: 3,
  }]);
});

Deno.test("writeNaver() → parseNaver() round-trips word-aligned entities", () => {
  const examples = [{
    id: "1",
    text: "민수랑 서울 시청 갔다",
    entities: [{ type: "PER", start: 0, end: 3 }, { type: "LOC", start: 4, end: 9 }],
  }];
  const back = parseNaver(writeNaver(examples), "w.txt");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples, examples);
});
