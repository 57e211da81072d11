import assert from "node:assert/strict";
import {
  classificationReport,
  confusionTable,
  errorList,
  formatConfusion,
  noEntityRate,
  scoreSpans,
  scoreTags,
} from "../../../train/evaluate/metrics.ts";
import { getEntities } from "../../../infer/decode.ts";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

Deno.test("getEntities() follows seqeval's chunking rules", async (t) => {
  const cases: [string, string[], [string, number, number][]][] = [
    ["I- without B- starts an entity", ["O", "I-PER", "I-PER"], [["PER", 1, 2]]],
    ["a type change inside a span splits it", ["B-PER", "I-LOC", "I-LOC"], [["PER", 0, 0], ["LOC", 1, 2]]],
    ["adjacent entities are kept apart by B-", ["B-PER", "B-PER", "I-PER"], [["PER", 0, 0], ["PER", 1, 2]]],
    ["E- and S- close entities", ["B-PER", "E-PER", "S-LOC", "E-LOC"], [["PER", 0, 1], ["LOC", 2, 2], [
      "LOC",
      3,
      3,
    ]]],
    ["an entity at the very end", ["O", "B-DT"], [["DT", 1, 1]]],
    ["all O", ["O", "O"], []],
  ];
  for (const [name, tags, want] of cases) await t.step(name, () => assert.deepEqual(getEntities(tags), want));
});

Deno.test("scoreTags() matches seqeval on hand-computed edge cases", () => {
  const gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG"]];
  const pred = [["I-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-LOC", "I-LOC"]];
  // Gold: PER(0,1) LOC(3,3) ORG(5,7). Predicted: PER(0,1) — I-PER I-PER counts as correct in
  // seqeval's default mode — LOC(3,3), ORG(5,5), LOC(6,7) (the type change splits the span).
  // LOC: tp 1, pred 2, true 1 → P 1/2, R 1, F 2/3.  ORG: tp 0 → 0, 0, 0.  PER: 1, 1, 1.
  // micro: tp 2, pred 4, true 3 → P 1/2, R 2/3, F 2·(1/2)(2/3)/(1/2+2/3) = 4/7.
  // macro: P (1/2+0+1)/3 = 1/2, R (1+0+1)/3 = 2/3, F (2/3+0+1)/3 = 5/9; weighted = macro (supports 1, 1, 1).
  const s = scoreTags(gold, pred);
  assert.deepEqual(Object.keys(s.perType), ["LOC", "ORG", "PER"]);
  close(s.perType.LOC.precision, 0.5);
  close(s.perType.LOC.recall, 1);
  close(s.perType.LOC.f1, 2 / 3);
  assert.deepEqual([s.perType.ORG.precision, s.perType.ORG.recall, s.perType.ORG.f1], [0, 0, 0]);
  assert.deepEqual([s.perType.PER.precision, s.perType.PER.recall, s.perType.PER.f1, s.perType.PER.support], [
    1,
    1,
    1,
    1,
  ]);
  close(s.micro.precision, 0.5);
  close(s.micro.recall, 2 / 3);
  close(s.micro.f1, 4 / 7);
  close(s.macro.precision, 0.5);
  close(s.macro.recall, 2 / 3);
  close(s.macro.f1, 5 / 9);
  close(s.weighted.f1, 5 / 9);
  assert.equal(s.micro.support, 3);
  // Spans give the same numbers.
  const spans = (tags: string[][]) =>
    tags.map((t) => getEntities(t).map(([type, a, b]) => ({ type, start: a, end: b + 1 })));
  assert.deepEqual(scoreSpans(spans(gold), spans(pred)), s);
});

Deno.test("scoreTags() gives 0, not NaN, for empty predictions and empty gold", () => {
  const s = scoreTags([["B-PER", "O"]], [["O", "O"]]);
  // PER: tp 0, pred 0, true 1 → P 0 (0/0 → 0 as seqeval's zero_division), R 0, F 0.
  assert.deepEqual([s.micro.precision, s.micro.recall, s.micro.f1, s.macro.f1], [0, 0, 0, 0]);
  const none = scoreTags([["O"]], [["O"]]);
  assert.deepEqual(none.micro, { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.deepEqual(none.macro, { precision: 0, recall: 0, f1: 0, support: 0 });
});

Deno.test("scoreTags() keeps sentences apart, as seqeval appends O between them", () => {
  // Without the separator, I-PER at the start of sentence 2 would continue sentence 1's PER.
  const s = scoreTags([["B-PER"], ["I-PER"]], [["B-PER"], ["I-PER"]]);
  assert.equal(s.perType.PER.support, 2);
  assert.equal(s.micro.f1, 1);
});

Deno.test("classificationReport() prints seqeval's report byte for byte", () => {
  const gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
  const pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
  // seqeval's README example output.
  const want = [
    "              precision    recall  f1-score   support",
    "",
    "        MISC       0.00      0.00      0.00         1",
    "         PER       1.00      1.00      1.00         1",
    "",
    "   micro avg       0.50      0.50      0.50         2",
    "   macro avg       0.50      0.50      0.50         2",
    "weighted avg       0.50      0.50      0.50         2",
    "",
  ].join("\n");
  assert.equal(classificationReport(scoreTags(gold, pred)), want);
  // Python rounds the exact tie 0.125 to even ("0.12"); JS toFixed would print 0.13.
  const eighth = classificationReport({
    perType: { X: { precision: 0.125, recall: 0.375, f1: 0.5, support: 8, predicted: 8, correct: 1 } },
    micro: { precision: 0.125, recall: 0.375, f1: 0.5, support: 8 },
    macro: { precision: 0.125, recall: 0.375, f1: 0.5, support: 8 },
    weighted: { precision: 0.125, recall: 0.375, f1: 0.5, support: 8 },
  });
  assert.match(eighth, /\n {11}X {7}0\.12 {6}0\.38 {6}0\.50 {9}8\n/);
});

Deno.test("confusionTable() pairs overlapping spans and counts missed and spurious ones", () => {
  const gold = [[{ type: "PS", start: 0, end: 2 }, { type: "LC", start: 5, end: 8 }, {
    type: "DT",
    start: 10,
    end: 12,
  }]];
  const pred = [[{ type: "PS", start: 0, end: 3 }, { type: "OG", start: 5, end: 8 }, {
    type: "QT",
    start: 20,
    end: 22,
  }]];
  const c = confusionTable(gold, pred);
  assert.deepEqual(c.types, ["DT", "LC", "OG", "PS", "QT", "O"]);
  assert.equal(c.counts.PS.PS, 1); // overlapping, same type (boundary error)
  assert.equal(c.counts.LC.OG, 1); // type error
  assert.equal(c.counts.DT.O, 1); // missed
  assert.equal(c.counts.O.QT, 1); // spurious
  assert.match(formatConfusion(c), /^gold\\pred/);
});

Deno.test("errorList() lists sentences with missed or spurious entities", () => {
  const sentences = [{ id: "a", text: "민수랑 서울" }, { id: "b", text: "좋다" }];
  const gold = [[{ type: "PS", start: 0, end: 2 }, { type: "LC", start: 4, end: 6 }], []];
  const pred = [[{ type: "PS", start: 0, end: 3 }, { type: "LC", start: 4, end: 6 }], []];
  const errors = errorList(sentences, gold, pred);
  assert.equal(errors.length, 1);
  assert.deepEqual(errors[0].missed, [{ type: "PS", start: 0, end: 2, text: "민수" }]);
  assert.deepEqual(errors[0].spurious, [{ type: "PS", start: 0, end: 3, text: "민수랑" }]);
});

Deno.test("noEntityRate() counts gold-empty sentences given any predicted entity", () => {
  const e = { type: "PS", start: 0, end: 1 };
  // Sentences 2, 3 and 4 are gold-empty; 2 and 4 got a prediction: 2 of 3. Sentence 1 is not counted.
  assert.deepEqual(noEntityRate([[e], [], [], []], [[], [e], [], [e, e]]), {
    sentences: 3,
    flagged: 2,
    rate: 2 / 3,
  });
  assert.deepEqual(noEntityRate([[e]], [[e]]), { sentences: 0, flagged: 0, rate: 0 });
  assert.throws(() => noEntityRate([[]], []), /1 gold sentences but 0 predicted/);
});
