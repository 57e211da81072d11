// The server under load, faults and bad input (issue 22, items 1 and 6; issue 20, item 5).
import assert from "node:assert/strict";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { type RunningServer, serveModel, type ServerOptions, startServer } from "../../infer/server.ts";
import { localModel, type ServedModel, workerModel } from "../../infer/served_model.ts";
import { FIXTURE, SENTENCES } from "./ner_fixture.ts";

async function withServer(
  model: ServedModel | "pipeline",
  options: ServerOptions,
  fn: (base: string, s: RunningServer) => Promise<void>,
): Promise<void> {
  const m = model === "pipeline" ? await loadRecognizer(FIXTURE, { provider: "cpu" }) : model;
  const ac = new AbortController();
  const s = startServer(m, { port: 0, signal: ac.signal, handleSignals: false, ...options });
  try {
    await fn(`http://127.0.0.1:${s.addr.port}`, s);
  } finally {
    ac.abort();
    await s.finished;
  }
}

const post = (url: string, body: unknown, init: RequestInit = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

/** Sends raw bytes and returns what the server answers before closing (or "" when it closes silently). */
async function raw(port: number, bytes: string, until?: Promise<unknown>): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(bytes));
  until?.then(() => {});
  const buf = new Uint8Array(4096);
  let out = "";
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += new TextDecoder().decode(buf.subarray(0, n));
      if (/\r\n\r\n[\s\S]*\}$/.test(out)) break;
    }
  } catch {
    // Reset by the server: what arrived so far is the answer.
  }
  conn.close();
  return out;
}

Deno.test("server: /health answers while a heavy request runs in the worker", async () => {
  const model = await workerModel(FIXTURE, { provider: "cpu" }, { maxTokens: 1e6 });
  await withServer(model, { maxBatch: 32 }, async (base) => {
    const heavy = post(`${base}/v1/recognize/batch`, { texts: Array(32).fill("민수 서울 ".repeat(200)) });
    let done = false;
    heavy.then(() => (done = true));
    // Wait until the heavy request is queued or running, then ask for /health.
    let health;
    do {
      await tick(5);
      health = await (await fetch(`${base}/health`)).json();
    } while (health.queued === 0 && !done);
    assert.equal(done, false, "/health answered only after the heavy request finished");
    assert.equal(health.queued, 1);
    const r = await heavy;
    assert.equal(r.status, 200);
    assert.equal((await r.json()).results.length, 32);
  });
});

Deno.test("server: a request over the token limit is refused with 413 before any run", async () => {
  await withServer("pipeline", { maxTokens: 50 }, async (base, s) => {
    const r = await post(`${base}/v1/recognize`, { text: "민수 ".repeat(60) });
    assert.equal(r.status, 413);
    assert.match((await r.json()).error.message, /tokens, over the limit of 50/);
    const ok = await post(`${base}/v1/recognize`, { text: "민수 ".repeat(10) });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(s.batcher.texts, 1, "only the request within the limit ran");
  });
});

Deno.test("server: a full queue answers 503 with Retry-After", async () => {
  await withServer("pipeline", { maxQueue: 2, batchDelayMs: 300 }, async (base, s) => {
    const first = [post(`${base}/v1/recognize`, { text: "a" }), post(`${base}/v1/recognize`, { text: "b" })];
    while (s.batcher.queued < 2) await tick();
    const r = await post(`${base}/v1/recognize`, { text: "c" });
    assert.equal(r.status, 503);
    assert.match(r.headers.get("retry-after")!, /^[1-9]\d*$/);
    assert.match((await r.json()).error.message, /busy: 2 requests are queued \(limit 2\)/);
    for (const p of first) assert.equal((await p).status, 200, "the queued requests still run");
  });
});

Deno.test("server: past the deadline a request gets 504 and its work is dropped", async () => {
  await withServer("pipeline", { timeoutMs: 30, batchDelayMs: 400 }, async (base, s) => {
    const r = await post(`${base}/v1/recognize`, { text: SENTENCES[0] });
    assert.equal(r.status, 504);
    assert.match((await r.json()).error.message, /deadline of 30 ms/);
    await s.batcher.drain();
    assert.equal(s.batcher.batches, 0, "nothing ran for the timed-out request");
  });
});

Deno.test("server: a client that leaves is not computed for", async () => {
  await withServer("pipeline", { batchDelayMs: 300 }, async (base, s) => {
    const ac = new AbortController();
    const p = post(`${base}/v1/recognize`, { text: SENTENCES[0] }, { signal: ac.signal }).catch((e) => e);
    while (s.batcher.queued === 0) await tick();
    ac.abort();
    assert.equal((await p).name, "AbortError");
    while (s.batcher.queued > 0) await tick();
    await s.batcher.drain();
    assert.equal(s.batcher.batches, 0);
  });
});

Deno.test("workerModel: a cancelled request stops its windows in the worker and gets 499", async () => {
  const model = await workerModel(FIXTURE, { provider: "cpu", batchSize: 1 }, { maxTokens: 1e6 });
  try {
    const ac = new AbortController();
    const run = model.run([
      { texts: [SENTENCES[0]] },
      { texts: Array(32).fill("민수 ".repeat(4000)), signal: ac.signal },
    ]);
    setTimeout(() => ac.abort(), 20);
    const [kept, cancelled] = await run;
    assert.ok("entities" in kept && kept.entities.length === 1);
    assert.deepEqual(cancelled, { error: { status: 499, message: "Request cancelled" } });
  } finally {
    await model.release();
  }
});

Deno.test("NerPipeline.recognize: per-text signals skip the windows still to run; a signal stops the run", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu", batchSize: 1 });
  const long = "민수 ".repeat(2000);
  const full = await ner.recognize([long]);
  const total = ner.lastStats!.windows;
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 0);
  const [cut, other] = await ner.recognize([long, SENTENCES[0]], { textSignals: [ac.signal, undefined] });
  assert.deepEqual(cut, []);
  assert.ok(ner.lastStats!.windows < total + 1, `${ner.lastStats!.windows} windows run of ${total + 1}`);
  assert.deepEqual(other, await ner.recognize(SENTENCES[0]));
  const stop = new AbortController();
  setTimeout(() => stop.abort(new Error("stopped")), 0);
  await assert.rejects(() => ner.recognize([long], { signal: stop.signal }), /stopped/);
  assert.ok(full[0].length > 0);
  await ner.release();
});

Deno.test("server: a body that stalls gets 408; a client that drops mid-body is no 500", async () => {
  const errors: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(" "));
  try {
    await withServer("pipeline", { bodyTimeoutMs: 50 }, async (base, s) => {
      const head = `POST /v1/recognize HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n`;
      const answer = await raw(s.addr.port, `${head}content-length: 100\r\n\r\n{"text": "민`);
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.match(answer, /did not arrive within 50 ms/);
      // A client that sends half its body and closes.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.addr.port });
      await conn.write(new TextEncoder().encode(`${head}content-length: 100\r\n\r\n{"te`));
      conn.close();
      await tick(100);
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    });
  } finally {
    console.error = orig;
  }
  assert.deepEqual(errors.filter((e) => /Internal|stack|at /.test(e)), []);
});

Deno.test("server: slow headers get 408 and the connection closes; an idle connection is closed", async () => {
  await withServer("pipeline", { headerTimeoutMs: 50, idleTimeoutMs: 100 }, async (base, s) => {
    const answer = await raw(s.addr.port, `POST /v1/recognize HTTP/1.1\r\nhost: x\r\ncontent-`);
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /headers did not arrive in time/);
    const idle = await Deno.connect({ hostname: "127.0.0.1", port: s.addr.port });
    assert.equal(await idle.read(new Uint8Array(16)), null, "closed by the server");
    idle.close();
    const ok = await fetch(`${base}/health`);
    assert.equal(ok.status, 200, "other clients are served");
    await ok.body?.cancel();
  });
});

Deno.test("server: a client that leaves with a large body mid-run stops its work", async () => {
  const model = await workerModel(FIXTURE, { provider: "cpu", batchSize: 1 }, { maxTokens: 1e6 });
  await withServer(model, { maxBatch: 32, maxTextLength: 20_000, maxBodyBytes: 1 << 20 }, async (base, s) => {
    const ac = new AbortController();
    const p = post(`${base}/v1/recognize/batch`, { texts: Array(32).fill("민수 ".repeat(4000)) }, {
      signal: ac.signal,
    }).catch((e) => e);
    while (s.batcher.queued === 0) await tick();
    ac.abort();
    await p;
    while (s.batcher.queued > 0) await tick();
    await s.batcher.drain();
    assert.equal(s.batcher.texts, 0, "the request's texts were not all computed");
  });
});

Deno.test("server: a body stream that errors is answered 400, not 500", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const { createHandler } = await import("../../infer/server.ts");
  const { handler } = createHandler(ner);
  const body = new ReadableStream({
    pull(c) {
      c.error(new Error("connection closed before message completed"));
    },
  });
  const r = await handler(
    new Request("http://x/v1/recognize", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
  assert.equal(r.status, 400);
  assert.match((await r.json()).error.message, /Cannot read the request body/);
  await ner.release();
});

Deno.test("server: shutdown with a stalled upload ends by its deadline", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const ac = new AbortController();
  const s = startServer(ner, {
    port: 0,
    signal: ac.signal,
    handleSignals: false,
    bodyTimeoutMs: 600_000,
    shutdownTimeoutMs: 50,
  });
  const answer = raw(
    s.addr.port,
    `POST /v1/recognize HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"te`,
  );
  while (
    s.batcher.queued === 0 &&
    !(await fetch(`http://127.0.0.1:${s.addr.port}/health`).then((r) => r.json())).requests
  ) {
    await tick();
  }
  await tick(20);
  ac.abort();
  await s.finished;
  assert.match(await answer, /^(HTTP\/1\.1 503|)/);
});

Deno.test("server: 405 carries Allow; OPTIONS and CORS preflights; CORS headers only for allowed origins", async () => {
  await withServer("pipeline", { cors: ["https://app.example"] }, async (base) => {
    const r405 = await fetch(`${base}/v1/recognize`);
    assert.equal(r405.status, 405);
    assert.equal(r405.headers.get("allow"), "POST, OPTIONS");
    await r405.body?.cancel();
    const pre = await fetch(`${base}/v1/recognize`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(pre.headers.get("access-control-allow-methods")!, /POST/);
    assert.match(pre.headers.get("access-control-allow-headers")!, /content-type/);
    const ok = await post(`${base}/v1/recognize`, { text: "a" }, {
      headers: { "content-type": "application/json", origin: "https://app.example" },
    });
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example");
    await ok.body?.cancel();
    const other = await post(`${base}/v1/recognize`, { text: "a" }, {
      headers: { "content-type": "application/json", origin: "https://evil.example" },
    });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
    const err = await post(`${base}/v1/recognize`, { nope: 1 }, {
      headers: { "content-type": "application/json", origin: "https://app.example" },
    });
    assert.equal(err.status, 422);
    assert.equal(
      err.headers.get("access-control-allow-origin"),
      "https://app.example",
      "errors carry CORS too",
    );
    await err.body?.cancel();
  });
});

Deno.test("server: Hugging Face inference-API shape and offsets in code points or UTF-8 bytes", async () => {
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const ref = await ner.recognize(SENTENCES);
  await ner.release();
  await withServer("pipeline", {}, async (base) => {
    const one = await (await post(`${base}/v1/recognize`, { inputs: SENTENCES[1] })).json();
    assert.deepEqual(
      one,
      ref[1].map((e) => ({ entity_group: e.type, score: e.score, word: e.text, start: e.start, end: e.end })),
    );
    const many = await (await post(`${base}/v1/recognize`, { inputs: SENTENCES })).json();
    assert.equal(many.length, SENTENCES.length);
    assert.deepEqual(many[3].map((e: { word: string }) => e.word), ref[3].map((e) => e.text));
    const both = await post(`${base}/v1/recognize`, { inputs: "a", text: "a" });
    assert.equal(both.status, 422);
    await both.body?.cancel();
    const text = SENTENCES[3]; // starts with two emoji
    assert.ok(ref[3].length > 0);
    const cp = await (await post(`${base}/v1/recognize?offsets=codepoint`, { text })).json();
    const chars = [...text];
    cp.entities.forEach((e: { start: number; end: number; text: string }) =>
      assert.equal(chars.slice(e.start, e.end).join(""), e.text)
    );
    const u8 = await (await post(`${base}/v1/recognize/batch?offsets=utf8`, { texts: [text] })).json();
    const bytes = new TextEncoder().encode(text);
    u8.results[0].entities.forEach((e: { start: number; end: number; text: string }) =>
      assert.equal(new TextDecoder().decode(bytes.subarray(e.start, e.end)), e.text)
    );
    const bad = await post(`${base}/v1/recognize?offsets=bytes`, { text });
    assert.equal(bad.status, 422);
    assert.match((await bad.json()).error.message, /offsets must be one of utf16, codepoint, utf8/);
  });
});

Deno.test("server: /v1/model does not expose the absolute model path (plain Deno.serve, no front)", async () => {
  await withServer("pipeline", { headerTimeoutMs: 0 }, async (base) => {
    const info = await (await fetch(`${base}/v1/model`)).json();
    assert.equal(info.location, "ner-tiny");
  });
});

/** A copy of the fixture whose config.json names one label fewer than the graph outputs. */
async function mismatchedFolder(): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const f of ["inference.onnx", "nersota.json", "vocab.txt"]) {
    await Deno.copyFile(new URL(f, FIXTURE), `${dir}/${f}`);
  }
  const config = JSON.parse(await Deno.readTextFile(new URL("config.json", FIXTURE)));
  delete config.id2label["12"];
  delete config.label2id["I-QT"];
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  return dir;
}

Deno.test("serve: a label-count mismatch fails at start, not on every request", async () => {
  const dir = await mismatchedFolder();
  await assert.rejects(() => workerModel(dir, { provider: "cpu" }), /start-up check: .*logits/);
  const ner = await loadRecognizer(dir, { provider: "cpu" });
  await assert.rejects(() => localModel(ner), /start-up check/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("serveModel(): serves through the worker, says where it listens, stops on its signal", async () => {
  const ac = new AbortController();
  let port = 0;
  const listening = Promise.withResolvers<void>();
  const logged: string[] = [];
  const done = serveModel("fixtures/ner-tiny", {}, {
    port: 0,
    cors: ["*"],
    signal: ac.signal,
    handleSignals: false,
    onListen: (a) => (port = a.port, listening.resolve()),
  }, (m) => logged.push(m));
  await listening.promise;
  const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
  const ref = await ner.recognize(SENTENCES[0]);
  await ner.release();
  const r = await post(`http://127.0.0.1:${port}/v1/recognize`, { text: SENTENCES[0] }, {
    headers: { "content-type": "application/json", origin: "https://any.example" },
  });
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  assert.deepEqual((await r.json()).entities, ref);
  ac.abort();
  assert.equal(await done, undefined);
  assert.equal(logged.length, 1);
  assert.match(
    logged[0],
    new RegExp(`fixtures/ner-tiny/? on cpu, listening on http://127\\.0\\.0\\.1:${port}/$`),
  );
});
