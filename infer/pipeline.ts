/**
 * The NER pipeline every front end shares: text → NFC and full-width folding (`normalize.ts`, offsets kept
 * into the input) → WordPiece encoding → overlapping windows → batches
 * (sorted by length, padded to the longest in each batch) → ONNX Runtime → softmax/argmax per token
 * (or, when the folder has a CRF, Viterbi over each window's tokens, as `train/evaluate/evaluate.ts` decodes) →
 * windows merged → BIO/BIOES decoding → `{type, text, start, end, score}` with offsets in JavaScript
 * string indices of the input. The flow of transformers.js' token-classification pipeline, without its
 * NFD accent stripping (which splits Hangul into jamo) and its UTF-16 offset drift after emoji.
 * Browser-safe: ONNX Runtime comes from `onnx/runtime.ts` (injectable as `ort`), files from a
 * `ModelSource`.
 * @module
 */
import { openSession, type OrtModule, type Provider, type Session } from "../onnx/runtime.ts";
import type { Tensor } from "../onnx/tensor.ts";
import type { CrfDecoder } from "./crf.ts";
import { type Decoding, labelDecoder, windowLabels } from "./window_labels.ts";
import { checkMinScore, decodeEntities, labelUnits, type SymbolEntities } from "./decode.ts";
import type { Encoding } from "./encoding.ts";
import {
  folderDecoding,
  type InferenceMeta,
  type LoadedModelFolder,
  type ModelSource,
  readModelFolder,
  urlSource,
} from "./model_folder.ts";
import { normalizeForModel, originalSpan } from "./normalize.ts";
import { WordPieceTokenizer } from "./tokenizer.ts";
import { mergeWindows, splitWindows, type Window } from "./windows.ts";

/** One recognised entity; `text === input.slice(start, end)`. */
export interface Entity {
  /** Entity type without the BIO prefix, e.g. `PS`, `LC`, `DT`. */
  type: string;
  text: string;
  /** `[start, end)` in JavaScript string indices (UTF-16 code units) of the input. */
  start: number;
  end: number;
  /**
   * Mean softmax probability of the entity's token labels. With a CRF the labels are the Viterbi path's
   * and each token's probability is still its softmax probability of the chosen label (a confidence,
   * not the path's probability).
   */
  score: number;
}

/**
 * The label the model gave one unit of a text: a token, or in `first-subword` mode a word (whose later
 * sub-words only continue its label), with the probability of that label.
 */
export interface TokenLabel {
  /** `[start, end)` in JavaScript string indices of the input. */
  start: number;
  end: number;
  /** The BIO/BIOES label, e.g. `O`, `B-PS`. */
  label: string;
  /** Softmax probability of `label` (under Viterbi decoding too: a confidence, not the path's probability). */
  score: number;
}

/** One text's entities and the label of every unit it was read from (for confidence filters). */
export interface DetailedRecognition {
  entities: Entity[];
  /** One entry per labelled unit, in text order; empty for a text with nothing to tag. */
  tokens: TokenLabel[];
}

/** Options of a pipeline (also accepted by `loadRecognizer`). */
export interface PipelineOptions {
  /** Windows per ONNX Runtime run (default 32). */
  batchSize?: number;
  /** Overrides `nersota.json`'s window length (≤ its value is sensible; tests use it to force windows). */
  maxLength?: number;
  /** Overrides `nersota.json`'s window overlap. */
  stride?: number;
  /** Overrides `nersota.json`'s `decoding` of a softmax model (`argmax` or `bio-viterbi`; a CRF keeps its Viterbi). */
  decoding?: Decoding;
  /** Overrides `nersota.json`'s `symbolEntities`: `"drop"` leaves out entities with no letter or digit (ㅋㅋ, emoji). */
  symbolEntities?: SymbolEntities;
  /** Overrides `nersota.json`'s `minScore`: entities scoring below it (0–1) are left out. */
  minScore?: number;
}

/** Options of `loadRecognizer`. */
export interface LoadOptions extends PipelineOptions {
  /** Execution provider (default `cpu` under Deno/Node, `wasm` in browsers). */
  provider?: Provider;
  /** An already-imported `onnxruntime-web` / `onnxruntime-node` module (browsers pass their own). */
  ort?: OrtModule;
  /** Intra-op (native) or wasm threads. */
  threads?: number;
  /**
   * Graph variant from `nersota.json`'s `variants` (`int8`, `fp16`) or `fp32` (`inference.onnx`); default
   * `int8` on the `cpu` provider where the folder lists it, else fp32 (`defaultVariant`).
   */
  variant?: string;
  /** `fetch` to read URLs with (default `globalThis.fetch`). */
  fetch?: typeof fetch;
}

/** Options of one `recognize` call. */
export interface RecognizeOptions {
  /** Stops the work between ONNX Runtime batches; `recognize` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * One signal per text (or undefined): windows of a text whose signal has aborted are skipped in the
   * batches still to run, and its entities come back empty (a server drops the texts of clients that left).
   */
  textSignals?: readonly (AbortSignal | undefined)[];
}

/** Counts and timings of the latest `recognize` call. */
export interface RunStats {
  texts: number;
  windows: number;
  /** Real tokens fed to the model (special tokens included, padding excluded). */
  tokens: number;
  /** Tokens including padding. */
  paddedTokens: number;
  batches: number;
  tokenizeMs: number;
  inferenceMs: number;
  decodeMs: number;
  totalMs: number;
}

/** What a loaded model is, for `/v1/model` and the browser page. */
export interface ModelInfo {
  location: string;
  onnxFile: string;
  provider: Provider;
  labels: string[];
  entityTypes: string[];
  labelMode: InferenceMeta["labelMode"];
  scheme: InferenceMeta["scheme"];
  maxLength: number;
  stride: number;
  quantized: InferenceMeta["quantized"];
  /** How labels are picked: `viterbi` with the folder's CRF, else `nersota.json`'s `decoding` (`argmax` by default). */
  decoding: "argmax" | "viterbi" | "bio-viterbi";
  /** Whether entities with no letter or digit are kept or dropped (`nersota.json`'s `symbolEntities`). */
  symbolEntities: SymbolEntities;
  /** Entities scoring below this are left out (`nersota.json`'s `minScore`; 0 keeps all). */
  minScore: number;
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
}

const now = () => globalThis.performance?.now() ?? Date.now();

/**
 * Replaces lone surrogates by U+FFFD one code unit for one, so the tokenizer sees well-formed text while
 * every index still points into the caller's string.
 */
export function wellFormed(text: string): string {
  const s = text as string & { toWellFormed?: () => string };
  if (typeof s.toWellFormed === "function") return s.toWellFormed();
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

function isDenoOrNode(): boolean {
  const g = globalThis as { Deno?: unknown; process?: { versions?: { node?: string } } };
  return g.Deno !== undefined || g.process?.versions?.node !== undefined;
}

/** The default provider: native CPU under Deno/Node, wasm in browsers. */
export function defaultProvider(): Provider {
  return isDenoOrNode() ? "cpu" : "wasm";
}

interface Item {
  text: number;
  window: number;
  encoding: Encoding;
}

/** Token classification over one ONNX session and tokenizer; use `loadRecognizer` to make one. */
export class NerPipeline {
  readonly session: Session;
  readonly tokenizer: WordPieceTokenizer;
  readonly labels: readonly string[];
  readonly meta: InferenceMeta;
  readonly info: ModelInfo;
  readonly batchSize: number;
  readonly maxLength: number;
  readonly stride: number;
  /** Counts and timings of the latest `recognize` call. */
  lastStats: RunStats | undefined;
  #hasTypeIds: boolean;
  #crf: CrfDecoder | undefined;
  #symbols: SymbolEntities;
  #minScore: number;

  constructor(
    session: Session,
    tokenizer: WordPieceTokenizer,
    folder: LoadedModelFolder,
    options: PipelineOptions = {},
  ) {
    this.session = session;
    this.tokenizer = tokenizer;
    this.labels = folder.labels;
    this.meta = folder.meta;
    this.batchSize = options.batchSize ?? 32;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) {
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.maxLength = options.maxLength ?? folder.meta.maxLength;
    if (
      !(Number.isInteger(this.maxLength) && this.maxLength >= 3 &&
        this.maxLength <= folder.config.maxPositionEmbeddings)
    ) {
      throw new RangeError(
        `maxLength must be an integer in [3, ${folder.config.maxPositionEmbeddings}], got ${this.maxLength}`,
      );
    }
    // An overridden maxLength keeps the folder's overlap ratio unless a stride is given.
    this.stride = options.stride ??
      (options.maxLength
        ? Math.floor(((this.maxLength - 2) * folder.meta.stride) / (folder.meta.maxLength - 2))
        : folder.meta.stride);
    for (const name of ["input_ids", "attention_mask"]) {
      if (!session.inputNames.includes(name)) {
        throw new Error(`"${folder.location}/${folder.onnxFile}" has no input "${name}"`);
      }
    }
    if (!session.outputNames.includes("logits")) {
      throw new Error(`"${folder.location}/${folder.onnxFile}" has no output "logits"`);
    }
    // Optimum exports of some models drop token_type_ids; feed it only when the graph asks for it.
    this.#hasTypeIds = session.inputNames.includes("token_type_ids");
    const decoding = folderDecoding(folder, options.decoding);
    this.#crf = labelDecoder(folder.labels, folder.crf, decoding);
    const symbols = options.symbolEntities ?? folder.meta.symbolEntities ?? "keep";
    if (symbols !== "keep" && symbols !== "drop") {
      throw new RangeError(`symbolEntities must be "keep" or "drop", got ${JSON.stringify(symbols)}`);
    }
    this.#symbols = symbols;
    this.#minScore = checkMinScore(options.minScore ?? folder.meta.minScore ?? 0, "minScore");
    this.info = {
      location: folder.location,
      onnxFile: folder.onnxFile,
      provider: session.provider,
      labels: [...folder.labels],
      entityTypes: [...new Set(folder.labels.filter((l) => l !== "O").map((l) => l.slice(2)))],
      labelMode: folder.meta.labelMode,
      scheme: folder.meta.scheme,
      maxLength: this.maxLength,
      stride: this.stride,
      quantized: folder.meta.quantized ?? null,
      decoding: folder.crf ? "viterbi" : decoding,
      symbolEntities: symbols,
      minScore: this.#minScore,
      vocabSize: folder.config.vocabSize,
      hiddenSize: folder.config.hiddenSize,
      numHiddenLayers: folder.config.numHiddenLayers,
    };
  }

  /** Opens a session for a model folder already read into memory. */
  static async fromFolder(folder: LoadedModelFolder, options: LoadOptions = {}): Promise<NerPipeline> {
    const tokenizer = folder.tokenizerJson
      ? WordPieceTokenizer.fromTokenizerJson(folder.tokenizerJson)
      : WordPieceTokenizer.fromVocab(folder.vocab!, { lowercase: folder.meta.doLowerCase });
    if (tokenizer.vocabSize > folder.config.vocabSize) {
      throw new Error(
        `"${folder.location}": the tokenizer has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${folder.config.vocabSize}`,
      );
    }
    const session = await openSession(folder.onnx, {
      provider: options.provider ?? defaultProvider(),
      ort: options.ort,
      threads: options.threads,
    });
    return new NerPipeline(session, tokenizer, folder, options);
  }

  /**
   * Recognises entities in one text (→ entities) or many (→ one entity list per text, batched together).
   * Between ONNX Runtime batches it yields to the event loop, so that other work on this thread (an HTTP
   * server's other requests, a page's UI) runs, and it stops there when `options.signal` aborts.
   */
  recognize(text: string, options?: RecognizeOptions): Promise<Entity[]>;
  recognize(texts: readonly string[], options?: RecognizeOptions): Promise<Entity[][]>;
  async recognize(
    input: string | readonly string[],
    options: RecognizeOptions = {},
  ): Promise<Entity[] | Entity[][]> {
    if (typeof input === "string") return (await this.#recognizeMany([input], options))[0];
    if (!Array.isArray(input)) {
      throw new TypeError(
        `recognize() expects a string or an array of strings, got ${input === null ? "null" : typeof input}`,
      );
    }
    input.forEach((t, i) => {
      if (typeof t !== "string") {
        throw new TypeError(
          `recognize(): texts[${i}] is ${t === null ? "null" : typeof t}, expected a string`,
        );
      }
    });
    return await this.#recognizeMany(input, options);
  }

  /** Tokens the model sees for `text` (special tokens included, before windowing): what a request costs. */
  countTokens(text: string): number {
    return this.#encode(text).ids.length;
  }

  /** Per-token label ids and probabilities of each text's full encoding (windows merged); for tests and tools. */
  async predictTokens(
    texts: readonly string[],
    options: RecognizeOptions = {},
  ): Promise<{ encoding: Encoding; ids: number[]; probs: number[] }[]> {
    const t0 = now();
    const encodings = texts.map((t) => this.#encode(t));
    const windows = encodings.map((e) => this.#windows(e));
    const t1 = now();
    const stats: RunStats = {
      texts: texts.length,
      windows: 0,
      tokens: 0,
      paddedTokens: 0,
      batches: 0,
      tokenizeMs: t1 - t0,
      inferenceMs: 0,
      decodeMs: 0,
      totalMs: 0,
    };
    const preds = await this.#run(windows, stats, options);
    const out = encodings.map((encoding, i) => {
      if (windows[i].length === 0 || options.textSignals?.[i]?.aborted) {
        return {
          encoding,
          ids: encoding.ids.map(() => 0),
          probs: encoding.ids.map(() => 1),
        };
      }
      const merged = mergeWindows(encoding, windows[i], preds[i]);
      return { encoding, ids: merged.map((p) => p.id), probs: merged.map((p) => p.p) };
    });
    stats.totalMs = now() - t0;
    this.lastStats = stats;
    return out;
  }

  /** Releases the ONNX Runtime session. */
  async release(): Promise<void> {
    await this.session.release();
  }

  /**
   * Recognises entities in many texts (batched together) and returns, beside each text's entities, the
   * label and probability of every unit the entities were decoded from: what a confidence filter needs to
   * judge the `O` tokens as well as the entities (`deno task pseudo-label`).
   */
  async recognizeDetailed(
    texts: readonly string[],
    recognizeOptions: RecognizeOptions = {},
  ): Promise<DetailedRecognition[]> {
    const t0 = now();
    const predicted = await this.predictTokens(texts, recognizeOptions);
    const t1 = now();
    const options = {
      labels: this.labels,
      mode: this.meta.labelMode,
      symbolEntities: this.#symbols,
      minScore: this.#minScore,
    };
    const out = predicted.map(({ encoding, ids, probs }, i) => ({
      entities: decodeEntities(texts[i], encoding, ids, probs, options)
        .map(({ type, text, start, end, score }) => ({ type, text, start, end, score })),
      tokens: labelUnits(encoding, ids, probs, options).filter((u) => u.tokens.length > 0).map((u) => ({
        start: encoding.offsets[u.tokens[0]][0],
        end: encoding.offsets[u.tokens[u.tokens.length - 1]][1],
        label: u.tag,
        score: u.probs[0],
      })),
    }));
    const stats = this.lastStats!;
    stats.decodeMs = now() - t1;
    stats.totalMs = now() - t0;
    return out;
  }

  async #recognizeMany(texts: readonly string[], options: RecognizeOptions): Promise<Entity[][]> {
    return (await this.recognizeDetailed(texts, options)).map((r) => r.entities);
  }

  // Tokenizes the text as the vocabulary was built (NFC, full-width ASCII folded: normalize.ts) with
  // offsets into the caller's string.
  #encode(text: string): Encoding {
    const wf = wellFormed(text);
    const n = normalizeForModel(wf);
    if (!n) return this.tokenizer.encode(wf);
    const enc = this.tokenizer.encode(n.text);
    enc.offsets = enc.offsets.map((o, k) => enc.specialTokensMask[k] ? o : originalSpan(n, o[0], o[1]));
    return enc;
  }

  #windows(encoding: Encoding): Window[] {
    // A text with no content tokens (empty, whitespace, control characters) has nothing to tag.
    if (!encoding.specialTokensMask.some((m) => m === 0)) return [];
    return splitWindows(encoding, {
      maxLength: this.maxLength,
      stride: this.stride,
      clsId: this.tokenizer.clsId,
      sepId: this.tokenizer.sepId,
      clsToken: this.tokenizer.clsToken,
      sepToken: this.tokenizer.sepToken,
    });
  }

  // Runs every window of every text in length-sorted batches; returns predictions per text per window.
  async #run(
    windows: Window[][],
    stats: RunStats,
    { signal, textSignals }: RecognizeOptions,
  ): Promise<{ id: number; p: number }[][][]> {
    const items: Item[] = [];
    windows.forEach((ws, text) =>
      ws.forEach((w, window) => items.push({ text, window, encoding: w.encoding }))
    );
    // Longest first, so that similar lengths share a batch and padding stays small; stable for ties.
    items.sort((a, b) => b.encoding.ids.length - a.encoding.ids.length);
    const preds: { id: number; p: number }[][][] = windows.map((ws) => ws.map(() => []));
    const L = this.labels.length;
    const pad = Math.max(0, this.tokenizer.padId);
    let rest = items;
    while (rest.length) {
      signal?.throwIfAborted();
      if (textSignals) rest = rest.filter((it) => !textSignals[it.text]?.aborted);
      if (!rest.length) break;
      const batch = rest.slice(0, this.batchSize);
      rest = rest.slice(this.batchSize);
      const B = batch.length, T = batch[0].encoding.ids.length;
      const ids = new BigInt64Array(B * T).fill(BigInt(pad));
      const mask = new BigInt64Array(B * T);
      batch.forEach((it, b) => {
        it.encoding.ids.forEach((id, t) => {
          ids[b * T + t] = BigInt(id);
          mask[b * T + t] = 1n;
        });
        stats.tokens += it.encoding.ids.length;
      });
      const feeds: Record<string, Tensor> = {
        input_ids: { dtype: "int64", dims: [B, T], data: ids },
        attention_mask: { dtype: "int64", dims: [B, T], data: mask },
      };
      if (this.#hasTypeIds) {
        feeds.token_type_ids = { dtype: "int64", dims: [B, T], data: new BigInt64Array(B * T) };
      }
      const t0 = now();
      const { logits } = await this.session.run(feeds, ["logits"]);
      stats.inferenceMs += now() - t0;
      if (logits.dims.length !== 3 || logits.dims[0] !== B || logits.dims[1] !== T || logits.dims[2] !== L) {
        throw new Error(
          `The model returned logits of shape [${logits.dims}], expected [${B}, ${T}, ${L}] (labels in config.json)`,
        );
      }
      const data = logits.dtype === "float32"
        ? logits.data as Float32Array
        : Float32Array.from(logits.data as ArrayLike<number>);
      batch.forEach((it, b) => {
        const n = it.encoding.ids.length;
        preds[it.text][it.window] = windowLabels(data.subarray(b * T * L, (b * T + n) * L), L, this.#crf);
      });
      stats.batches++;
      stats.windows += B;
      stats.paddedTokens += B * T;
      // A run holds this thread for its whole length (onnxruntime-node's run is synchronous under Deno).
      if (rest.length) await new Promise((r) => setTimeout(r, 0));
    }
    signal?.throwIfAborted();
    return preds;
  }
}

/**
 * Loads a model folder (a path, or an `https:`/`file:` URL, or any `ModelSource`) and opens a recognizer.
 *
 * @example
 * ```ts
 * import { loadRecognizer } from "./pipeline.ts";
 * const ner = await loadRecognizer(new URL("../fixtures/ner-tiny/", import.meta.url));
 * const entities = await ner.recognize("어제 강남역에서 민수랑 만났어");
 * for (const e of entities) if (e.text !== "어제 강남역에서 민수랑 만났어".slice(e.start, e.end)) throw new Error("bad offsets");
 * await ner.release();
 * ```
 */
export async function loadRecognizer(
  model: string | URL | ModelSource,
  options: LoadOptions = {},
): Promise<NerPipeline> {
  const source = typeof model === "object" && "read" in model ? model : urlSource(model, options.fetch);
  const folder = await readModelFolder(source, {
    variant: options.variant,
    provider: options.provider ?? defaultProvider(),
  });
  return await NerPipeline.fromFolder(folder, options);
}
