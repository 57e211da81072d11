import assert from "node:assert/strict";
import { sideOf, splitExamples } from "../../../train/ner_data/split.ts";
import { main } from "../../../cli/split.ts";
import { parseKlue } from "../../../train/ner_data/datasets/klue.ts";
import type { NerExample } from "../../../train/ner_data/datasets/types.ts";

const examples = (n: number, prefix = "s"): NerExample[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, text: "가", entities: [] }));

Deno.test("splitExamples() gives each side about its fraction", () => {
  const { train, dev, test } = splitExamples(examples(10000), { dev: 0.1, test: 0.2, seed: 3 });
  assert.equal(train.length + dev.length + test.length, 10000);
  // Binomial(10000, p): 4 standard deviations are ±120 for p = 0.1 and ±160 for p = 0.2.
  assert.ok(Math.abs(dev.length - 1000) < 120, `dev ${dev.length}`);
  assert.ok(Math.abs(test.length - 2000) < 160, `test ${test.length}`);
});

Deno.test("splitExamples() keeps each id on its side when examples are added or reordered", () => {
  const a = splitExamples(examples(500), { dev: 0.1, test: 0.1 });
  const b = splitExamples([...examples(800)].reverse(), { dev: 0.1, test: 0.1 });
  const sideA = new Map<string, string>();
  for (const s of ["train", "dev", "test"] as const) for (const ex of a[s]) sideA.set(ex.id, s);
  for (const s of ["train", "dev", "test"] as const) {
    for (const ex of b[s]) if (sideA.has(ex.id)) assert.equal(sideA.get(ex.id), s, ex.id);
  }
});

Deno.test("splitExamples() gives another split for another seed", () => {
  const ids = examples(1000);
  const a = splitExamples(ids, { dev: 0.5, test: 0, seed: 1 }).dev.map((e) => e.id);
  const b = new Set(splitExamples(ids, { dev: 0.5, test: 0, seed: 2 }).dev.map((e) => e.id));
  const overlap = a.filter((id) => b.has(id)).length / a.length;
  assert.ok(overlap > 0.4 && overlap < 0.6, `overlap ${overlap}`); // independent halves overlap by ≈ 1/2
});

Deno.test("sideOf() honours pinned ids and rejects bad fractions", () => {
  const pin = [{ pattern: /^EXOBRAIN_NE_CORPUS_010:/, side: "test" as const }];
  assert.equal(sideOf("EXOBRAIN_NE_CORPUS_010:7", { dev: 0, test: 0, pin }), "test");
  assert.equal(sideOf("00002_NER:1", { dev: 0, test: 0, pin }), "train");
  assert.throws(() => sideOf("x", { dev: 0.7, test: 0.5 }), /must lie in \[0, 1\]/);
  assert.throws(
    () => splitExamples([...examples(2), ...examples(1)], { dev: 0, test: 0 }),
    /id "s0" occurs twice/,
  );
});

Deno.test("split CLI writes three KLUE files that read back to the whole set", async () => {
  const dir = await Deno.makeTempDir();
  const src = `${dir}/in.tsv`;
  const lines: string[] = [];
  for (let i = 0; i < 30; i++) {
    const text = `민수${i}`;
    lines.push(
      `## klue-${i}\t<민수:PS>${i}`,
      ...[...text].map((c, k) => `${c}\t${k === 0 ? "B-PS" : k === 1 ? "I-PS" : "O"}`),
      "",
    );
  }
  await Deno.writeTextFile(src, lines.join("\n"));
  assert.equal(
    await main(["--data", `klue:${src}`, "--out", `${dir}/out`, "--dev", "0.2", "--test", "0.2"]),
    0,
  );
  let total = 0;
  for (const side of ["train", "dev", "test"]) {
    const read = parseKlue(await Deno.readTextFile(`${dir}/out/${side}.tsv`), `${side}.tsv`);
    assert.equal(read.warnings.length, 0);
    for (const ex of read.examples) assert.deepEqual(ex.entities, [{ start: 0, end: 2, type: "PS" }]);
    total += read.examples.length;
    const texts = (await Deno.readTextFile(`${dir}/out/${side}.txt`)).split("\n").filter(Boolean);
    assert.deepEqual(texts, read.examples.map((e) => e.text));
  }
  assert.equal(total, 30);
  const summary = JSON.parse(await Deno.readTextFile(`${dir}/out/split.json`));
  assert.equal(summary.train.sentences + summary.dev.sentences + summary.test.sentences, 30);
  assert.equal(await main(["--data", src]), 2); // --out missing
  await Deno.remove(dir, { recursive: true });
});
