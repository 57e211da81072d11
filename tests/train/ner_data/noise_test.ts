import assert from "node:assert/strict";
import type { NerExample } from "../../../train/ner_data/datasets/types.ts";
import { parseMarkup, renderMarkup } from "../../../train/ner_data/datasets/types.ts";
import { addNoise, NO_NOISE, type NoiseCounts } from "../../../train/ner_data/noise.ts";
import { Rng } from "../../../train/util/rng.ts";
import { scripted } from "../util/scripted_rng.ts";

/** An example from `<mention:TYPE>` markup. */
const ex = (marked: string): NerExample => {
  const { text, entities } = parseMarkup(marked);
  return { id: "x", text, entities };
};
const marked = (e: NerExample) => renderMarkup(e.text, e.entities);

Deno.test("addNoise() inserts, drops and doubles at the gaps as drawn, with exact offsets", () => {
  const half = { laughter: 0.5, interjections: 0.5, emoji: 0.5, dropSpaces: 0.5, doubleSpaces: 0.5 };
  // Per gap: drop, double, layout, then laughter (draw, which), interjection (draw, which), emoji (draw, which, count−1).
  const draws = [
    ...[0.9, 0.9, 0, 0.1, 1, 0.9, 0, 0.1, 0, 1], // start: ㅋㅋㅋ + 😂😂, attached
    ...[0.1, 0.9, 1, 0.9, 0, 0.9, 0, 0.9, 0, 0], // 랑|어제: space dropped, nothing inserted
    ...[0.9, 0.1, 2, 0.9, 0, 0.1, 0, 0.9, 0, 0], // 어제|봤어: space doubled, 헐 against the next word
    ...[0.9, 0.9, 1, 0.1, 4, 0.9, 0, 0.9, 0, 0], // end: ㅎㅎ after a space
  ];
  const counts: NoiseCounts = { inserted: 0, spacesDropped: 0, spacesDoubled: 0 };
  const out = addNoise(ex("<민수:PS>랑 <어제:DT> 봤어"), half, scripted(draws), counts);
  assert.equal(out.text, "ㅋㅋㅋ😂😂민수랑어제  헐봤어 ㅎㅎ");
  // 😂 is two UTF-16 units: 민수 starts at 3 + 4.
  assert.deepEqual(out.entities, [{ start: 7, end: 9, type: "PS" }, { start: 10, end: 12, type: "DT" }]);
  assert.deepEqual(counts, { inserted: 3, spacesDropped: 1, spacesDoubled: 1 });
});

Deno.test("addNoise() places an insertion spaced, before or after, and never splits an entity's own space", () => {
  const all = { ...NO_NOISE, interjections: 0.5 };
  const gap = (layout: number) => [0.9, 0.9, layout, 0.9, 0, 0.1, 0, 0.9, 0, 0];
  const none = [0.9, 0.9, 0, 0.9, 0, 0.9, 0, 0.9, 0, 0];
  // Gaps of "<오후 3시:TI>에 봐": start, the space before 봐, end (the space inside the entity is none).
  const cases: [number, string][] = [
    [0, "<오후 3시:TI>에 헐 봐"],
    [1, "<오후 3시:TI>에헐 봐"],
    [2, "<오후 3시:TI>에 헐봐"],
  ];
  for (const [layout, want] of cases) {
    const out = addNoise(ex("<오후 3시:TI>에 봐"), all, scripted([...none, ...gap(layout), ...none]));
    assert.equal(marked(out), want);
  }
});

Deno.test("addNoise() at full rates keeps every entity's text, over many seeds", () => {
  const full = { laughter: 1, interjections: 1, emoji: 1, dropSpaces: 0.5, doubleSpaces: 1 };
  const src = ex("ㅋㅋ <홍대:LC>에서 <지수:PS>랑 <오후 3시:TI>에 <떡볶이 두 개:QT> 먹음");
  for (let seed = 0; seed < 50; seed++) {
    const out = addNoise(src, full, new Rng(seed, "t"));
    assert.deepEqual(
      out.entities.map((e) => [e.type, out.text.slice(e.start, e.end)]),
      [["LC", "홍대"], ["PS", "지수"], ["TI", "오후 3시"], ["QT", "떡볶이 두 개"]],
    );
    assert.notEqual(out.text, src.text);
  }
  assert.deepEqual(addNoise(src, NO_NOISE, new Rng(1)), src, "no noise, no change");
});
