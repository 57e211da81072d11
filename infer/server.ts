/**
 * The HTTP JSON API behind `deno task serve` (`cli/serve.ts`): one recognizer, which runs in a worker (`infer/served_model.ts`)
 * so that this thread stays free to answer while the model runs.
 *
 * | route                      | body / answer                                                        |
 * |----------------------------|----------------------------------------------------------------------|
 * | `POST /v1/recognize`       | `{"text": "…"}` → `{"entities": [{type, text, start, end, score}]}`   |
 * |                            | `{"inputs": "…" \| ["…"]}` → Hugging Face's `[{entity_group, score, word, start, end}]` |
 * | `POST /v1/recognize/batch` | `{"texts": ["…", …]}` → `{"results": [{"entities": […]}, …]}`          |
 * | `GET /health`              | `{"status": "ok", requests, queued, batches, …}`                     |
 * | `GET /v1/model`            | the model's labels, window length, provider, sizes                   |
 *
 * Errors are JSON `{"error": {"status", "message"}}`: 400 malformed JSON or an unreadable body, 404/405
 * unknown route or method (405 with `Allow`), 408 a body slower than `bodyTimeoutMs`, 413 body, text or
 * tokens over their limits, 415 not `application/json`, 422 JSON of the wrong shape or a batch over
 * `maxBatch` texts, 503 a full queue (with `Retry-After`) or shutting down, 504 past the deadline.
 * `?offsets=codepoint|utf8` gives offsets for clients in other languages (`infer/offsets.ts`); `cors`
 * origins get CORS headers and preflight answers. Requests that arrive within `batchDelayMs` of each other
 * run as one ONNX Runtime batch (`MicroBatcher`). SIGINT/SIGTERM (or the `signal` option) stop accepting
 * connections, finish the requests in flight within `shutdownTimeoutMs`, then release the session.
 * docs/server.md has the details and measurements.
 *
 * ```sh
 * deno task serve --model models/default --port 8080
 * curl -s localhost:8080/v1/recognize -H 'content-type: application/json' -d '{"text":"어제 강남역에서 민수랑 만났어"}'
 * ```
 * @module
 */
import { basename } from "node:path";
import { type Entity, NerPipeline } from "./pipeline.ts";
import { convertOffsets, OFFSET_UNITS, type OffsetUnit } from "./offsets.ts";
import {
  DEFAULT_MAX_TOKENS,
  type ServedLoadOptions,
  type ServedModel,
  unchecked,
  workerModel,
} from "./served_model.ts";
import { guardedServe, type GuardedServer } from "./header_guard.ts";

/** Server limits and behaviour. */
export interface ServerOptions {
  hostname?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Most texts in one batch request (default 64). */
  maxBatch?: number;
  /** Longest text in UTF-16 code units (default 100,000). */
  maxTextLength?: number;
  /** Most tokens in one request when the server wraps a pipeline itself (default 65,536; see `ServeLimits`). */
  maxTokens?: number;
  /** Most requests waiting or running; one more is answered 503 with `Retry-After` (default 64). */
  maxQueue?: number;
  /** Per-request deadline from arrival to answer; past it the request is answered 504 and its work dropped (default 60 s). */
  timeoutMs?: number;
  /** Time allowed to receive a request body; past it the request is answered 408 (default 10 s). */
  bodyTimeoutMs?: number;
  /** Time from a request's first byte to its complete headers; past it 408 and the connection closes (default 10 s; 0: no front, plain `Deno.serve`). */
  headerTimeoutMs?: number;
  /** A connection idle this long between requests is closed (default 60 s). */
  idleTimeoutMs?: number;
  /** After SIGINT/SIGTERM or `signal`, how long requests in flight may take before they are cut off (default 10 s). */
  shutdownTimeoutMs?: number;
  /** Origins allowed to call from browsers (`*` for any); adds CORS headers and answers preflights. */
  cors?: string[];
  /** How long the micro-batcher waits for more requests before running (default 5 ms). */
  batchDelayMs?: number;
  /** Most texts the micro-batcher joins into one run (default 256). */
  maxMicroBatch?: number;
  /** Stops the server (tests); SIGINT/SIGTERM also do unless `handleSignals` is false. */
  signal?: AbortSignal;
  handleSignals?: boolean;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** An HTTP error with a status, a JSON body and extra headers. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

interface Pending {
  texts: string[];
  signal?: AbortSignal;
  resolve(r: Entity[][]): void;
  reject(e: unknown): void;
}

/**
 * Joins texts from concurrent requests into one model run: the first request starts a short timer, later
 * ones join until it fires or `maxTexts` is reached; runs never overlap (web sessions cannot, and on native
 * ones overlapping runs only compete for the same cores). At most `maxQueue` requests wait or run; a
 * request whose signal aborts is answered at once and its texts are dropped from the work still to do.
 */
export class MicroBatcher {
  #pending: Pending[] = [];
  #count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #lastRunMs = 0;
  /** Requests waiting or running. */
  queued = 0;
  /** Runs done and texts in them, for /health and tests. */
  batches = 0;
  texts = 0;

  /** Texts waiting for the next run. */
  get pending(): number {
    return this.#count;
  }

  constructor(
    readonly model: Pick<ServedModel, "run">,
    readonly delayMs = 5,
    readonly maxTexts = 256,
    readonly maxQueue = Infinity,
  ) {}

  /** Queues texts; resolves with their entities once their batch has run; rejects with `signal`'s reason. */
  add(texts: string[], signal?: AbortSignal): Promise<Entity[][]> {
    signal?.throwIfAborted();
    if (this.queued >= this.maxQueue) {
      const retry = Math.max(1, Math.ceil(this.#lastRunMs / 1000));
      throw new HttpError(
        503,
        `The server is busy: ${this.queued} requests are queued (limit ${this.maxQueue}); retry after ${retry} s`,
        { "retry-after": String(retry) },
      );
    }
    this.queued++;
    return new Promise<Entity[][]>((resolve, reject) => {
      const p: Pending = { texts, signal, resolve, reject };
      const onAbort = () => {
        const i = this.#pending.indexOf(p);
        if (i >= 0) {
          this.#pending.splice(i, 1);
          this.#count -= texts.length;
        }
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      p.resolve = (r) => (signal?.removeEventListener("abort", onAbort), resolve(r));
      p.reject = (e) => (signal?.removeEventListener("abort", onAbort), reject(e));
      this.#pending.push(p);
      this.#count += texts.length;
      if (this.#count >= this.maxTexts) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.delayMs);
    }).finally(() => this.queued--);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#pending;
    this.#pending = [];
    this.#count = 0;
    if (!group.length) return;
    this.#running = this.#running.then(async () => {
      const live = group.filter((p) => !p.signal?.aborted);
      if (!live.length) return;
      const t0 = performance.now();
      try {
        const results = await this.model.run(live.map((p) => ({ texts: p.texts, signal: p.signal })));
        this.batches++;
        live.forEach((p, i) => {
          const r = results[i];
          if ("error" in r) return p.reject(new HttpError(r.error.status, r.error.message));
          this.texts += p.texts.length;
          p.resolve(r.entities);
        });
      } catch (e) {
        for (const p of live) p.reject(e);
      }
      this.#lastRunMs = performance.now() - t0;
    });
  }

  /** Waits for queued work to finish. */
  async drain(): Promise<void> {
    this.#flush();
    await this.#running;
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Resolves after `ms`, or never if `signal` aborts first; for racing reads against deadlines. */
function after(ms: number, signal: AbortSignal): Promise<"timeout"> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve("timeout"), ms);
    signal.addEventListener("abort", () => clearTimeout(t), { once: true });
  });
}

async function readBody(req: Request, limit: number, timeoutMs: number, cut: AbortSignal): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, `Content-Type must be application/json, got "${type}"`);
  }
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    throw new HttpError(413, `Request body of ${declared} bytes is over the limit of ${limit} bytes`);
  }
  // Count while reading: a chunked body has no content-length to trust.
  const chunks: Uint8Array[] = [];
  let n = 0;
  if (req.body) {
    const reader = req.body.getReader();
    const done = new AbortController();
    const deadline = after(timeoutMs, done.signal);
    const cutOff = new Promise<"cut">((r) =>
      cut.aborted
        ? r("cut")
        : cut.addEventListener("abort", () => r("cut"), { once: true, signal: done.signal })
    );
    try {
      while (true) {
        let next: ReadableStreamReadResult<Uint8Array> | "timeout" | "cut";
        try {
          next = await Promise.race([reader.read(), deadline, cutOff]);
        } catch (e) {
          // The client closed the connection mid-body: nobody reads the answer, and it is not our fault.
          throw new HttpError(400, `Cannot read the request body: ${(e as Error).message}`);
        }
        if (next === "timeout") {
          throw new HttpError(408, `The request body did not arrive within ${timeoutMs} ms`);
        }
        if (next === "cut") throw new HttpError(503, "The server is shutting down");
        if (next.done) break;
        n += next.value.length;
        if (n > limit) throw new HttpError(413, `Request body is over the limit of ${limit} bytes`);
        chunks.push(next.value);
      }
    } catch (e) {
      reader.cancel().catch(() => {});
      throw e;
    } finally {
      done.abort();
    }
  }
  const bytes = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) bytes.set(c, (o += c.length) - c.length);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "Request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `Request body is not valid JSON: ${(e as Error).message}`);
  }
}

const ROUTES: Record<string, string> = {
  "/health": "GET",
  "/v1/model": "GET",
  "/v1/recognize": "POST",
  "/v1/recognize/batch": "POST",
};

/** A text field of a request, checked to be a string within the length limit. */
function checkText(t: unknown, where: string, maxText: number): string {
  if (typeof t !== "string") {
    throw new HttpError(
      422,
      `${where} must be a string, got ${t === null ? "null" : Array.isArray(t) ? "array" : typeof t}`,
    );
  }
  if (t.length > maxText) {
    throw new HttpError(413, `${where} has ${t.length} characters, over the limit of ${maxText}`);
  }
  return t;
}

/** CORS headers for a request whose origin the `cors` list allows (none otherwise). */
function corsHeaders(req: Request, cors: readonly string[]): Record<string, string> {
  const origin = req.headers.get("origin");
  if (!origin || !(cors.includes("*") || cors.includes(origin))) return {};
  return {
    "access-control-allow-origin": cors.includes("*") ? "*" : origin,
    "access-control-expose-headers": "retry-after",
    vary: "origin",
  };
}

/** The answer to an OPTIONS request: the allowed methods, and the CORS preflight headers when allowed. */
function preflight(req: Request, allow: string, extra: Record<string, string>): Response {
  const headers: Record<string, string> = extra["access-control-allow-origin"]
    ? {
      "access-control-allow-methods": allow,
      "access-control-allow-headers": req.headers.get("access-control-request-headers") ?? "content-type",
      "access-control-max-age": "600",
    }
    : {};
  return new Response(null, { status: 204, headers: { allow, ...extra, ...headers } });
}

/** The body of a recognize request's answer: our shapes, or Hugging Face's for `"inputs"`. */
async function recognize(
  batcher: MicroBatcher,
  limits: { maxBatch: number; maxText: number },
  b: Record<string, unknown>,
  path: string,
  unit: OffsetUnit,
  signal: AbortSignal,
): Promise<unknown> {
  const { maxBatch, maxText } = limits;
  const convert = (texts: string[], lists: Entity[][]) =>
    unit === "utf16" ? lists : lists.map((l, i) => convertOffsets(texts[i], l, unit));
  if (path === "/v1/recognize" && "inputs" in b) {
    // Hugging Face's inference-API shape: a string or a list of strings in, entity groups out.
    if ("text" in b) throw new HttpError(422, `Give "text" or "inputs", not both`);
    const many = Array.isArray(b.inputs);
    const texts = many
      ? (b.inputs as unknown[]).map((t, i) => checkText(t, `"inputs"[${i}]`, maxText))
      : [checkText(b.inputs, `"inputs"`, maxText)];
    if (texts.length > maxBatch) {
      throw new HttpError(422, `"inputs" has ${texts.length} items, over the limit of ${maxBatch}`);
    }
    const lists = convert(texts, await batcher.add(texts, signal)).map((l) =>
      l.map((e) => ({ entity_group: e.type, score: e.score, word: e.text, start: e.start, end: e.end }))
    );
    return many ? lists : lists[0];
  }
  if (path === "/v1/recognize") {
    if (!("text" in b)) throw new HttpError(422, `Request body needs "text" (a string) or "inputs"`);
    const texts = [checkText(b.text, `"text"`, maxText)];
    const [entities] = convert(texts, await batcher.add(texts, signal));
    return { entities };
  }
  if (!Array.isArray(b.texts)) {
    throw new HttpError(422, `Request body needs "texts" (an array of strings)`);
  }
  if (b.texts.length > maxBatch) {
    throw new HttpError(422, `"texts" has ${b.texts.length} items, over the limit of ${maxBatch}`);
  }
  const texts = b.texts.map((t, i) => checkText(t, `"texts"[${i}]`, maxText));
  const results = convert(texts, await batcher.add(texts, signal));
  return { results: results.map((entities) => ({ entities })) };
}

/** The request handler over a served model (exported for tests and for embedding in other servers). */
export function createHandler(
  model: ServedModel | NerPipeline,
  options: ServerOptions = {},
): {
  handler: (req: Request, gone?: AbortSignal) => Promise<Response>;
  batcher: MicroBatcher;
  cutOff(): void;
} {
  const served = model instanceof NerPipeline
    ? unchecked(model, { maxTokens: options.maxTokens ?? DEFAULT_MAX_TOKENS })
    : model;
  const maxBody = options.maxBodyBytes ?? 1 << 20;
  const maxBatch = options.maxBatch ?? 64;
  const maxText = options.maxTextLength ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const cors = options.cors ?? [];
  const batcher = new MicroBatcher(
    served,
    options.batchDelayMs ?? 5,
    options.maxMicroBatch ?? 256,
    options.maxQueue ?? 64,
  );
  // Aborted when shutdown's deadline passes: every request still running is answered 503 and dropped.
  const cut = new AbortController();
  const started = Date.now();
  // The folder's name only: an absolute path tells clients about the server's file system.
  const info = { ...served.info, location: basename(served.info.location.replace(/\/+$/, "")) };
  let requests = 0;
  const limits = { maxBatch, maxText };
  // `gone`: the connection closed (header_guard.ts sees it; Deno's req.signal misses it during a long run).
  const handler = async (req: Request, gone?: AbortSignal): Promise<Response> => {
    requests++;
    const url = new URL(req.url);
    const path = url.pathname;
    const extra = corsHeaders(req, cors);
    // The deadline covers reading the body, waiting in the queue and the run.
    const deadline = new AbortController();
    // Mirrors req.signal (a client that left) only while we work: Deno also aborts req.signal after every
    // successful response, and warns about listeners still attached then.
    const left = new AbortController();
    const onLeft = () => left.abort(new HttpError(499, "The client closed the connection"));
    req.signal.addEventListener("abort", onLeft, { once: true });
    gone?.addEventListener("abort", onLeft, { once: true });
    const timer = setTimeout(
      () =>
        deadline.abort(new HttpError(504, `The request took longer than the deadline of ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      const method = ROUTES[path];
      if (!method) throw new HttpError(404, `No route ${path}; routes: ${Object.keys(ROUTES).join(", ")}`);
      const allow = `${method}, OPTIONS`;
      if (req.method === "OPTIONS") return preflight(req, allow, extra);
      if (req.method !== method) {
        throw new HttpError(405, `${path} takes ${method}, not ${req.method}`, { allow });
      }
      if (path === "/health") {
        return json(
          {
            status: "ok",
            uptimeS: (Date.now() - started) / 1000,
            requests,
            queued: batcher.queued,
            batches: batcher.batches,
            texts: batcher.texts,
          },
          200,
          extra,
        );
      }
      if (path === "/v1/model") return json(info, 200, extra);
      const unitName = url.searchParams.get("offsets") ?? "utf16";
      if (!OFFSET_UNITS.includes(unitName as OffsetUnit)) {
        throw new HttpError(422, `offsets must be one of ${OFFSET_UNITS.join(", ")}, got "${unitName}"`);
      }
      const body = await readBody(req, maxBody, bodyTimeoutMs, cut.signal);
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        throw new HttpError(422, "Request body must be a JSON object");
      }
      const signal = AbortSignal.any([left.signal, deadline.signal, cut.signal]);
      return json(
        await recognize(
          batcher,
          limits,
          body as Record<string, unknown>,
          path,
          unitName as OffsetUnit,
          signal,
        ),
        200,
        extra,
      );
    } catch (e) {
      // Deadline, shutdown and a client that left abort with an HttpError as the reason.
      if (e instanceof HttpError) {
        return json({ error: { status: e.status, message: e.message } }, e.status, {
          ...extra,
          ...e.headers,
        });
      }
      console.error(`serve: ${req.method} ${path}: ${(e as Error).stack ?? e}`);
      return json({ error: { status: 500, message: "Internal error" } }, 500, extra);
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener("abort", onLeft);
      gone?.removeEventListener("abort", onLeft);
    }
  };
  return { handler, batcher, cutOff: () => cut.abort(new HttpError(503, "The server is shutting down")) };
}

/** A running server. */
export interface RunningServer {
  addr: Deno.NetAddr;
  batcher: MicroBatcher;
  /** Resolves once the server has stopped and the session is released. */
  finished: Promise<void>;
  /** Stops accepting, finishes requests in flight (up to `shutdownTimeoutMs`), releases the session. */
  shutdown(): Promise<void>;
}

/** `Deno.serve` in `guardedServe`'s shape, for `headerTimeoutMs: 0`. */
function plainServe(
  listen: Deno.ServeTcpOptions,
  handler: (req: Request) => Promise<Response>,
): GuardedServer {
  const s = Deno.serve(listen, (req) => handler(req));
  return { addr: s.addr, finished: s.finished, shutdown: () => s.shutdown(), closeAll() {} };
}

/** Serves `model` over HTTP until `signal` aborts or SIGINT/SIGTERM arrive. */
export function startServer(model: ServedModel | NerPipeline, options: ServerOptions = {}): RunningServer {
  const { handler, batcher, cutOff } = createHandler(model, options);
  const release = () => model.release();
  const signals: Deno.Signal[] = options.handleSignals === false ? [] : ["SIGINT", "SIGTERM"];
  const shutdownMs = options.shutdownTimeoutMs ?? 10_000;
  // Deno.serve's own `signal` closes open connections at once; shutdown() lets requests in flight finish.
  const listen = {
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8080,
    onListen: (addr: Deno.NetAddr) => options.onListen?.(addr),
  };
  // Header and idle timeouts need the front (header_guard.ts); 0 turns it off (plain Deno.serve).
  const server = options.headerTimeoutMs === 0 ? plainServe(listen, handler) : guardedServe({
    ...listen,
    headerTimeoutMs: options.headerTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
  }, handler);
  let stopping: Promise<void> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let stopped!: () => void;
  const stoppedOrCut = new Promise<void>((r) => (stopped = r));
  const stop = () => {
    // Past the deadline, requests still in flight (a stalled upload, a long run) are answered 503 and
    // the server stops waiting for their connections.
    stopping ??= Promise.race([
      server.shutdown(),
      new Promise<void>((r) => (deadline = setTimeout(() => (cutOff(), server.closeAll(), r()), shutdownMs))),
    ]).then(stopped);
    return stopping;
  };
  const onSignal = () => void stop();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener("abort", onSignal, { once: true });
  const finished = (async () => {
    // The server's own `finished` waits for every connection; past the deadline we stop waiting.
    await Promise.race([server.finished, stoppedOrCut]);
    clearTimeout(deadline);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await batcher.drain();
    await release();
  })();
  return {
    addr: server.addr as Deno.NetAddr,
    batcher,
    finished,
    async shutdown() {
      await stop();
      await finished;
    },
  };
}

/** Checks `cors` origins: `*`, or a scheme and host with no path; throws naming the first other one. */
export function checkCorsOrigins(origins: readonly string[]): void {
  for (const origin of origins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new Error(
        `--cors takes an origin like https://example.com (scheme and host, no path) or *, got "${origin}"`,
      );
    }
  }
}

/**
 * `deno task serve`: loads `model` in a worker (`workerModel`, checked there before listening, so a run
 * never holds this thread), serves it (`startServer`) and resolves once the server has stopped. `log` hears
 * where it listens; `options.maxTokens` is the worker's limit.
 */
export async function serveModel(
  model: string | URL,
  load: ServedLoadOptions,
  options: ServerOptions,
  log: (message: string) => void,
): Promise<void> {
  const { maxTokens, ...serverOptions } = options;
  const served = await workerModel(model, load, { maxTokens });
  const server = startServer(served, {
    ...serverOptions,
    onListen: (a) => {
      log(`${served.info.location} on ${served.info.provider}, listening on http://${a.hostname}:${a.port}/`);
      options.onListen?.(a);
    },
  });
  await server.finished;
}
