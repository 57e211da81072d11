import assert from "node:assert/strict";
import { join } from "node:path";
import { augmentFile } from "../../../train/ner_data/augment_files.ts";
import { parseKlue } from "../../../train/ner_data/datasets/klue.ts";
import { marked } from "./markup.ts";

Deno.test("augmentFile() writes the copies as KLUE TSV that reads back, and its report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = join(dir, "train.tsv"), out = join(dir, "aug.tsv"), report = join(dir, "aug.json");
    const rows = (id: string, text: string, tags: string[]) =>
      `## ${id}\t${text}\n` + [...text.replace(/<([^:]+):[A-Z]+>/g, "$1")].map((c, i) => `${c}\t${tags[i]}`)
        .join("\n") +
      "\n\n";
    await Deno.writeTextFile(
      src,
      rows("s1", "<민수:PS>와 놀았다", ["B-PS", "I-PS", "O", "O", "O", "O", "O"]) +
        rows("s2", "<김철민:PS>이 왔다", ["B-PS", "I-PS", "I-PS", "O", "O", "O", "O"]),
    );
    const base = { swapTypes: [], swapRate: 0.5, colloquial: false, copies: 1, seed: 0 };
    const data = `klue:${src}`, log = () => {};
    const summary = await augmentFile({ data, out, report, options: { ...base, colloquial: true }, log });
    const back = parseKlue(await Deno.readTextFile(out), out).examples;
    assert.deepEqual(back.map(marked), ["<민수:PS>랑 놀았다"]);
    const r = JSON.parse(await Deno.readTextFile(report));
    assert.equal(r.particlesSpoken, 1);
    assert.equal(r.sentences, 2);
    assert.equal(r.givenNames, 0);
    assert.deepEqual(r, { data, options: { ...base, colloquial: true }, ...summary });
    // Every PS full name cut (rate 1, no swaps): 김철민이 → 철민이; 민수 has no surname to cut.
    await augmentFile({ data, out, report, options: { ...base, givenNames: 1 }, log });
    const cut = parseKlue(await Deno.readTextFile(out), out).examples;
    assert.deepEqual(cut.map(marked), ["<철민:PS>이 왔다"]);
    assert.equal(JSON.parse(await Deno.readTextFile(report)).givenNames, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
