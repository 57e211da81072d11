import assert from "node:assert/strict";
import { addWords, buildLexicon, harmonize } from "../../../train/ner_data/harmonize.ts";
import { ex, REFERENCE } from "./harmonize_reference.ts";

Deno.test("buildLexicon keeps words tagged often enough, with counts and the majority type", () => {
  const lex = buildLexicon(REFERENCE, { minCount: 2, minRate: 0.5 });
  // 이날: 3 tagged of 3 word starts; 오후: 2 of 4 (오후, 오후에, 오후, 오후반); 하나: 1 < minCount; PS not a listed type.
  assert.deepEqual(lex, [
    { text: "이날", type: "DT", tagged: 3, occurrences: 3 },
    { text: "오후", type: "TI", tagged: 2, occurrences: 4 },
  ]);
  assert.deepEqual(buildLexicon(REFERENCE, { minCount: 2, minRate: 0.6 }).map((e) => e.text), ["이날"]);
  assert.deepEqual(buildLexicon(REFERENCE, { minCount: 1, minRate: 1 }).map((e) => e.text), ["이날", "하나"]);
  assert.deepEqual(buildLexicon(REFERENCE, { types: ["PS"], minCount: 1 }).map((e) => e.text), ["김철수"]);
});

Deno.test("harmonize tags untagged word starts only, never touching or overlapping existing entities", () => {
  const lex = [{ text: "이날", type: "DT", tagged: 3, occurrences: 3 }, {
    text: "12",
    type: "QT",
    tagged: 3,
    occurrences: 3,
  }];
  const data = [
    ex("k1", "그는 이날은 쉬었다"), // particle attached: tagged
    ex("k2", "어이날 12일 123 12개", [[4, 7, "DT"]]), // inside a word, inside an entity, a cut number, then one to tag
    ex("k3", "아무것도 없다"),
  ];
  const { examples, added } = harmonize(data, lex);
  assert.deepEqual(examples[0].entities, [{ start: 3, end: 5, type: "DT" }]);
  assert.deepEqual(examples[1].entities, [{ start: 4, end: 7, type: "DT" }, {
    start: 12,
    end: 14,
    type: "QT",
  }]);
  assert.equal(examples[2], data[2], "unchanged examples are passed through");
  assert.deepEqual(added, { 이날: 1, 12: 1 });
  assert.deepEqual(data[0].entities, [], "the input is not modified");
});

// KLUE tags a relative year alone and as the head of a longer date: 지난해 alone 1 of 3 times.
const HEADS = [
  ex("h1", "지난해 11월 개장", [[0, 7, "DT"]]),
  ex("h2", "지난해 3월에 샀다", [[0, 6, "DT"]]),
  ex("h3", "지난해 비가 왔다", [[0, 3, "DT"]]),
  ex("h4", "지난해11월", [[0, 6, "DT"]]), // no space after the word: not a head
];

Deno.test("buildLexicon with heads counts dates that start with the word as tagging it", () => {
  const word = (heads: boolean) =>
    buildLexicon(HEADS, { minCount: 1, minRate: 0.5, heads }).filter((w) => w.text === "지난해");
  assert.deepEqual(word(false), []); // tagged alone 1 of 4 times
  assert.deepEqual(word(true), [{ text: "지난해", type: "DT", tagged: 3, occurrences: 4 }]);
});

Deno.test("harmonize with merge joins a word to the entity of its type one space after it", () => {
  const lex = [{ text: "올해", type: "DT", tagged: 3, occurrences: 3 }];
  const data = [
    ex("k1", "올해 12월 31일까지", [[3, 10, "DT"]]), // KMOU: the date without 올해
    ex("k2", "올해 서울에서", [[3, 5, "LC"]]), // another type: not joined
    ex("k3", "올해  3월", [[4, 6, "DT"]]), // two spaces: not joined
  ];
  const merged = harmonize(data, lex, { merge: true }).examples;
  assert.deepEqual(merged[0].entities, [{ start: 0, end: 10, type: "DT" }]);
  assert.deepEqual(merged[1].entities, [{ start: 0, end: 2, type: "DT" }, { start: 3, end: 5, type: "LC" }]);
  assert.deepEqual(merged[2].entities, [{ start: 0, end: 2, type: "DT" }, { start: 4, end: 6, type: "DT" }]);
  assert.deepEqual(harmonize(data, lex).examples[0].entities, [
    { start: 0, end: 2, type: "DT" },
    { start: 3, end: 10, type: "DT" },
  ], "without merge: two dates");
});

Deno.test("addWords adds hand-given words with their reference counts, longest first, replacing learnt ones", () => {
  const lex = addWords([{ text: "이날", type: "DT", tagged: 3, occurrences: 3 }], REFERENCE, [
    ["어제", "DT"],
    [
      "이날",
      "TI",
    ],
    ["오후반", "TI"],
  ]);
  assert.deepEqual(lex, [
    { text: "오후반", type: "TI", tagged: 0, occurrences: 1 },
    { text: "어제", type: "DT", tagged: 0, occurrences: 0 },
    { text: "이날", type: "TI", tagged: 0, occurrences: 3 },
  ]);
  const { added } = harmonize([ex("k", "어제 오후반")], lex);
  assert.deepEqual(added, { 오후반: 1, 어제: 1 });
});
