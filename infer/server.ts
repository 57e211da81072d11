/**
 * `deno task serve`: an HTTP JSON API over one recognizer.
 *
 * | route                      | body / answer                                                        |
 * |----------------------------|----------------------------------------------------------------------|
 * | `POST /v1/recognize`       | `{"text": "…"}` → `{"entities": [{type, text, start, end, score}]}`   |
 * | `POST /v1/recognize/batch` | `{"texts": ["…", …]}` → `{"results": [{"entities": […]}, …]}`          |
 * | `GET /health`              | `{"status": "ok", requests, batches, …}`                             |
 * | `GET /v1/model`            | the model's labels, window length, provider, sizes                   |
 *
 * Errors are JSON `{"error": {"status", "message"}}`: 400 malformed JSON, 404/405 unknown route or method,
 * 413 body over `maxBodyBytes` or a text over `maxTextLength`, 415 not `application/json`, 422 JSON of the
 * wrong shape or a batch over `maxBatch` texts. Requests that arrive within `batchDelayMs` of each other
 * run as one ONNX Runtime batch (`MicroBatcher`). SIGINT/SIGTERM (or the `signal` option) stop accepting
 * connections, finish the requests in flight, then release the session.
 *
 * ```sh
 * deno task serve --model models/default --port 8080
 * curl -s localhost:8080/v1/recognize -H 'content-type: application/json' -d '{"text":"어제 강남역에서 민수랑 만났어"}'
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import type { Provider } from "../onnx/runtime.ts";
import { DEFAULT_MODEL, FALLBACK_MODEL } from "./cli.ts";
import { type Entity, loadRecognizer, type NerPipeline } from "./pipeline.ts";
import { intFlag, runMain } from "./cli_util.ts";

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

/** An HTTP error with a status and a JSON body. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Pending {
  texts: string[];
  resolve(r: Entity[][]): void;
  reject(e: unknown): void;
}

/**
 * Joins texts from concurrent requests into one `recognize` call: the first request starts a short
 * timer, later ones join until it fires or `maxTexts` is reached; runs never overlap (web sessions
 * cannot, and on native ones overlapping runs only compete for the same cores).
 */
export class MicroBatcher {
  #pending: Pending[] = [];
  #count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  /** Runs done and texts in them, for /health and tests. */
  batches = 0;
  texts = 0;

  /** Texts waiting for the next run. */
  get pending(): number {
    return this.#count;
  }

  constructor(readonly ner: Pick<NerPipeline, "recognize">, readonly delayMs = 5, readonly maxTexts = 256) {}

  /** Queues texts; resolves with their entities once their batch has run. */
  add(texts: string[]): Promise<Entity[][]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ texts, resolve, reject });
      this.#count += texts.length;
      if (this.#count >= this.maxTexts) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.delayMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#pending;
    this.#pending = [];
    this.#count = 0;
    if (!group.length) return;
    this.#running = this.#running.then(async () => {
      try {
        const all = await this.ner.recognize(group.flatMap((p) => p.texts));
        this.batches++;
        this.texts += all.length;
        let o = 0;
        for (const p of group) {
          p.resolve(all.slice(o, o + p.texts.length));
          o += p.texts.length;
        }
      } catch (e) {
        for (const p of group) p.reject(e);
      }
    });
  }

  /** Waits for queued work to finish. */
  async drain(): Promise<void> {
    this.#flush();
    await this.#running;
  }
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

async function readBody(req: Request, limit: number): Promise<unknown> {
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
    for await (const c of req.body) {
      n += c.length;
      if (n > limit) throw new HttpError(413, `Request body is over the limit of ${limit} bytes`);
      chunks.push(c);
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

/** The request handler over a recognizer (exported for tests and for embedding in other servers). */
export function createHandler(
  ner: NerPipeline,
  options: ServerOptions = {},
): { handler: (req: Request) => Promise<Response>; batcher: MicroBatcher } {
  const maxBody = options.maxBodyBytes ?? 1 << 20;
  const maxBatch = options.maxBatch ?? 64;
  const maxText = options.maxTextLength ?? 100_000;
  const batcher = new MicroBatcher(ner, options.batchDelayMs ?? 5, options.maxMicroBatch ?? 256);
  const started = Date.now();
  let requests = 0;
  const checkText = (t: unknown, where: string): string => {
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
  };
  const handler = async (req: Request): Promise<Response> => {
    requests++;
    const path = new URL(req.url).pathname;
    try {
      const routes: Record<string, string> = {
        "/health": "GET",
        "/v1/model": "GET",
        "/v1/recognize": "POST",
        "/v1/recognize/batch": "POST",
      };
      const method = routes[path];
      if (!method) throw new HttpError(404, `No route ${path}; routes: ${Object.keys(routes).join(", ")}`);
      if (req.method !== method) throw new HttpError(405, `${path} takes ${method}, not ${req.method}`);
      if (path === "/health") {
        return json({
          status: "ok",
          uptimeS: (Date.now() - started) / 1000,
          requests,
          batches: batcher.batches,
          texts: batcher.texts,
        });
      }
      if (path === "/v1/model") return json(ner.info);
      const body = await readBody(req, maxBody);
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        throw new HttpError(422, "Request body must be a JSON object");
      }
      const b = body as Record<string, unknown>;
      if (path === "/v1/recognize") {
        if (!("text" in b)) throw new HttpError(422, `Request body needs "text" (a string)`);
        const [entities] = await batcher.add([checkText(b.text, `"text"`)]);
        return json({ entities });
      }
      if (!Array.isArray(b.texts)) {
        throw new HttpError(422, `Request body needs "texts" (an array of strings)`);
      }
      if (b.texts.length > maxBatch) {
        throw new HttpError(422, `"texts" has ${b.texts.length} items, over the limit of ${maxBatch}`);
      }
      const texts = b.texts.map((t, i) => checkText(t, `"texts"[${i}]`));
      const results = await batcher.add(texts);
      return json({ results: results.map((entities) => ({ entities })) });
    } catch (e) {
      if (e instanceof HttpError) return json({ error: { status: e.status, message: e.message } }, e.status);
      console.error(`serve: ${req.method} ${path}: ${(e as Error).stack ?? e}`);
      return json({ error: { status: 500, message: "Internal error" } }, 500);
    }
  };
  return { handler, batcher };
}

/** A running server. */
export interface RunningServer {
  addr: Deno.NetAddr;
  batcher: MicroBatcher;
  /** Resolves once the server has stopped and the session is released. */
  finished: Promise<void>;
  /** Stops accepting, finishes requests in flight, releases the session. */
  shutdown(): Promise<void>;
}

/** Serves `ner` over HTTP until `signal` aborts or SIGINT/SIGTERM arrive. */
export function startServer(ner: NerPipeline, options: ServerOptions = {}): RunningServer {
  const { handler, batcher } = createHandler(ner, options);
  const signals: Deno.Signal[] = options.handleSignals === false ? [] : ["SIGINT", "SIGTERM"];
  // Deno.serve's own `signal` closes open connections at once; shutdown() lets requests in flight finish.
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8080,
    onListen: (addr) => options.onListen?.(addr as Deno.NetAddr),
  }, handler);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= server.shutdown());
  const onSignal = () => void stop();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener("abort", onSignal, { once: true });
  const finished = server.finished.then(async () => {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    await batcher.drain();
    await ner.release();
  });
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

const USAGE =
  `Usage: deno task serve [--model DIR|URL] [--port 8080] [--host 127.0.0.1] [--provider cpu|wasm|webgpu|cuda]
                       [--batch-size 32] [--max-batch 64] [--max-body-bytes 1048576] [--max-text-length 100000]`;

/** CLI entry point. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      provider: { type: "string" },
      "batch-size": { type: "string" },
      "max-batch": { type: "string" },
      "max-body-bytes": { type: "string" },
      "max-text-length": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const int = (
    name: string,
    v: string | undefined,
    min: number,
  ) => (v === undefined ? undefined : intFlag(name, v, min));
  let model: string | URL | undefined = values.model;
  if (!model) {
    try {
      await Deno.stat(new URL("nersota.json", DEFAULT_MODEL));
      model = DEFAULT_MODEL;
    } catch {
      model = FALLBACK_MODEL;
      console.error(
        "serve: no trained default model in models/default/ yet; serving the random-weight fixture fixtures/ner-tiny/",
      );
    }
  }
  const ner = await loadRecognizer(model, {
    provider: values.provider as Provider | undefined,
    batchSize: int("batch-size", values["batch-size"], 1),
  });
  const server = startServer(ner, {
    hostname: values.host,
    port: int("port", values.port, 0),
    maxBatch: int("max-batch", values["max-batch"], 1),
    maxBodyBytes: int("max-body-bytes", values["max-body-bytes"], 1),
    maxTextLength: int("max-text-length", values["max-text-length"], 1),
    onListen: (a) =>
      console.error(
        `serve: ${ner.info.location} on ${ner.info.provider}, listening on http://${a.hostname}:${a.port}/`,
      ),
  });
  await server.finished;
  console.error("serve: stopped");
  return 0;
}

if (import.meta.main) await runMain("serve", main);
