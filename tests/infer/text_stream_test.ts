import assert from "node:assert/strict";
import {
  InputError,
  linesOf,
  openLineSources,
  recognizeStream,
  statsLine,
  streamLines,
  textInputs,
} from "../../infer/text_stream.ts";
import type { Entity, RunStats } from "../../infer/pipeline.ts";

const enc = new TextEncoder();

Deno.test("linesOf(): invalid UTF-8 and JSON lines without a text are named by file and line", () => {
  const bad = new Uint8Array([...enc.encode("좋아\n"), 0xff, 0xfe, 0x0a]);
  assert.throws(() => linesOf(bad, "x.txt", "text"), /Cannot read line 2 of "x\.txt": not valid UTF-8/);
  assert.throws(() => linesOf(bad, "x.txt", "text"), InputError);
  assert.throws(
    () => linesOf(enc.encode('{"text": "좋아"}\n{"txt": 1}\n'), "x.jsonl", "jsonl"),
    /Cannot parse line 2 of "x\.jsonl": expected an object \{"text": "\.\.\."\}/,
  );
  assert.deepEqual(linesOf(enc.encode('{"text": "a"}\n\n {"text": "b"}'), "x.jsonl", "jsonl"), [
    { text: "a", where: 'line 1 of "x.jsonl"' },
    { text: "b", where: 'line 3 of "x.jsonl"' },
  ]);
});

Deno.test("streamLines(): lines split across chunks, CRLF, BOM, a last line without newline", async () => {
  const bytes = enc.encode("\uFEFF가나\r\n다라마\n\n끝");
  const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 9), bytes.subarray(9)];
  const got = [];
  for await (const x of streamLines(ReadableStream.from(chunks), "s", "text")) got.push(x.text);
  assert.deepEqual(got, ["가나", "다라마", "", "끝"]);
  assert.deepEqual(got, linesOf(bytes, "s", "text").map((x) => x.text));
});

Deno.test("textInputs(): the given texts first, named by argument, then each source's lines in order", async () => {
  const got = [];
  const sources = [
    { name: "a", stream: ReadableStream.from([enc.encode("x\ny\n")]) },
    { name: "b", stream: ReadableStream.from([enc.encode("z")]) },
  ];
  for await (const x of textInputs(["t"], sources, "text")) got.push(x);
  assert.deepEqual(got, [
    { text: "t", where: "argument 1" },
    { text: "x", where: 'line 1 of "a"' },
    { text: "y", where: 'line 2 of "a"' },
    { text: "z", where: 'line 1 of "b"' },
  ]);
});

Deno.test("openLineSources(): opens in order; a failure closes those opened and names the source", async () => {
  let cancelled = 0;
  const stream = () => new ReadableStream<Uint8Array>({ cancel: () => void cancelled++ });
  const ok = await openLineSources([{ name: "a", open: stream }, {
    name: "b",
    open: () => Promise.resolve(stream()),
  }]);
  assert.deepEqual(ok.map((s) => s.name), ["a", "b"]);
  await assert.rejects(
    openLineSources([{ name: "a", open: stream }, {
      name: "missing.txt",
      open: () => Promise.reject(new Error("No such file")),
    }]),
    (e) => e instanceof InputError && e.message === 'Cannot read "missing.txt": No such file',
  );
  assert.equal(cancelled, 1, "the source opened before the failure is closed");
});

Deno.test("recognizeStream(): chunks of 512 texts, the format's opening and closing, summed totals", async () => {
  const calls: number[] = [];
  let lastStats: RunStats | undefined;
  const ner = {
    get lastStats() {
      return lastStats;
    },
    recognize(texts: readonly string[]): Promise<Entity[][]> {
      calls.push(texts.length);
      lastStats = { texts: texts.length, tokens: 2 * texts.length, totalMs: 10 } as RunStats;
      return Promise.resolve(texts.map((t) => [{ type: "PS", text: t, start: 0, end: t.length, score: 1 }]));
    },
  };
  const texts = Array.from({ length: 600 }, (_, i) => `t${i}`);
  let out = "";
  const totals = await recognizeStream(
    ner,
    textInputs(texts, [], "text"),
    "label-studio",
    (s) => void (out += s),
  );
  assert.deepEqual(calls, [512, 88]);
  assert.deepEqual(totals, { texts: 600, tokens: 1200, ms: 20 });
  const tasks = JSON.parse(out);
  assert.equal(tasks.length, 600);
  assert.equal(tasks[599].data.text, "t599");
  assert.equal(
    statsLine({ ...totals, provider: "cpu" }),
    "600 texts, 1200 tokens in 20.0 ms (30000.0 texts/s, 60000 tokens/s) on cpu",
  );
});
