import assert from "node:assert/strict";
import * as mod from "../mod.ts";

Deno.test("mod.ts re-exports the inference API and it works on the fixture model", async () => {
  for (
    const name of [
      "loadRecognizer",
      "NerPipeline",
      "WordPieceTokenizer",
      "openSession",
      "readModelFolder",
      "urlSource",
      "decodeEntities",
    ]
  ) {
    assert.equal(typeof (mod as Record<string, unknown>)[name], "function", name);
  }
  const ner = await mod.loadRecognizer(new URL("../fixtures/ner-tiny/", import.meta.url), {
    provider: "wasm",
  });
  const text = "어제 강남역에서 민수랑 만났어";
  const got = await ner.recognize(text);
  assert.ok(got.length > 0);
  for (const e of got) assert.equal(text.slice(e.start, e.end), e.text);
  await ner.release();
});

Deno.test("mod.ts does no work at import: it only re-exports", async () => {
  const src = await Deno.readTextFile(new URL("../mod.ts", import.meta.url));
  const code = src.replace(/\/\*\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "").trim();
  for (const stmt of code.split(/;\s*/).filter((s) => s.trim())) {
    assert.match(stmt.trim(), /^export\b[\s\S]*\bfrom\s+"[^"]+"$/);
  }
});
