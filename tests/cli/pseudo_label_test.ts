import assert from "node:assert/strict";
import { join } from "node:path";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { parseKlue } from "../../train/ner_data/datasets/klue.ts";
import { countTypes } from "../../train/ner_data/datasets/types.ts";
import { main } from "../../cli/pseudo_label.ts";
import { copyFolderFiles } from "../train/temp_dir.ts";
import { defaultReportPath } from "../../train/ner_data/pseudo_label_files.ts";

const MODEL = new URL("../../fixtures/ner-tiny/", import.meta.url).pathname;
const CORPUS = new URL("../../fixtures/tokenizer/corpus/", import.meta.url).pathname;

async function readSilver(path: string) {
  const { examples, warnings } = parseKlue(await Deno.readTextFile(path), path);
  assert.deepEqual(warnings, [], "the silver file reads back cleanly");
  return examples;
}

Deno.test("deno task pseudo-label keeps exactly the texts whose every label reaches --min-confidence", async () => {
  const dir = await Deno.makeTempDir();
  const all = join(dir, "all.tsv");
  // At 0 every labelled text is kept: the texts the corpus readers, the cleaner and the length limits let through.
  assert.equal(
    await main(["--model", MODEL, "--corpus", CORPUS, "--out", all, "--min-confidence", "0", "--quiet"]),
    0,
  );
  const texts = (await readSilver(all)).map((e) => e.text);
  assert.ok(texts.length >= 10 && texts.includes("영화 정말 재밌어요 ㅋㅋ"));

  // The rule, computed here from the pipeline: the lowest probability of any word's label.
  const ner = await loadRecognizer(MODEL);
  const detailed = await ner.recognizeDetailed(texts);
  await ner.release();
  const confidence = detailed.map((d) => Math.min(...d.tokens.map((t) => t.score)));
  const x = [...confidence].sort((a, b) => a - b)[Math.floor(texts.length / 2)];
  const out = join(dir, "silver.tsv");
  assert.equal(
    await main([
      "--model",
      MODEL,
      "--corpus",
      CORPUS,
      "--out",
      out,
      "--min-confidence",
      String(x),
      "--quiet",
    ]),
    0,
  );
  const kept = await readSilver(out);
  const want = texts.map((t, i) => ({ t, i })).filter(({ i }) => confidence[i] >= x);
  assert.ok(want.length > 0 && want.length < texts.length, "the median splits the texts");
  assert.deepEqual(kept.map((e) => e.text), want.map(({ t }) => t));
  kept.forEach((e, k) =>
    assert.deepEqual(
      e.entities,
      detailed[want[k].i].entities.map(({ start, end, type }) => ({ start, end, type })),
      "the teacher's entities",
    )
  );
  assert.ok(kept.every((e) => /^[a-z0-9_]+\.(txt|tsv|csv):\d+(\.\d+)?$/.test(e.id)), "ids are FILE:LINE");

  const report = JSON.parse(await Deno.readTextFile(defaultReportPath(out)));
  assert.equal(report.labelled, texts.length);
  assert.equal(report.kept, kept.length);
  assert.equal(report.unsure, texts.length - kept.length);
  assert.deepEqual(report.entities, countTypes(kept));
  assert.equal(
    report.histogram.reduce((a: number, r: { sentences: number }) => a + r.sentences, 0),
    texts.length,
  );
  assert.equal(report.settings.minConfidence, x);
  assert.equal(Object.keys(report.perFile).length, 6);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task pseudo-label --exclude leaves out test texts however they are spaced", async () => {
  const dir = await Deno.makeTempDir();
  const list = join(dir, "test.txt"), out = join(dir, "silver.tsv");
  // One corpus review, spaced differently and marked up as a test file would hold it.
  await Deno.writeTextFile(list, "<영화:OG> 정말재밌어요 ㅋㅋ\n");
  const args = ["--model", MODEL, "--corpus", CORPUS, "--out", out, "--min-confidence", "0", "--quiet"];
  assert.equal(await main([...args, "--exclude", `lines:${list}`]), 0);
  const texts = (await readSilver(out)).map((e) => e.text);
  assert.ok(!texts.includes("영화 정말 재밌어요 ㅋㅋ"));
  const report = JSON.parse(await Deno.readTextFile(defaultReportPath(out)));
  assert.equal(report.excluded, 1);
  assert.deepEqual(
    report.settings.exclude.map((e: { format: string; texts: number }) => [e.format, e.texts]),
    [
      ["lines", 1],
    ],
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task pseudo-label with two teachers keeps only what both decode alike", async () => {
  const dir = await Deno.makeTempDir();
  // The same weights read as an all-subwords model: words whose later sub-words carry other labels decode
  // differently, so the two teachers disagree on some texts.
  const other = join(dir, "other");
  await Deno.mkdir(other);
  await copyFolderFiles(MODEL, other);
  const meta = JSON.parse(await Deno.readTextFile(join(other, "nersota.json")));
  await Deno.writeTextFile(
    join(other, "nersota.json"),
    JSON.stringify({ ...meta, labelMode: "all-subwords" }),
  );
  const one = join(dir, "one.tsv"), two = join(dir, "two.tsv");
  const args = ["--corpus", CORPUS, "--min-confidence", "0", "--quiet"];
  assert.equal(await main(["--model", MODEL, ...args, "--out", one]), 0);
  assert.equal(await main(["--model", MODEL, "--model", other, ...args, "--out", two]), 0);
  const single = await readSilver(one), both = await readSilver(two);
  const report = JSON.parse(await Deno.readTextFile(defaultReportPath(two)));
  assert.ok(report.disagreed > 0, "the fixture's sub-words differ somewhere");
  assert.equal(both.length, single.length - report.disagreed);
  const byId = new Map(single.map((e) => [e.id, e]));
  for (const e of both) assert.deepEqual(e, byId.get(e.id), "a kept text has the first teacher's entities");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deno task pseudo-label refuses bad flags and outputs that would overwrite an input", async () => {
  const dir = await Deno.makeTempDir();
  const corpus = join(dir, "c.txt");
  await Deno.writeTextFile(corpus, "영화 정말 재밌어요\n");
  const base = ["--model", MODEL, "--corpus", corpus, "--min-confidence", "0.9", "--quiet"];
  assert.equal(await main([...base]), 2, "--out is required");
  assert.equal(await main(["--model", MODEL, "--corpus", corpus, "--out", join(dir, "o.tsv")]), 2);
  assert.equal(await main([...base, "--out", join(dir, "o.tsv"), "--min-confidence", "1.5"]), 2);
  assert.equal(await main([...base, "--out", join(dir, "o.tsv"), "--max-empty-share", "1.5"]), 2);
  assert.equal(await main([...base, "--out", join(dir, "o.tsv"), "--min-chars", "0"]), 2);
  assert.equal(await main([...base, "--out", corpus]), 2);
  assert.equal(await main([...base, "--out", join(MODEL, "silver.tsv")]), 2);
  assert.equal(await main([...base, "--out", join(dir, "o.tsv"), "--report", corpus]), 2);
  assert.equal(await Deno.readTextFile(corpus), "영화 정말 재밌어요\n", "the input is untouched");
  assert.equal(await main([...base, "--corpus", join(dir, "missing.txt"), "--out", join(dir, "o.tsv")]), 2);
  await Deno.remove(dir, { recursive: true });
});
