// Decomposed Hangul and full-width ASCII are read as the vocabulary has them (issue 22, item 5).
import assert from "node:assert/strict";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { normalizeForModel, originalSpan } from "../../infer/normalize.ts";
import { checkSpans, FIXTURE, SENTENCES } from "./ner_fixture.ts";

Deno.test("NFD Hangul and full-width digits give the NFC/ASCII text's tokens and entities, offsets into the input", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  try {
    const nfc = [...SENTENCES, "１２시에 강남역에서 만나요"];
    const fold = (t: string) =>
      t.normalize("NFC").replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
    const plain = nfc.map(fold);
    const nfd = plain.map((t) => t.normalize("NFD"));
    nfd[nfd.length - 1] = nfc[nfc.length - 1].normalize("NFD"); // full-width and decomposed at once
    const a = await ner.predictTokens(plain), b = await ner.predictTokens(nfd);
    assert.deepEqual(b.map((x) => x.encoding.ids), a.map((x) => x.encoding.ids));
    const ea = await ner.recognize(plain), eb = await ner.recognize(nfd);
    eb.forEach((ents, i) => {
      checkSpans(nfd[i], ents);
      assert.deepEqual(
        ents.map((e) => [e.type, fold(e.text)]),
        ea[i].map((e) => [e.type, e.text]),
      );
    });
    assert.ok(eb.some((x) => x.length > 0));
  } finally {
    await ner.release();
  }
});

Deno.test("normalizeForModel(): unchanged text has no map; clusters map back whole", () => {
  assert.equal(normalizeForModel("어제 강남역 12시 ㅋㅋ 😀"), undefined);
  const n = normalizeForModel("A\u0301 한".normalize("NFD") + "！")!;
  assert.equal(n.text, "Á 한!");
  assert.deepEqual(originalSpan(n, 0, 1), [0, 2]); // Á from A + combining acute
  assert.deepEqual(originalSpan(n, 2, 3), [3, 6]); // 한 from three jamo
  assert.deepEqual(originalSpan(n, 3, 4), [6, 7]);
  assert.deepEqual(originalSpan(n, 4, 4), [7, 7]);
});
