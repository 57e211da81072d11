import assert from "node:assert/strict";
import { detectDatasetFormat, readDataset } from "../../../../train/ner_data/datasets/mod.ts";

const dir = new URL("../../../../fixtures/datasets/", import.meta.url);

Deno.test("detectDatasetFormat() recognises every fixture by name and content", async (t) => {
  const cases: [string, string][] = [
    ["klue_sample.tsv", "klue"],
    ["kmou_sample.txt", "kmou"],
    ["kmou_klp2016.txt", "kmou"],
    ["nikl_sample.json", "nikl"],
    ["naver_sample.txt", "naver"],
    ["conll_sample.txt", "conll"],
    ["label_studio_export.json", "label-studio"],
  ];
  for (const [name, format] of cases) {
    await t.step(name, async () => {
      const text = await Deno.readTextFile(new URL(name, dir));
      assert.equal(detectDatasetFormat(name, text), format);
      const r = await readDataset(new URL(name, dir).pathname);
      assert.ok(r.examples.length >= 2);
    });
  }
});

Deno.test("readDataset() rejects unknown formats and missing files clearly", async () => {
  await assert.rejects(() => readDataset("nope.tsv", "klue"), {
    message: `Cannot read "nope.tsv": no such file or folder`,
  });
  // deno-lint-ignore no-explicit-any
  await assert.rejects(() => readDataset("x", "xml" as any), /Unknown dataset format "xml"/);
});
