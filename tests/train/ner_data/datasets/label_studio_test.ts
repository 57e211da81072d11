import assert from "node:assert/strict";
import {
  parseLabelStudio,
  readLabelStudio,
  writeLabelStudio,
} from "../../../../train/ner_data/datasets/label_studio.ts";
import { parseDelimited } from "../../../../train/ner_data/datasets/label_studio.ts";
import { readDataset } from "../../../../train/ner_data/datasets/mod.ts";
import { outputWriter } from "../../../../infer/formats.ts";
import { loadRecognizer } from "../../../../infer/pipeline.ts";
import { FIXTURE, SENTENCES } from "../../../infer/ner_fixture.ts";

const fixture = new URL("../../../../fixtures/datasets/label_studio_export.json", import.meta.url);

Deno.test("readLabelStudio() reads annotations and accepts code-point offsets after emoji", async () => {
  const { examples, warnings } = await readLabelStudio(fixture.pathname);
  assert.deepEqual(examples.map((e) => e.id), ["17", "18"]);
  assert.deepEqual(examples[0].entities.map((e) => [e.type, examples[0].text.slice(e.start, e.end)]), [
    ["DT", "어제"],
    ["LC", "강남역"],
    ["PS", "민수"],
  ]);
  assert.deepEqual(examples[1].entities, [{ type: "PS", start: 5, end: 7 }]);
  assert.deepEqual(warnings.map((w) => [w.line, w.code]), [[28, "code-point-offsets"]]);
});

Deno.test("readLabelStudio() reports the line of a result without labels", () => {
  const text =
    `[{"data": {"text": "가나"}, "annotations": [{"result": [\n  {"type": "labels", "value": {"start": 0, "end": 1}}\n]}]}]`;
  assert.throws(() => parseLabelStudio(text, "ls.json"), {
    message:
      `Cannot parse line 2 of "ls.json": expected value.start, value.end (numbers) and value.labels (a non-empty array)`,
  });
  assert.throws(() => parseLabelStudio(`[{"data": {}}]`, "ls.json"), {
    message:
      `Cannot parse line 1 of "ls.json": expected task 0 to have a string "data.text" (full JSON export) or "text" (JSON-MIN)`,
  });
});

Deno.test("readLabelStudio() skips cancelled annotations and reports extra ones", () => {
  const ann = (label: string) =>
    `{"result": [{"type": "labels", "value": {"start": 0, "end": 1, "text": "가", "labels": ["${label}"]}}]}`;
  const text = `[{"data": {"text": "가"}, "annotations": [\n{"was_cancelled": true, "result": []},\n${
    ann("A")
  },\n${ann("B")}\n]}]`;
  const r = parseLabelStudio(text, "ls.json");
  assert.deepEqual(r.examples[0].entities, [{ type: "A", start: 0, end: 1 }]);
  assert.deepEqual(r.warnings.map((w) => [w.line, w.code]), [[4, "extra-annotations"]]);
  const relation =
    `[{"data": {"text": "가"}, "annotations": [{"result": [\n{"type": "relation", "from_id": "a", "to_id": "b"}\n]}]}]`;
  assert.deepEqual(parseLabelStudio(relation, "ls.json").warnings.map((w) => [w.line, w.code]), [[
    2,
    "result-type",
  ]]);
});

Deno.test("writeLabelStudio() → parseLabelStudio() round-trips through predictions", () => {
  const examples = [{ id: "t1", text: "🎉 민수 생일", entities: [{ type: "PS", start: 3, end: 5 }] }];
  const json = writeLabelStudio(examples, { scores: [[0.9]] });
  const task = JSON.parse(json)[0];
  assert.deepEqual(task.predictions[0].result[0].value, { start: 3, end: 5, text: "민수", labels: ["PS"] });
  assert.equal(task.predictions[0].result[0].score, 0.9);
  const back = parseLabelStudio(json, "w.json");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples, examples);
});

Deno.test("JSON-MIN, CSV and TSV exports read as the full JSON export does (auto-detected)", async () => {
  const full = await readLabelStudio(fixture.pathname);
  const at = (name: string) => new URL(`../../../../fixtures/datasets/${name}`, import.meta.url).pathname;
  for (const name of ["label_studio_min.json", "label_studio_export.csv", "label_studio_export.tsv"]) {
    const { examples, warnings } = await readDataset(at(name));
    // The exports hold one more task, with no spans and quotes and a comma in its text.
    assert.deepEqual(examples.slice(0, 2), full.examples, name);
    assert.deepEqual(examples[2], { id: "19", text: '그냥, "좋은" 하루', entities: [] }, name);
    assert.deepEqual(warnings.map((w) => w.code), ["code-point-offsets"], name);
  }
  assert.throws(
    () => parseLabelStudio("a,b\n1,2\n", "x.csv"),
    /Cannot parse line 1 of "x\.csv": expected Label Studio JSON, or a CSV\/TSV export whose header has a "text" column/,
  );
  assert.throws(
    () => parseLabelStudio("text,id\n가,1\n나\n", "x.csv"),
    /line 3 of "x\.csv": expected 2 columns, got 1/,
  );
});

Deno.test("parseDelimited(): quotes, doubled quotes, separators and newlines inside cells, CRLF", () => {
  assert.deepEqual(parseDelimited('a,"b,""c""\nd"\r\n\n1,2\n', ","), [
    { cells: ["a", 'b,"c"\nd'], line: 1 },
    { cells: ["1", "2"], line: 4 },
  ]);
  assert.deepEqual(parseDelimited("x\ty\n1\t", "\t"), [{ cells: ["x", "y"], line: 1 }, {
    cells: ["1", ""],
    line: 2,
  }]);
});

Deno.test("round trip: deno task ner's Label Studio pre-annotations read back as the same spans", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const texts = [...SENTENCES, "🎉🎉 민수 생일 😀 축하해"];
  const predicted = await ner.recognize(texts);
  await ner.release();
  assert.ok(predicted.flat().length > 5);
  const w = outputWriter("label-studio");
  const json = w.begin() + texts.map((t, i) => w.text(t, predicted[i])).join("") + w.end();
  const back = parseLabelStudio(json, "tasks.json");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples.map((e) => e.text), texts);
  assert.deepEqual(
    back.examples.map((e) => e.entities),
    predicted.map((es) => es.map(({ type, start, end }) => ({ type, start, end }))),
  );
});
