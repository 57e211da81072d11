/**
 * The model behind `deno task serve`: a recognizer that takes a group of requests at once, bounds each
 * request's tokens, and drops the texts of requests whose signal has aborted (clients that left, deadlines
 * passed). `workerModel` runs it in a worker so that the thread serving HTTP never waits on ONNX Runtime
 * (onnxruntime-node's `run` holds its calling thread under Deno); `localModel` runs it on this thread
 * (tests, embedding). Both run the model once before they are ready, so a broken folder fails at start.
 * Deno-only.
 * @module
 */
import { folderUrl } from "./model_folder.ts";
import {
  type Entity,
  type LoadOptions,
  loadRecognizer,
  type ModelInfo,
  type NerPipeline,
} from "./pipeline.ts";

/** One request's texts and the signal that cancels it. */
export interface ServeRequest {
  texts: string[];
  signal?: AbortSignal;
}

/** A request's entities (one list per text), or why it was refused. */
export type ServeResult = { entities: Entity[][] } | { error: { status: number; message: string } };

/** A recognizer as the server uses it. */
export interface ServedModel {
  readonly info: ModelInfo;
  /** Runs the requests' texts as one batch; results in request order. */
  run(requests: readonly ServeRequest[]): Promise<ServeResult[]>;
  /** Releases the session (and the worker). */
  release(): Promise<void>;
}

/** Limits of a served model. */
export interface ServeLimits {
  /** Most tokens (of the tokenizer, before windowing) in one request, all its texts together (default 65,536). */
  maxTokens?: number;
}

/** The default `maxTokens`. */
export const DEFAULT_MAX_TOKENS = 65_536;

const PROBE = "어제 강남역에서 민수랑 만났어";

/** Runs the model once on a short sentence; throws a start-up error naming the cause (e.g. a label-count mismatch). */
export async function checkReady(ner: NerPipeline): Promise<void> {
  try {
    await ner.recognize(PROBE);
  } catch (e) {
    throw new Error(`The model at "${ner.info.location}" failed its start-up check: ${(e as Error).message}`);
  }
}

/** Runs a group of requests on `ner` (in whichever thread holds it): token caps first, then one batch. */
export async function runRequests(
  ner: NerPipeline,
  requests: readonly ServeRequest[],
  maxTokens = DEFAULT_MAX_TOKENS,
): Promise<ServeResult[]> {
  const out: ServeResult[] = new Array(requests.length);
  const texts: string[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  requests.forEach((r, i) => {
    if (r.signal?.aborted) return void (out[i] = { error: { status: 499, message: "Request cancelled" } });
    let tokens = 0;
    for (const t of r.texts) tokens += ner.countTokens(t);
    if (tokens > maxTokens) {
      out[i] = {
        error: { status: 413, message: `The request has ${tokens} tokens, over the limit of ${maxTokens}` },
      };
      return;
    }
    for (const t of r.texts) {
      texts.push(t);
      signals.push(r.signal);
    }
  });
  const all = texts.length ? await ner.recognize(texts, { textSignals: signals }) : [];
  let o = 0;
  requests.forEach((r, i) => {
    if (out[i]) return;
    out[i] = r.signal?.aborted
      ? { error: { status: 499, message: "Request cancelled" } }
      : { entities: all.slice(o, o + r.texts.length) };
    o += r.texts.length;
  });
  return out;
}

/** Serves `ner` on this thread after its start-up check. */
export async function localModel(ner: NerPipeline, limits: ServeLimits = {}): Promise<ServedModel> {
  await checkReady(ner);
  return unchecked(ner, limits);
}

/** Serves `ner` on this thread without a start-up check (`startServer` given a pipeline). */
export function unchecked(ner: NerPipeline, limits: ServeLimits = {}): ServedModel {
  return {
    info: ner.info,
    run: (requests) => runRequests(ner, requests, limits.maxTokens),
    release: () => ner.release(),
  };
}

/** Messages to the worker (`infer/inference_worker.ts`). */
export type ToWorker =
  | {
    type: "init";
    model: string;
    options: ServedLoadOptions;
    maxTokens?: number;
  }
  | { type: "run"; id: number; requests: { texts: string[] }[] }
  | { type: "cancel"; id: number; index: number }
  | { type: "release" };

/** Messages from the worker. */
export type FromWorker =
  | { type: "ready"; info: ModelInfo }
  | { type: "failed"; message: string }
  | { type: "done"; id: number; results: ServeResult[] }
  | { type: "error"; id: number; message: string }
  | { type: "released" };

/** What a served model is loaded with (what crosses to the inference worker). */
export type ServedLoadOptions = Pick<
  LoadOptions,
  "provider" | "batchSize" | "threads" | "variant" | "minScore"
>;

/**
 * Loads `model` (a path or URL) in a worker, checks it there, and serves it from there; the calling thread
 * only posts texts and reads entities.
 */
export async function workerModel(
  model: string | URL,
  options: ServedLoadOptions = {},
  limits: ServeLimits = {},
): Promise<ServedModel> {
  const worker = new Worker(new URL("./inference_worker.ts", import.meta.url), { type: "module" });
  const calls = new Map<number, { resolve(r: ServeResult[]): void; reject(e: Error): void }>();
  let released: (() => void) | undefined;
  let failed: Error | undefined;
  const ready = new Promise<ModelInfo>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") resolve(m.info);
      else if (m.type === "failed") reject(new Error(m.message));
      else if (m.type === "done") calls.get(m.id)?.resolve(m.results);
      else if (m.type === "error") calls.get(m.id)?.reject(new Error(m.message));
      else if (m.type === "released") released?.();
      if (m.type === "done" || m.type === "error") calls.delete(m.id);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      failed = new Error(`The inference worker failed: ${e.message}`);
      reject(failed);
      for (const c of calls.values()) c.reject(failed);
      calls.clear();
    };
  });
  const post = (m: ToWorker) => worker.postMessage(m);
  post({
    type: "init",
    // Resolved here: inside the worker, a relative path would resolve against the worker's own URL.
    model: folderUrl(model).href,
    options,
    maxTokens: limits.maxTokens,
  });
  let info: ModelInfo;
  try {
    info = await ready;
  } catch (e) {
    worker.terminate();
    throw e;
  }
  let next = 0;
  return {
    info,
    run(requests) {
      if (failed) return Promise.reject(failed);
      const id = next++;
      return new Promise<ServeResult[]>((resolve, reject) => {
        const cleanups: (() => void)[] = [];
        const finish = () => cleanups.forEach((c) => c());
        calls.set(id, {
          resolve: (r) => (finish(), resolve(r)),
          reject: (e) => (finish(), reject(e)),
        });
        post({ type: "run", id, requests: requests.map((r) => ({ texts: r.texts })) });
        requests.forEach((r, index) => {
          if (!r.signal) return;
          const cancel = () => post({ type: "cancel", id, index });
          if (r.signal.aborted) return cancel();
          r.signal.addEventListener("abort", cancel, { once: true });
          cleanups.push(() => r.signal!.removeEventListener("abort", cancel));
        });
      });
    },
    async release() {
      if (!failed) {
        const done = new Promise<void>((r) => (released = r));
        post({ type: "release" });
        await done;
      }
      worker.terminate();
    },
  };
}

/** Loads a model folder in this thread and wraps it for serving (the worker's side of `workerModel`). */
export async function loadServed(
  model: string,
  options: ServedLoadOptions,
): Promise<NerPipeline> {
  const ner = await loadRecognizer(model, options);
  try {
    await checkReady(ner);
  } catch (e) {
    await ner.release();
    throw e;
  }
  return ner;
}
