import assert from "node:assert/strict";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { checkCorsOrigins, MicroBatcher, type RunningServer, startServer } from "../../infer/server.ts";
import { FIXTURE, SENTENCES } from "./ner_fixture.ts";

async function withServer(
  fn: (base: string, s: RunningServer) => Promise<void>,
  options = {},
): Promise<void> {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const ac = new AbortController();
  const s = startServer(ner, {
    port: 0,
    hostname: "127.0.0.1",
    signal: ac.signal,
    handleSignals: false,
    maxBatch: 8,
    maxBodyBytes: 4096,
    maxTextLength: 1000,
    ...options,
  });
  try {
    await fn(`http://127.0.0.1:${s.addr.port}`, s);
  } finally {
    ac.abort();
    await s.finished;
  }
}

const post = (url: string, body: unknown, type = "application/json") =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

Deno.test("server: health, model info, single and batch recognition equal the API", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const ref = await ner.recognize(SENTENCES);
  await ner.release();
  await withServer(async (base) => {
    const health = await (await fetch(`${base}/health`)).json();
    assert.equal(health.status, "ok");
    const info = await (await fetch(`${base}/v1/model`)).json();
    assert.deepEqual(info.entityTypes, ["PS", "LC", "OG", "DT", "TI", "QT"]);
    assert.equal(info.maxLength, 128);
    const one = await post(`${base}/v1/recognize`, { text: SENTENCES[0] });
    assert.equal(one.status, 200);
    assert.match(one.headers.get("content-type")!, /application\/json/);
    assert.deepEqual((await one.json()).entities, ref[0]);
    const batch = await (await post(`${base}/v1/recognize/batch`, { texts: SENTENCES })).json();
    assert.deepEqual(batch.results.map((r: { entities: unknown }) => r.entities), ref);
    const edge = await (await post(`${base}/v1/recognize/batch`, { texts: ["", "   ", "a\uD800b", "hello"] }))
      .json();
    assert.deepEqual(edge.results[0].entities, []);
    assert.deepEqual(edge.results[1].entities, []);
    assert.equal(edge.results.length, 4);
  });
});

Deno.test("server: clear 4xx errors with JSON bodies", async () => {
  await withServer(async (base) => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [post(`${base}/v1/recognize`, "{not json"), 400, /not valid JSON/],
      [post(`${base}/v1/recognize`, { text: "x" }, "text/plain"), 415, /application\/json/],
      [post(`${base}/v1/recognize`, { text: "가".repeat(5000) }), 413, /over the limit of 4096 bytes/],
      [
        post(`${base}/v1/recognize`, { text: "a".repeat(1001) }),
        413,
        /1001 characters, over the limit of 1000/,
      ],
      [post(`${base}/v1/recognize`, { txt: "x" }), 422, /needs "text"/],
      [post(`${base}/v1/recognize`, { text: 5 }), 422, /"text" must be a string, got number/],
      [post(`${base}/v1/recognize`, [1]), 422, /JSON object/],
      [post(`${base}/v1/recognize/batch`, { texts: "x" }), 422, /array of strings/],
      [
        post(`${base}/v1/recognize/batch`, { texts: ["a", null] }),
        422,
        /"texts"\[1\] must be a string, got null/,
      ],
      [
        post(`${base}/v1/recognize/batch`, { texts: Array(9).fill("a") }),
        422,
        /9 items, over the limit of 8/,
      ],
      [fetch(`${base}/v1/recognize`), 405, /takes POST, not GET/],
      [fetch(`${base}/nope`), 404, /No route \/nope/],
    ];
    for (const [p, status, msg] of cases) {
      const r = await p;
      const body = await r.json();
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(body.error.status, status);
      assert.match(body.error.message, msg);
    }
  });
});

Deno.test("server: concurrent requests are batched into few runs", async () => {
  await withServer(async (base, s) => {
    const texts = Array.from({ length: 40 }, (_, i) => SENTENCES[i % SENTENCES.length]);
    const results = await Promise.all(
      texts.map((text) => post(`${base}/v1/recognize`, { text }).then((r) => r.json())),
    );
    assert.equal(results.length, 40);
    assert.deepEqual(results[5].entities, results[0].entities);
    assert.ok(s.batcher.batches < 20, `${s.batcher.batches} runs for 40 requests`);
    assert.equal(s.batcher.texts, 40);
  }, { batchDelayMs: 20 });
});

Deno.test("server: shutdown finishes requests in flight, then stops listening", async () => {
  let base = "";
  let inFlight: Promise<Response> | undefined;
  await withServer(async (b, s) => {
    base = b;
    inFlight = post(`${b}/v1/recognize`, { text: SENTENCES[1] });
    // Abort while the request waits in the micro-batcher (its delay is long here).
    while (s.batcher.pending === 0) await new Promise((r) => setTimeout(r, 1));
  }, { batchDelayMs: 200 });
  const r = await inFlight!;
  assert.equal(r.status, 200);
  assert.ok((await r.json()).entities.length > 0);
  await assert.rejects(() => fetch(`${base}/health`));
});

Deno.test("MicroBatcher: groups by time and size, splits results back, propagates errors", async () => {
  const calls: string[][] = [];
  const fake = {
    // deno-lint-ignore require-await
    run: async (requests: readonly { texts: string[] }[]) => {
      const texts = requests.flatMap((r) => r.texts);
      calls.push(texts);
      if (texts.includes("boom")) throw new Error("boom");
      return requests.map((r) => ({
        entities: r.texts.map((t) => [{ type: "X", text: t, start: 0, end: t.length, score: 1 }]),
      }));
    },
  };
  const b = new MicroBatcher(fake, 10, 4);
  const [r1, r2] = await Promise.all([b.add(["a"]), b.add(["b", "c"])]);
  assert.deepEqual(calls, [["a", "b", "c"]]);
  assert.equal(r1[0][0].text, "a");
  assert.deepEqual(r2.map((x) => x[0].text), ["b", "c"]);
  calls.length = 0;
  await Promise.all([b.add(["1", "2", "3"]), b.add(["4", "5"])]);
  assert.deepEqual(calls[0], ["1", "2", "3", "4", "5"], "size limit flushes at once");
  await assert.rejects(() => b.add(["boom"]), /boom/);
});

Deno.test("checkCorsOrigins(): * or a scheme and host; a path, a bare host or another scheme is named", () => {
  checkCorsOrigins(["*", "https://example.com", "http://localhost:8000"]);
  for (const bad of ["example.com", "https://example.com/", "https://example.com/x", "ftp://example.com"]) {
    assert.throws(
      () => checkCorsOrigins(["*", bad]),
      new Error(
        `--cors takes an origin like https://example.com (scheme and host, no path) or *, got "${bad}"`,
      ),
    );
  }
});
