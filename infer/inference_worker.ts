/**
 * The worker behind `workerModel` (`infer/served_model.ts`): holds the ONNX Runtime session, so that its
 * runs never hold the thread that serves HTTP. Messages are `ToWorker` / `FromWorker`.
 * @module
 */
import type { NerPipeline } from "./pipeline.ts";
import { type FromWorker, loadServed, runRequests, type ToWorker } from "./served_model.ts";

const self_ = globalThis as unknown as {
  postMessage(m: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
let ner: NerPipeline | undefined;
let maxTokens: number | undefined;
// Cancellation of the requests of each run in flight; the pipeline checks them between its batches.
const running = new Map<number, AbortController[]>();

self_.onmessage = async (e) => {
  const m = e.data;
  if (m.type === "init") {
    try {
      maxTokens = m.maxTokens;
      ner = await loadServed(m.model, m.options);
      self_.postMessage({ type: "ready", info: ner.info });
    } catch (err) {
      self_.postMessage({ type: "failed", message: (err as Error).message });
    }
  } else if (m.type === "run") {
    const controllers = m.requests.map(() => new AbortController());
    running.set(m.id, controllers);
    try {
      const results = await runRequests(
        ner!,
        m.requests.map((r, i) => ({ texts: r.texts, signal: controllers[i].signal })),
        maxTokens,
      );
      self_.postMessage({ type: "done", id: m.id, results });
    } catch (err) {
      self_.postMessage({ type: "error", id: m.id, message: (err as Error).message });
    } finally {
      running.delete(m.id);
    }
  } else if (m.type === "cancel") {
    running.get(m.id)?.[m.index]?.abort();
  } else if (m.type === "release") {
    await ner?.release();
    self_.postMessage({ type: "released" });
  }
};
