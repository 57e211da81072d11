import assert from "node:assert/strict";
import { memorySource } from "../../infer/model_folder.ts";
import { loadRecognizer, type NerPipeline, wellFormed } from "../../infer/pipeline.ts";
import { assertSameEntities, checkSpans, CROSS_TEXTS, SENTENCES } from "./ner_fixture.ts";

const FIXTURE = new URL("../../fixtures/ner-tiny/", import.meta.url);

let cpu: NerPipeline;

Deno.test("NerPipeline: setup on the fixture model (cpu)", async () => {
  cpu = await loadRecognizer(FIXTURE, { provider: "cpu" });
  assert.equal(cpu.info.provider, "cpu");
  assert.deepEqual(cpu.info.entityTypes, ["PS", "LC", "OG", "DT", "TI", "QT"]);
  assert.equal(cpu.info.maxLength, 128);
});

Deno.test("recognize() returns spans that index the input, for every fixture sentence", async () => {
  const all = await cpu.recognize(SENTENCES);
  assert.equal(all.length, SENTENCES.length);
  SENTENCES.forEach((s, i) => checkSpans(s, all[i]));
  assert.ok(all.flat().length >= 10, "the nudged fixture predicts entities");
  // Spot-check one exact result, so a silent change in tokenisation, windows or decoding shows up.
  const first = all[0].map((e) => [e.type, e.text]);
  assert.deepEqual(first, [["PS", "어제"], ["QT", "강남역에서"], ["PS", "민수랑 만났어"]]);
});

Deno.test("recognize() on a string equals recognize() on a one-text batch", async () => {
  const one = await cpu.recognize(SENTENCES[1]);
  const [batched] = await cpu.recognize([SENTENCES[1]]);
  assert.deepEqual(one, batched);
});

Deno.test("batching and padding do not change results (batch sizes 1, 2, 32)", async () => {
  const texts = [...SENTENCES, "짧아", SENTENCES[0] + " " + SENTENCES[1]];
  const single = await Promise.all(texts.map((t) => cpu.recognize(t)));
  for (const batchSize of [1, 2, 32]) {
    const p = await loadRecognizer(FIXTURE, { provider: "cpu", batchSize });
    assertSameEntities(await p.recognize(texts), single, 1e-5, `batch ${batchSize}`);
    await p.release();
  }
});

Deno.test("empty, whitespace-only and control-only texts give no entities", async () => {
  const res = await cpu.recognize(["", "   ", "\n\t  \r\n", "\u0000\u0001", " \u3000 "]);
  assert.deepEqual(res, [[], [], [], [], []]);
  assert.equal(cpu.lastStats!.windows, 0, "nothing is sent to the model");
  assert.deepEqual(await cpu.recognize([]), []);
});

Deno.test("non-string input is a TypeError", async () => {
  // deno-lint-ignore no-explicit-any
  const p = cpu as any;
  await assert.rejects(() => p.recognize(42), TypeError);
  await assert.rejects(() => p.recognize(null), /got null/);
  await assert.rejects(() => p.recognize(["ok", 1]), /texts\[1\] is number/);
});

Deno.test("lone surrogates: tokenised as U+FFFD, offsets still index the original string", async () => {
  const bad = "a\uD800b 철수 \uDC00 민수랑 만났어 \uD83D";
  assert.equal(wellFormed(bad).length, bad.length);
  const got = await cpu.recognize(bad);
  checkSpans(bad, got);
  const clean = await cpu.recognize(wellFormed(bad));
  assert.deepEqual(got.map(({ text: _, ...r }) => r), clean.map(({ text: _, ...r }) => r));
});

Deno.test("emoji before an entity do not shift offsets (UTF-16 indices)", async () => {
  const plain = "대한민국 서울 학교에서";
  const withEmoji = "😀😀 " + plain;
  const a = await cpu.recognize(withEmoji);
  checkSpans(withEmoji, a);
  assert.ok(a.some((e) => e.start >= 5), "an entity after the emoji");
  for (const e of a) assert.equal(withEmoji.slice(e.start, e.end), e.text);
});

Deno.test("non-Korean text (Latin, digits, CJK, Arabic) runs and gives valid spans", async () => {
  const texts = ["Hello, World! 12345", "東京で会いましょう", "مرحبا بالعالم", "ÀÉÎÕÜ café naïve"];
  const res = await cpu.recognize(texts);
  texts.forEach((t, i) => checkSpans(t, res[i]));
});

Deno.test("a 100k-character text is split into overlapping windows and decoded in one piece", async () => {
  const unit = SENTENCES[0] + " " + SENTENCES[1] + " ";
  const long = unit.repeat(Math.ceil(100_000 / unit.length)).slice(0, 100_000);
  const t0 = performance.now();
  const res = await cpu.recognize(long);
  const ms = performance.now() - t0;
  checkSpans(long, res);
  const st = cpu.lastStats!;
  assert.ok(st.windows > 100, `${st.windows} windows`);
  assert.ok(res.length > 1000, `${res.length} entities`);
  assert.ok(res[res.length - 1].end > 99_000, "entities reach the end of the text");
  assert.ok(ms < 30_000, `took ${ms} ms`);
});

Deno.test("windows: with maxLength 12 a long text runs as several windows and every token gets a prediction", async () => {
  const p = await loadRecognizer(FIXTURE, { provider: "cpu", maxLength: 12, stride: 4 });
  const text = SENTENCES.join(" ");
  const res = await p.recognize(text);
  checkSpans(text, res);
  assert.ok(p.lastStats!.windows > 3);
  // With windows no wider than the text, the merged per-token predictions come from real windows.
  const [tokens] = await p.predictTokens([text]);
  assert.equal(tokens.ids.length, tokens.encoding.ids.length);
  await p.release();
});

Deno.test("results are identical on onnxruntime-node cpu and onnxruntime-web wasm", async () => {
  const ref = await cpu.recognize(CROSS_TEXTS);
  const wasm = await loadRecognizer(FIXTURE, { provider: "wasm" });
  assertSameEntities(await wasm.recognize(CROSS_TEXTS), ref, 1e-4, "wasm");
  await wasm.release();
});

Deno.test("recognizeDetailed() gives recognize()'s entities and the label and probability of every word", async () => {
  // The fixture labels first sub-words: one labelled unit per word, each a whitespace/punctuation word.
  const detailed = await cpu.recognizeDetailed(SENTENCES);
  assert.deepEqual(detailed.map((d) => d.entities), await cpu.recognize(SENTENCES));
  const predicted = await cpu.predictTokens(SENTENCES);
  detailed.forEach(({ entities, tokens }, i) => {
    const { encoding, ids, probs } = predicted[i];
    const firsts = encoding.wordIds.map((w, t) => (w !== null && w !== encoding.wordIds[t - 1] ? t : -1))
      .filter((t) => t >= 0);
    assert.deepEqual(tokens.map((u) => u.label), firsts.map((t) => cpu.labels[ids[t]]));
    assert.deepEqual(tokens.map((u) => u.score), firsts.map((t) => probs[t]));
    assert.deepEqual(tokens.map((u) => u.start), firsts.map((t) => encoding.offsets[t][0]));
    const lastOf = (t: number) => encoding.wordIds.lastIndexOf(encoding.wordIds[t]);
    assert.deepEqual(tokens.map((u) => u.end), firsts.map((t) => encoding.offsets[lastOf(t)][1]));
    // A unit spans its word (through its last sub-word), so every entity starts where a unit of its type does
    // (B-, or I- after another type or O: seqeval's lenient chunking).
    for (const e of entities) {
      const u = tokens.find((x) => x.start === e.start);
      assert.ok(u && u.label.slice(2) === e.type, `entity ${e.text} starts at a ${e.type} unit`);
    }
  });
  const all = await loadRecognizer(FIXTURE, { provider: "cpu" });
  assert.deepEqual(await all.recognizeDetailed(["", " "]), [{ entities: [], tokens: [] }, {
    entities: [],
    tokens: [],
  }]);
  await all.release();
});

Deno.test("NerPipeline: release", async () => {
  await cpu.release();
});

Deno.test("symbolEntities drop: entities without a letter or digit (jamo laughter, emoji, punctuation) are left out", async () => {
  const texts = [
    "😂😂 어제 강남역에서",
    "ㅎㅎ 어제 ^^ 만났어 ㅠㅠ",
    "ㅋㅋㅋㅋ",
    "헐 ㄹㅇ 민수 ㅋㅋㅋ",
    "!!! ??? 어제",
  ];
  const kept = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const keep = await kept.recognize(texts);
  assert.equal(kept.info.symbolEntities, "keep");
  await kept.release();
  const drop = await loadRecognizer(FIXTURE, { provider: "cpu", symbolEntities: "drop" });
  try {
    assert.equal(drop.info.symbolEntities, "drop");
    const dropped = await drop.recognize(texts);
    // The fixture tags symbol spans (😂😂 as LC, ㅋㅋㅋㅋ as TI): the option removes exactly those.
    assert.deepEqual(dropped, keep.map((es) => es.filter((e) => /[가-힣A-Za-z0-9]/.test(e.text))));
    assert.ok(keep.flat().length - dropped.flat().length >= 8, JSON.stringify(keep));
    assert.deepEqual(dropped[2], []);
    assert.deepEqual(dropped[3].map((e) => e.text), ["민수 ㅋㅋㅋ"]); // a name with laughter glued on stays
    assert.deepEqual((await drop.recognizeDetailed(texts)).map((d) => d.entities), dropped);
  } finally {
    await drop.release();
  }
  await assert.rejects(
    loadRecognizer(FIXTURE, { provider: "cpu", symbolEntities: "none" as "drop" }),
    /symbolEntities must be "keep" or "drop", got "none"/,
  );
});

Deno.test("minScore: entities scoring below the floor are left out, from the option or from nersota.json", async () => {
  const every = await (async () => {
    const p = await loadRecognizer(FIXTURE, { provider: "cpu" });
    try {
      assert.equal(p.info.minScore, 0);
      return await p.recognize(SENTENCES);
    } finally {
      await p.release();
    }
  })();
  const scores = every.flat().map((e) => e.score).sort((a, b) => a - b);
  const floor = scores[Math.floor(scores.length / 2)]; // the median: some entities go, some stay
  const want = every.map((es) => es.filter((e) => e.score >= floor));
  assert.ok(want.flat().length > 0 && want.flat().length < every.flat().length, JSON.stringify(scores));
  const byOption = await loadRecognizer(FIXTURE, { provider: "cpu", minScore: floor });
  try {
    assert.equal(byOption.info.minScore, floor);
    assert.deepEqual(await byOption.recognize(SENTENCES), want);
    assert.deepEqual((await byOption.recognizeDetailed(SENTENCES)).map((d) => d.entities), want);
  } finally {
    await byOption.release();
  }
  // The same floor written in the folder's nersota.json; an option overrides it (0 keeps every entity).
  const files: Record<string, Uint8Array> = {};
  for (const name of ["config.json", "inference.onnx", "vocab.txt", "nersota.json"]) {
    files[name] = await Deno.readFile(new URL(name, FIXTURE));
  }
  const meta = JSON.parse(new TextDecoder().decode(files["nersota.json"]));
  files["nersota.json"] = new TextEncoder().encode(JSON.stringify({ ...meta, minScore: floor }));
  const byFolder = await loadRecognizer(memorySource(files, "floor"), { provider: "cpu" });
  const overridden = await loadRecognizer(memorySource(files, "floor"), { provider: "cpu", minScore: 0 });
  try {
    assert.deepEqual(await byFolder.recognize(SENTENCES), want);
    assert.deepEqual(await overridden.recognize(SENTENCES), every);
  } finally {
    await byFolder.release();
    await overridden.release();
  }
  await assert.rejects(
    loadRecognizer(FIXTURE, { provider: "cpu", minScore: 2 }),
    /minScore must be a number from 0 to 1, got 2/,
  );
});
