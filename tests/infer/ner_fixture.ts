// Shared by the inference tests: sentences for the fixture model and comparison helpers.
import assert from "node:assert/strict";
import type { Entity } from "../../infer/pipeline.ts";

/** The fixture model folder. */
export const FIXTURE = new URL("../../fixtures/ner-tiny/", import.meta.url);

/** Sentences that give the fixture model a mix of entity types (its weights are random). */
export const SENTENCES = [
  "어제 강남역에서 민수랑 만났어",
  "오늘 세시에 삼성 회사에서 영희를 봤어요 😀 ㅋㅋ",
  "내일 부산에서 철수하고 카카오 사람 만나요",
  "😀😀 대한민국 서울 학교에서 10시까지 공부했다",
  "Hello World 123, 네이버 회사는?",
];

export function checkSpans(text: string, entities: readonly Entity[]): void {
  let prevEnd = 0;
  for (const e of entities) {
    assert.equal(e.text, text.slice(e.start, e.end), `offsets of ${JSON.stringify(e)}`);
    assert.ok(e.start >= prevEnd && e.end > e.start, "spans are sorted and do not overlap");
    assert.ok(e.score > 0 && e.score <= 1, "score is a probability");
    assert.ok(/^(PS|LC|OG|DT|TI|QT)$/.test(e.type), `KLUE type, got ${e.type}`);
    assert.deepEqual(Object.keys(e).sort(), ["end", "score", "start", "text", "type"]);
    // A span never starts or ends inside a surrogate pair.
    assert.ok(!/^[\uDC00-\uDFFF]/.test(e.text) && !/[\uD800-\uDBFF]$/.test(e.text));
    prevEnd = e.end;
  }
}

/** Same spans and types; scores within `tol` (runtimes differ in the last float bits). */
export function assertSameEntities(a: Entity[][], b: Entity[][], tol = 1e-4, what = ""): void {
  assert.deepEqual(
    a.map((x) => x.map(({ score: _, ...rest }) => rest)),
    b.map((x) => x.map(({ score: _, ...rest }) => rest)),
    what,
  );
  a.forEach((x, i) =>
    x.forEach((e, j) =>
      assert.ok(Math.abs(e.score - b[i][j].score) < tol, `${what} score ${e.score} vs ${b[i][j].score}`)
    )
  );
}

/** Texts compared across runtimes (here and in webgpu_test.ts). */
export const CROSS_TEXTS = [...SENTENCES, "😀 a\uD800 철수", "x".repeat(300) + " 민수"];
