import assert from "node:assert/strict";
import { join } from "node:path";
import { harmonizeFiles, harmonizeSummary } from "../../../train/ner_data/harmonize_files.ts";
import { readKlue, writeKlue } from "../../../train/ner_data/datasets/klue.ts";
import { ex, REFERENCE } from "./harmonize_reference.ts";

Deno.test("harmonizeFiles() writes KLUE TSV and a report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "ref.tsv"), writeKlue(REFERENCE));
    await Deno.writeTextFile(
      join(dir, "data.tsv"),
      writeKlue([ex("k1", "그는 이날은 쉬었다"), ex("k2", "이날 오후")]),
    );
    const out = join(dir, "out.tsv"), report = join(dir, "report.json");
    const options = {
      reference: `klue:${join(dir, "ref.tsv")}`,
      data: `klue:${join(dir, "data.tsv")}`,
      out,
      report,
      types: ["DT", "TI", "QT"],
      minCount: 2,
      minRate: 0.5,
      heads: false,
      merge: false,
      words: [] as [string, string][],
      log: () => {},
    };
    const { lexicon, added } = await harmonizeFiles(options);
    assert.equal(
      harmonizeSummary(lexicon.length, added),
      "2 words learnt; 3 entities added (이날 2, 오후 1, …)",
    );
    const { examples } = await readKlue(out);
    assert.deepEqual(examples.map((e) => e.entities), [
      [{ start: 3, end: 5, type: "DT" }],
      [{ start: 0, end: 2, type: "DT" }, { start: 3, end: 5, type: "TI" }],
    ]);
    const r = JSON.parse(await Deno.readTextFile(report));
    assert.deepEqual(r.added, { 이날: 2, 오후: 1 });
    assert.deepEqual(r.after, { DT: 2, TI: 1 });
    // Words, heads and merge reach the lexicon and the report.
    await harmonizeFiles({ ...options, minCount: 3, words: [["그는", "PS"]], heads: true, merge: true });
    const r2 = JSON.parse(await Deno.readTextFile(report));
    assert.deepEqual(r2.options.words, [["그는", "PS"]]);
    assert.equal(r2.options.merge, true);
    assert.deepEqual(r2.added, { 이날: 2, 그는: 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
