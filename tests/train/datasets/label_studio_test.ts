import assert from "node:assert/strict";
import { parseLabelStudio, readLabelStudio, writeLabelStudio } from "../../../train/datasets/label_studio.ts";

const fixture = new URL("../../../fixtures/datasets/label_studio_export.json", import.meta.url);

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
    message: `Cannot parse line 1 of "ls.json": expected task 0 to have a string "data.text"`,
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
