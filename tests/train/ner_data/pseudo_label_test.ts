import assert from "node:assert/strict";
import { join } from "node:path";
import type { DetailedRecognition } from "../../../infer/pipeline.ts";
import { parseKlue, writeKlue } from "../../../train/ner_data/datasets/klue.ts";
import {
  ExclusionSet,
  HISTOGRAM_EDGES,
  histogramBin,
  judge,
  matchKey,
  partialPath,
  pseudoLabel,
  readExclusions,
  readExclusionTexts,
  sentenceConfidence,
  statePath,
  type Teacher,
} from "../../../train/ner_data/pseudo_label.ts";

const DATASETS = new URL("../../../fixtures/datasets/", import.meta.url);

/** A recognition from `[label, score]` per whitespace word (labels BIO; entities as seqeval chunks them). */
function recognition(text: string, labels: [string, number][]): DetailedRecognition {
  const words = [...text.matchAll(/\S+/g)];
  assert.equal(words.length, labels.length);
  const tokens = words.map((m, i) => ({
    start: m.index!,
    end: m.index! + m[0].length,
    label: labels[i][0],
    score: labels[i][1],
  }));
  const entities = tokens.filter((t) => t.label.startsWith("B-")).map((t) => ({
    type: t.label.slice(2),
    text: text.slice(t.start, t.end),
    start: t.start,
    end: t.end,
    score: t.score,
  }));
  return { entities, tokens };
}

/**
 * A teacher for tests: capitalised words are PS (a word in `others` is not), every label has probability 0.99
 * except the words listed in `scores`. Records the texts it was given.
 */
function fakeTeacher(
  scores: Record<string, number> = {},
  others: string[] = [],
): Teacher & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    recognizeDetailed(texts) {
      seen.push(...texts);
      return Promise.resolve(texts.map((t) =>
        recognition(
          t,
          [...t.matchAll(/\S+/g)].map(([w]) => [
            /^[A-Z]/.test(w) && !others.includes(w) ? "B-PS" : "O",
            scores[w] ?? 0.99,
          ]),
        )
      ));
    },
  };
}

Deno.test("matchKey() compares texts in NFC with all whitespace removed", () => {
  assert.equal(matchKey(" 어제  강남\t에서 "), "어제강남에서");
  assert.equal(matchKey("\u1100\u1161"), "가"); // conjoining jamo → one syllable
});

Deno.test("ExclusionSet matches equal texts whatever their spacing, and texts containing a long one", () => {
  const set = new ExclusionSet(10);
  set.add("어제 홍대에서 지수랑 떡볶이 먹었어");
  set.add("ㅋㅋㅋ");
  set.add("   ");
  assert.equal(set.size, 2, "the blank text is ignored");
  assert.ok(set.matches("어제홍대에서 지수랑  떡볶이 먹었어"));
  assert.ok(set.matches("진짜 재밌었다. 어제 홍대에서 지수랑 떡볶이 먹었어 ㅎㅎ"), "contained in a review");
  assert.ok(set.matches("ㅋ ㅋㅋ"));
  assert.ok(!set.matches("ㅋㅋㅋ 웃기다"), "short texts are matched whole only");
  assert.ok(!set.matches("어제 홍대에서 민수랑 떡볶이 먹었어"));
  assert.throws(() => new ExclusionSet(0), RangeError);
});

Deno.test("readExclusionTexts() reads KLUE TSV, CoNLL, KMOU, and markup lines", async (t) => {
  await t.step("KLUE TSV (detected)", async () => {
    const r = await readExclusionTexts(new URL("klue_sample.tsv", DATASETS).pathname);
    assert.equal(r.format, "klue");
    assert.ok(r.texts.includes("민수랑 어제 봤어 😀 2번"));
  });
  await t.step("CoNLL (detected by its tag column)", async () => {
    const r = await readExclusionTexts(new URL("conll_sample.txt", DATASETS).pathname);
    assert.equal(r.format, "conll");
    assert.ok(r.texts[0].startsWith("EU rejects German call"));
  });
  await t.step("KMOU", async () => {
    const r = await readExclusionTexts(new URL("kmou_sample.txt", DATASETS).pathname, "kmou");
    assert.equal(r.format, "kmou");
    assert.ok(r.texts.includes("민수는 서울에서 3일 동안 머물렀다."), "the raw sentence, not the marked one");
  });
  await t.step("lines with markup (anything that is not a dataset)", async () => {
    const dir = await Deno.makeTempDir();
    const path = join(dir, "colloquial.txt");
    // A markup source as data/colloquial keeps them: comments, `style<TAB>marked text`.
    await Deno.writeTextFile(
      path,
      "\ufeff# a comment\nchat\tㅋㅋㅋ <지수:PS>랑 <홍대:LC> 갔어\r\n\n😂😂😂 진짜 웃기다\n",
    );
    const r = await readExclusionTexts(path);
    assert.deepEqual(r, { format: "lines", texts: ["ㅋㅋㅋ 지수랑 홍대 갔어", "😂😂😂 진짜 웃기다"] });
    const both = await readExclusions([`lines:${path}`, new URL("klue_sample.tsv", DATASETS).pathname]);
    assert.deepEqual(both.sources.map((s) => [s.format, s.texts]), [["lines", 2], ["klue", 2]]);
    assert.equal(both.set.size, 4);
    assert.ok(
      both.set.matches("ㅋㅋㅋ 지수랑 홍대 갔어") && both.set.matches("서울시는 오후 3시에 발표했다."),
    );
    await Deno.remove(dir, { recursive: true });
  });
  await t.step(
    "the colloquial test set: its KLUE TSV and its markup source give the same texts",
    async () => {
      const dir = new URL("../../../data/colloquial/", import.meta.url).pathname;
      const tsv = await readExclusionTexts(join(dir, "test.tsv"));
      const txt = await readExclusionTexts(`${join(dir, "test.txt")}`, "lines");
      assert.equal(tsv.format, "klue");
      assert.ok(tsv.texts.length > 0);
      assert.deepEqual(txt.texts, tsv.texts);
    },
  );
  await assert.rejects(() => readExclusionTexts("/nonexistent/x.tsv"), /Cannot read exclusion list/);
});

Deno.test("judge() keeps a text only when every label of every teacher is confident and they agree", () => {
  const text = "Minsu 어제 왔어";
  const sure = recognition(text, [["B-PS", 0.99], ["O", 0.97], ["O", 0.999]]);
  assert.equal(sentenceConfidence(sure), 0.97);
  assert.deepEqual(judge([sure], 0.95), {
    keep: true,
    confidence: 0.97,
    agree: true,
    entities: [{ start: 0, end: 5, type: "PS" }],
  });
  assert.equal(judge([sure], 0.98).keep, false, "an unsure O token drops the text");
  const unsureEntity = recognition(text, [["B-PS", 0.9], ["O", 0.99], ["O", 0.99]]);
  assert.equal(judge([unsureEntity], 0.95).keep, false);
  // A second teacher that is as sure but finds no entity: they disagree.
  const none = recognition(text, [["O", 0.99], ["O", 0.99], ["O", 0.99]]);
  assert.deepEqual(judge([sure, none], 0.5), {
    keep: false,
    confidence: 0.97,
    agree: false,
    entities: sure.entities.map(({ start, end, type }) => ({ start, end, type })),
  });
  // Agreeing teachers: the least confident one decides.
  const lessSure = recognition(text, [["B-PS", 0.96], ["O", 0.99], ["O", 0.99]]);
  assert.equal(judge([sure, lessSure], 0.96).keep, true);
  assert.equal(judge([sure, lessSure], 0.965).keep, false);
  assert.equal(sentenceConfidence({ entities: [], tokens: [] }), 1);
  assert.throws(() => judge([], 0.5), /no teacher/);
});

Deno.test("histogramBin() puts a confidence in [edge before, edge) and 1 in the last bin", () => {
  assert.equal(histogramBin(0), 0);
  assert.equal(histogramBin(0.4999), 0);
  assert.equal(histogramBin(0.5), 1);
  assert.equal(histogramBin(0.95), HISTOGRAM_EDGES.indexOf(0.98));
  assert.equal(histogramBin(0.9999), HISTOGRAM_EDGES.length - 1);
  assert.equal(histogramBin(1), HISTOGRAM_EDGES.length - 1);
});

async function corpus(dir: string): Promise<string[]> {
  const a = join(dir, "reviews.txt"), b = join(dir, "chatbot_data.csv");
  await Deno.writeTextFile(
    a,
    [
      "Minsu 어제 왔어", // kept, one entity
      "그냥 그랬어", // kept, no entity
      "Jisu 정말 애매해", // 애매해 is unsure
      "", // empty
      "그냥 그랬어", // duplicate
      "헐", // too short (1 character)
      "이건 시험 문장 이라서 빼야 해요", // excluded (spaced differently in the list)
      "Chulsoo\t탭이 있어", // a tab becomes a space
    ].join("\n") + "\n",
  );
  await Deno.writeTextFile(b, 'Q,A,label\nYuna 뭐해,"Hana 랑 놀아",0\n');
  return [a, b];
}

const SCORES = { "애매해": 0.6 };

Deno.test("pseudoLabel() writes the confident texts as KLUE TSV with FILE:LINE ids and counts the rest", async () => {
  const dir = await Deno.makeTempDir();
  const files = await corpus(dir);
  const out = join(dir, "silver.tsv");
  const exclusions = new ExclusionSet();
  exclusions.add("이건 시험 문장이라서 빼야해요");
  const teacher = fakeTeacher(SCORES);
  const counts = await pseudoLabel([teacher], { files, out, minConfidence: 0.95, exclusions, chunk: 2 });
  const { examples, warnings } = parseKlue(await Deno.readTextFile(out), out);
  assert.deepEqual(warnings, []);
  assert.deepEqual(examples, [
    { id: "reviews.txt:1", text: "Minsu 어제 왔어", entities: [{ start: 0, end: 5, type: "PS" }] },
    { id: "reviews.txt:2", text: "그냥 그랬어", entities: [] },
    { id: "reviews.txt:8", text: "Chulsoo 탭이 있어", entities: [{ start: 0, end: 7, type: "PS" }] },
    { id: "chatbot_data.csv:2", text: "Yuna 뭐해", entities: [{ start: 0, end: 4, type: "PS" }] },
    { id: "chatbot_data.csv:2.2", text: "Hana 랑 놀아", entities: [{ start: 0, end: 4, type: "PS" }] },
  ]);
  assert.ok(!teacher.seen.includes("헐") && !teacher.seen.some((s) => s.startsWith("이건")));
  const { sources, histogram, ...totals } = counts;
  assert.deepEqual(totals, {
    read: 10,
    empty: 1,
    duplicate: 1,
    tooShort: 1,
    tooLong: 0,
    excluded: 1,
    labelled: 6,
    disagreed: 0,
    unsure: 1,
    kept: 5,
    keptWithEntities: 4,
    droppedEmpty: 0,
    droppedCap: 0,
    droppedType: 0,
    unwritable: 0,
    entities: { PS: 4 },
  });
  assert.equal(histogram[histogramBin(0.6)], 1);
  assert.equal(histogram[histogramBin(0.99)], 5);
  assert.deepEqual(sources[files[0]], { read: 8, excluded: 1, labelled: 4, kept: 3 });
  assert.deepEqual(sources[files[1]], { read: 2, excluded: 0, labelled: 2, kept: 2 });
  for (const p of [partialPath(out), statePath(out)]) {
    assert.equal(await Deno.stat(p).then(() => true, () => false), false, `${p} is cleaned up`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pseudoLabel(): length limits, per-source cap, share of entity-less texts, ensembles", async (t) => {
  const dir = await Deno.makeTempDir();
  const files = await corpus(dir);
  const out = join(dir, "silver.tsv");
  const ids = async () => parseKlue(await Deno.readTextFile(out), out).examples.map((e) => e.id);
  await t.step("maxChars and a lower threshold", async () => {
    const c = await pseudoLabel([fakeTeacher(SCORES)], {
      files,
      out,
      minConfidence: 0.5,
      minChars: 1,
      maxChars: 12,
    });
    assert.equal(c.tooShort, 0, "헐 is long enough now");
    assert.equal(c.tooLong, 2, "the 13- and 18-character lines");
    assert.deepEqual(await ids(), [
      "reviews.txt:1",
      "reviews.txt:2",
      "reviews.txt:3",
      "reviews.txt:6",
      "chatbot_data.csv:2",
      "chatbot_data.csv:2.2",
    ]);
  });
  await t.step("maxPerSource stops reading a file once it has that many", async () => {
    const teacher = fakeTeacher(SCORES);
    const c = await pseudoLabel([teacher], { files, out, minConfidence: 0.95, maxPerSource: 1, chunk: 1 });
    assert.deepEqual(await ids(), ["reviews.txt:1", "chatbot_data.csv:2"]);
    assert.equal(c.sources[files[0]].read, 1, "the rest of reviews.txt is not read");
    assert.deepEqual(teacher.seen, ["Minsu 어제 왔어", "Yuna 뭐해"]);
  });
  await t.step("maxEmptyShare 0 keeps only texts with entities", async () => {
    const c = await pseudoLabel([fakeTeacher(SCORES)], { files, out, minConfidence: 0.95, maxEmptyShare: 0 });
    assert.equal(c.droppedEmpty, 2, "그냥 그랬어 and the test sentence (not excluded here)");
    assert.equal(c.kept, c.keptWithEntities);
    assert.ok(!(await ids()).includes("reviews.txt:2"));
  });
  await t.step("dropTypes leaves out the texts holding such an entity, not the entity alone", async () => {
    const c = await pseudoLabel([fakeTeacher(SCORES)], {
      files,
      out,
      minConfidence: 0.95,
      dropTypes: ["PS"],
    });
    assert.equal(c.droppedType, 4);
    assert.deepEqual(await ids(), ["reviews.txt:2", "reviews.txt:7"]);
  });
  await t.step("an ensemble keeps only what all its teachers find", async () => {
    const c = await pseudoLabel([fakeTeacher(SCORES), fakeTeacher(SCORES, ["Yuna", "Hana"])], {
      files,
      out,
      minConfidence: 0.95,
    });
    assert.equal(c.disagreed, 2);
    assert.deepEqual(await ids(), ["reviews.txt:1", "reviews.txt:2", "reviews.txt:7", "reviews.txt:8"]);
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pseudoLabel(): an interrupted run resumes from its checkpoint and ends as an uninterrupted one", async () => {
  const dir = await Deno.makeTempDir();
  const files = await corpus(dir);
  const whole = join(dir, "whole.tsv"), out = join(dir, "silver.tsv");
  const options = { minConfidence: 0.95, chunk: 1, checkpointSeconds: 0, settings: { minConfidence: 0.95 } };
  await pseudoLabel([fakeTeacher(SCORES)], { ...options, files, out: whole });
  // A teacher that fails on its fourth call (the fourth labelled text, line 7: nothing is excluded here).
  let calls = 0;
  const inner = fakeTeacher(SCORES);
  const failing: Teacher = {
    recognizeDetailed: (
      texts,
    ) => (++calls === 4 ? Promise.reject(new Error("killed")) : inner.recognizeDetailed(texts)),
  };
  await assert.rejects(() => pseudoLabel([failing], { ...options, files, out }), /killed/);
  assert.equal(await Deno.stat(out).then(() => true, () => false), false, "no output before the end");
  await assert.rejects(() => pseudoLabel([inner], { ...options, files, out }), /--resume/);
  await assert.rejects(
    () => pseudoLabel([inner], { ...options, settings: { minConfidence: 0.9 }, files, out, resume: true }),
    /minConfidence differ/,
  );
  const rest = fakeTeacher(SCORES);
  const counts = await pseudoLabel([rest], { ...options, files, out, resume: true });
  assert.equal(await Deno.readTextFile(out), await Deno.readTextFile(whole));
  assert.deepEqual(
    rest.seen,
    ["이건 시험 문장 이라서 빼야 해요", "Chulsoo 탭이 있어", "Yuna 뭐해", "Hana 랑 놀아"],
    "done texts are not labelled again",
  );
  assert.equal(counts.duplicate, 1, "the dedupe memory is rebuilt from the texts before the checkpoint");
  assert.equal(counts.kept, 6);
  assert.equal(counts.labelled, 7);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeKlue() output of kept texts reads back; texts that read as markup are left out", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "c.txt");
  await Deno.writeTextFile(file, "Minsu <b:PS> 태그\nMinsu 좋아\n");
  const out = join(dir, "new", "s.tsv"); // a folder that does not exist yet
  const c = await pseudoLabel([fakeTeacher()], { files: [file], out, minConfidence: 0.9 });
  assert.equal(c.unwritable, 1);
  assert.equal(
    await Deno.readTextFile(out),
    writeKlue([{ id: "c.txt:2", text: "Minsu 좋아", entities: [{ start: 0, end: 5, type: "PS" }] }]),
  );
  await Deno.remove(dir, { recursive: true });
});
