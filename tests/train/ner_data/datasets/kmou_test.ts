import assert from "node:assert/strict";
import { parseKmou, readKmou, writeKmou } from "../../../../train/ner_data/datasets/kmou.ts";

const dir = new URL("../../../../fixtures/datasets/", import.meta.url);

Deno.test("readKmou() takes entities from the marked line and checks the rest", async () => {
  const { examples, warnings } = await readKmou(new URL("kmou_sample.txt", dir).pathname);
  assert.equal(examples.length, 3);
  const [a, b, c] = examples;
  assert.equal(a.id, "kmou_sample:1");
  assert.equal(a.text, "민수는 서울에서 3일 동안 머물렀다.");
  assert.deepEqual(a.entities.map((e) => [e.type, a.text.slice(e.start, e.end)]), [["PER", "민수"], [
    "LOC",
    "서울",
  ], ["DUR", "3일"]]);
  // Sentence 2: the raw line has a double space the marked line lacks; "<긴급>" is literal text.
  assert.equal(b.text, "한국은행은  <긴급> 회의를 열었다.");
  assert.deepEqual(b.entities, [{ type: "ORG", start: 0, end: 4 }]);
  // Sentence 3: an unclosed "<냈다:PER" is reported, the two good entities are kept on the raw line.
  assert.deepEqual(c.entities.map((e) => [e.type, c.text.slice(e.start, e.end)]), [["PER", "영희"], [
    "MNY",
    "5천원",
  ]]);
  assert.deepEqual(warnings.map((w) => [w.line, w.code]), [
    [21, "markup-differs"],
    [22, "morphemes-differ"],
    [37, "markup"],
    [37, "markup-differs"],
    [38, "morphemes-differ"],
  ]);
  assert.match(warnings[2].message, /stray markup "<냈다:PER"/);
  assert.ok(warnings.every((w) => w.file.endsWith("kmou_sample.txt")));
});

Deno.test("readKmou() reads the older KLP-2016 layout with B_PS tags", async () => {
  const { examples, warnings } = await readKmou(new URL("kmou_klp2016.txt", dir).pathname);
  assert.deepEqual(warnings, []);
  assert.equal(examples.length, 2);
  assert.equal(examples[0].text, "이청용은 2009년 볼턴으로 이적했다 .");
  assert.deepEqual(examples[0].entities.map((e) => e.type), ["PS", "DT", "OG"]);
  assert.deepEqual(examples[1].entities, [{ type: "PS", start: 0, end: 3 }]);
});

Deno.test("parseKmou() reports tag/markup disagreements, bad lines and missing headers with lines", async (t) => {
  const cases: [string, string, [number, string][]][] = [
    [
      "tags miss an entity",
      "## 1\n## 가 나\n## <가:PER> <나:LOC>\n가\t가\tNNP\tB-PER\n_\t_\t_\tO\n나\t나\tNNP\tO\n",
      [[4, "tags-differ"]],
    ],
    ["a short morpheme line", "## 1\n## 가\n## <가:PER>\n가\t가\tB-PER\n", [[4, "morpheme-line"]]],
    ["a bad tag", "## 1\n## 가\n## <가:PER>\n가\t가\tNNP\tX-PER\n", [[4, "morpheme-tag"], [
      4,
      "tags-differ",
    ]]],
    ["a missing number line", "## 가\n## <가:PER>\n가\t가\tNNP\tB-PER\n", [[1, "header"]]],
    ["an unknown type", "## 1\n## 가\n## <가:PEX>\n가\t가\tNNP\tB-PEX\n", [[3, "markup"]]],
    ["a repeated number", "## 1\n## 가\n## 가\n가\t가\tNNP\tO\n\n## 1\n## 나\n## 나\n나\t나\tNNP\tO\n", [[
      6,
      "duplicate-id",
    ]]],
  ];
  for (const [name, text, want] of cases) {
    await t.step(name, () => {
      const r = parseKmou(text, "k.txt");
      assert.deepEqual(r.warnings.map((w) => [w.line, w.code]), want);
      assert.ok(r.examples.length >= 1);
    });
  }
});

Deno.test("parseKmou() keeps an entity whose surface holds brackets, as in <<2>:NOH>", () => {
  const r = parseKmou(
    "## 13\n## <2> 문제\n## <<2>:NOH> 문제\n<\t<\tSS\tB-NOH\n2\t2\tSN\tI-NOH\n>\t>\tSS\tI-NOH\n_\t_\t_\tO\n문제\t문제\tNNG\tO\n",
    "k.txt",
  );
  assert.deepEqual(r.examples[0].entities, [{ type: "NOH", start: 0, end: 3 }]);
  assert.deepEqual(r.warnings, []);
});

Deno.test("writeKmou() → parseKmou() round-trips text and entities", () => {
  const examples = [{
    id: "k:1",
    text: "민수랑 서울 갔다",
    entities: [{ type: "PER", start: 0, end: 2 }, { type: "LOC", start: 4, end: 6 }],
  }];
  const back = parseKmou(writeKmou(examples), "k.txt");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples, examples);
});
