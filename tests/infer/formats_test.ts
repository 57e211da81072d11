import assert from "node:assert/strict";
import { conllLines } from "../../infer/formats.ts";

Deno.test("conllLines(): B- where a span starts, I- after, O outside; words split at span boundaries", () => {
  const text = "어제 강남 역에서 민수랑 만났어";
  const lines = conllLines(text, [
    { type: "DT", text: "어제", start: 0, end: 2, score: 1 },
    { type: "LC", text: "강남 역", start: 3, end: 7, score: 1 },
    { type: "PS", text: "민수", start: 10, end: 12, score: 1 },
  ]);
  assert.deepEqual(lines, [
    "어제\tB-DT",
    "강남\tB-LC",
    "역\tI-LC",
    "에서\tO",
    "민수\tB-PS",
    "랑\tO",
    "만났어\tO",
  ]);
  // Two spans inside one word, one starting mid-word, and emoji (JavaScript string offsets).
  assert.deepEqual(
    conllLines("😀민수철수랑", [
      { type: "PS", start: 2, end: 4 },
      { type: "PS", start: 4, end: 6 },
    ]),
    ["😀\tO", "민수\tB-PS", "철수\tB-PS", "랑\tO"],
  );
});
