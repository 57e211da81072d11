/// <reference lib="dom" />
/**
 * The browser page: loads the model folder with onnxruntime-web (WebGPU when the browser has an
 * adapter, else wasm), recognises entities as the user types and highlights them, with timings.
 * Bundled by `cli/web.ts` into `web/dist/app.js`; onnxruntime-web's wasm files sit in `dist/ort/`.
 * Query parameters: `model` (folder URL, default `./model/`), `provider` (`wasm` | `webgpu`).
 * The output element carries `data-text` (the text its highlights belong to) and each highlight
 * `data-type`/`data-start`/`data-end`, so tests read exactly what is shown.
 * @module
 */
import * as ort from "npm:onnxruntime-web@1.30.0";
import { type Entity, loadRecognizer, type NerPipeline } from "../infer/pipeline.ts";
import type { Provider } from "../onnx/runtime.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const input = $<HTMLTextAreaElement>("input");
const output = $<HTMLDivElement>("output");
const status = $<HTMLParagraphElement>("status");
const timings = $<HTMLParagraphElement>("timings");

function setStatus(state: string, message: string): void {
  status.dataset.state = state;
  status.textContent = message;
}

/** Renders `text` with `entities` as `<mark>`s (text nodes only: no HTML injection). */
function render(text: string, entities: readonly Entity[]): void {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const e of entities) {
    if (e.start > at) frag.append(text.slice(at, e.start));
    const mark = document.createElement("mark");
    mark.dataset.type = e.type;
    mark.dataset.start = String(e.start);
    mark.dataset.end = String(e.end);
    mark.title = `${e.type} ${(e.score * 100).toFixed(1)}%`;
    mark.textContent = text.slice(e.start, e.end);
    frag.append(mark);
    at = e.end;
  }
  if (at < text.length) frag.append(text.slice(at));
  output.replaceChildren(frag);
  output.dataset.text = text;
}

async function pickProvider(): Promise<Provider> {
  const asked = new URLSearchParams(location.search).get("provider");
  if (asked === "wasm" || asked === "webgpu") return asked;
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  try {
    if (gpu && (await gpu.requestAdapter())) return "webgpu";
  } catch {
    // No usable adapter: wasm.
  }
  return "wasm";
}

async function main(): Promise<void> {
  // The wasm binaries are copied next to the page rather than fetched from a CDN (works offline).
  ort.env.wasm.wasmPaths = new URL("./ort/", location.href).href;
  const model = new URL(new URLSearchParams(location.search).get("model") ?? "./model/", location.href);
  const provider = await pickProvider();
  const t0 = performance.now();
  let ner: NerPipeline;
  try {
    ner = await loadRecognizer(model, { provider, ort });
  } catch (e) {
    if (provider !== "webgpu") throw e;
    console.warn(`WebGPU failed (${(e as Error).message}); using wasm`);
    ner = await loadRecognizer(model, { provider: "wasm", ort });
  }
  const loadMs = performance.now() - t0;
  const info = ner.info;
  setStatus(
    "ready",
    `Model ${info.location} · ${info.numHiddenLayers} layers × ${info.hiddenSize} · ${info.provider} · loaded in ${
      loadMs.toFixed(0)
    } ms`,
  );
  document.body.dataset.provider = info.provider;

  // Only the latest text matters: while a run is going, newer input waits and older is dropped.
  let running = false;
  let queued: string | undefined;
  const run = async (text: string) => {
    if (running) {
      queued = text;
      return;
    }
    running = true;
    try {
      const entities = await ner.recognize(text);
      const s = ner.lastStats!;
      render(text, entities);
      timings.textContent = `${entities.length} entities · ${s.tokens} tokens · ${s.windows} windows · ` +
        `tokenize ${s.tokenizeMs.toFixed(1)} ms · model ${s.inferenceMs.toFixed(1)} ms · total ${
          s.totalMs.toFixed(1)
        } ms`;
      setStatus("ready", status.textContent!.replace(/^(Error: )/, ""));
    } catch (e) {
      setStatus("error", `Error: ${(e as Error).message}`);
    } finally {
      running = false;
      if (queued !== undefined) {
        const next = queued;
        queued = undefined;
        void run(next);
      }
    }
  };
  input.addEventListener("input", () => void run(input.value));
  await run(input.value);
}

main().catch((e) => setStatus("error", `Error: ${(e as Error).message}`));
