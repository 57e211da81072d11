/**
 * The inference model folder: what every front end (Deno API, CLI, server, compiled binary, browser page)
 * loads, read through one small `ModelSource` so the same code runs from a path, a `file:` URL or an
 * `https:` URL. Browser-safe: files are read with `fetch` (Deno fetches `file:` URLs too), so nothing here
 * touches `Deno.*`; other readers (an embedded archive in a compiled binary) plug in as a `ModelSource`.
 *
 * Layout (all names fixed; everything else in the folder is ignored):
 *
 * | file             | contents                                                                       |
 * |------------------|--------------------------------------------------------------------------------|
 * | `config.json`    | Hugging Face `ElectraConfig` with `id2label` / `label2id` (label names by id)    |
 * | `vocab.txt`      | WordPiece vocabulary, one token per line, id = line number                     |
 * | `tokenizer.json` | optional Hugging Face tokenizer; used instead of `vocab.txt` when present       |
 * | `inference.onnx` | the token-classification graph, weights as initializers, HF/Optimum I/O names: |
 * |                  | `input_ids`, `attention_mask`, `token_type_ids` (int64, B×T) → `logits` (B×T×L) |
 * | `nersota.json`   | `{format, version, labelMode, scheme, maxLength, stride, doLowerCase, quantized, |
 * |                  | decoding}` (`decoding`: `"argmax"` or `"bio-viterbi"`, see `InferenceMeta`)       |
 * | `crf.safetensors`| optional CRF (`crf.transitions` L×L, `crf.start_transitions`, `crf.end_transitions`),|
 * |                  | read only when `nersota.json`'s `crf` names it; then decoding is Viterbi         |
 *
 * `inference.int8.onnx` / `inference.fp16.onnx` may sit beside `inference.onnx`; `nersota.json`'s
 * `variants` lists them, and `LoadOptions.variant` picks one.
 * @module
 */
import { isMinScore, type SymbolEntities } from "./decode.ts";
import { configFromHf, type ElectraConfig, labelNames } from "../onnx/electra/config.ts";
import { type JsonText, keyLinesAt, parseJsonText } from "../onnx/json_lines.ts";
import { type CrfParams, crfParamsFromSafetensors } from "./crf.ts";
import type { Decoding } from "./window_labels.ts";
import type { LabelMode } from "./decode.ts";

/** `nersota.json`'s `format` value. */
export const INFERENCE_FORMAT = "nersota-inference";
/** Current `nersota.json` version. */
export const INFERENCE_FORMAT_VERSION = 1;

/** Tagging scheme of the labels. */
export type Scheme = "BIO" | "BIOES";

/** The contents of `nersota.json`. */
export interface InferenceMeta {
  format: typeof INFERENCE_FORMAT;
  version: number;
  /** Which sub-words the model was trained to label (ELECTRA's tagging task: first-subword). */
  labelMode: LabelMode;
  scheme: Scheme;
  /** Window length in tokens, `[CLS]`/`[SEP]` included (≤ max_position_embeddings). */
  maxLength: number;
  /** Tokens shared by consecutive windows of a long text. */
  stride: number;
  /** Whether the tokenizer lower-cases (Korean ELECTRA models do not). */
  doLowerCase: boolean;
  /** Quantisation of `inference.onnx` itself, if any. */
  quantized?: "int8" | "fp16" | null;
  /** Extra graph files: variant name → file name (e.g. `{ "int8": "inference.int8.onnx" }`). */
  variants?: Record<string, string>;
  /** File of the CRF parameters (`crf.safetensors`) when the model was trained with a CRF: Viterbi decoding. */
  crf?: string;
  /**
   * Decoding of a softmax model (no CRF): `"argmax"` per token (the default, as Hugging Face pipelines), or
   * `"bio-viterbi"`, the best valid BIO/BIOES path (all-subwords models only).
   */
  decoding?: Decoding;
  /**
   * `"drop"`: entities whose text has no letter or digit other than Hangul jamo (ㅋㅋㅋ, emoji) are left out,
   * since none of a tag set of names, places, dates and amounts can be one; `"keep"` (the default) keeps them.
   */
  symbolEntities?: SymbolEntities;
  /**
   * Entities scoring below this (the mean probability of their units' labels) are left out: a floor chosen on
   * a dev set trades a little recall for fewer spurious entities; absent or 0 keeps every entity.
   */
  minScore?: number;
  /** Free-form provenance (training run, data, scores). */
  info?: Record<string, unknown>;
  /**
   * SHA-256 (hex) of the folder's files, by name (`sealFolderFiles` writes it); each file the loader reads
   * is checked against it, so a damaged graph or a changed vocabulary fails at load instead of giving
   * different entities.
   */
  sha256?: Record<string, string>;
}

/** Reads the files of a model folder by name. */
export interface ModelSource {
  /** Where the folder is, for messages. */
  readonly location: string;
  /** The bytes of `name`, or `undefined` when the folder has no such file. */
  read(name: string): Promise<Uint8Array | undefined>;
}

/** A model folder read into memory. */
export interface LoadedModelFolder {
  location: string;
  config: ElectraConfig;
  labels: string[];
  meta: InferenceMeta;
  /** `vocab.txt` text (or undefined when only `tokenizer.json` is given). */
  vocab?: string;
  tokenizerJson?: string;
  /** The chosen ONNX graph's bytes. */
  onnx: Uint8Array;
  /** Which graph file `onnx` came from. */
  onnxFile: string;
  /** CRF parameters, when `nersota.json`'s `crf` names a file: decode with Viterbi, not argmax. */
  crf?: CrfParams;
}

const SCHEME_PREFIXES: Record<Scheme, string> = { BIO: "BI", BIOES: "BIES" };

/** True when `s` is an absolute URL (`https:`, `file:`, `data:`, …) rather than a path. */
export function isUrl(s: string): boolean {
  // Windows drive letters ("C:\x") are paths, so a scheme needs two or more letters.
  return /^[a-z][a-z0-9+.-]+:/i.test(s);
}

/**
 * Turns a folder path or URL into a folder URL with a trailing slash. Relative paths resolve against
 * `base`, else the page's location in browsers, else the process's working directory in Deno/Node.
 */
export function folderUrl(dirOrUrl: string | URL, base?: string | URL): URL {
  let s = String(dirOrUrl);
  if (!s.endsWith("/")) s += "/";
  if (dirOrUrl instanceof URL || isUrl(s)) return new URL(s);
  if (s.startsWith("/")) return new URL(`file://${encodeURI(s)}`.replace(/#/g, "%23").replace(/\?/g, "%3F"));
  const g = globalThis as {
    location?: { href: string };
    Deno?: { cwd(): string };
    process?: { cwd(): string };
  };
  // Feature-detected, not imported: keeps this module loadable in browsers.
  const cwd = g.Deno?.cwd() ?? g.process?.cwd?.();
  const root = base ?? g.location?.href ??
    (cwd ? new URL(`file://${encodeURI(cwd.endsWith("/") ? cwd : cwd + "/")}`) : undefined);
  if (!root) throw new Error(`Cannot resolve the relative model path "${dirOrUrl}": pass a URL`);
  return new URL(s.replace(/#/g, "%23").replace(/\?/g, "%3F"), root);
}

/** A `ModelSource` over a folder URL (`https:`, `http:`, `file:`), read with `fetch`. */
export function urlSource(dirOrUrl: string | URL, fetchFn: typeof fetch = globalThis.fetch): ModelSource {
  const root = folderUrl(dirOrUrl);
  const location = root.protocol === "file:" ? decodeURIComponent(root.pathname) : root.href;
  return {
    location,
    async read(name) {
      const url = new URL(name, root);
      let res: Response;
      try {
        res = await fetchFn(url);
      } catch (e) {
        // Deno's fetch throws NotFound for a missing file: URL; a network error is a real failure.
        if (
          root.protocol === "file:" &&
          /not ?found|no such file/i.test(`${(e as Error).name} ${(e as Error).message}`)
        ) return undefined;
        throw new Error(`Cannot read "${url.href}": ${(e as Error).message}`);
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`Cannot read "${url.href}": HTTP ${res.status} ${res.statusText}`);
      }
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/** A `ModelSource` over files held in memory (name → bytes or text), e.g. an embedded archive. */
export function memorySource(files: Record<string, Uint8Array | string>, location = "memory"): ModelSource {
  const enc = new TextEncoder();
  return {
    location,
    read(name) {
      const f = files[name];
      return Promise.resolve(typeof f === "string" ? enc.encode(f) : f);
    },
  };
}

/** A JSON file of the folder, with where its keys are (syntax errors read `FILE:LINE:COL: not valid JSON: …`). */
function parseJson(bytes: Uint8Array, where: string): JsonText {
  return parseJsonText(new TextDecoder().decode(bytes), where);
}

/** Checks a parsed `nersota.json`, filling defaults for missing optional keys; throws naming the bad key. */
export function parseMeta(json: unknown, where = "nersota.json", maxPositions = 512): InferenceMeta {
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`"${where}" must hold a JSON object`);
  }
  const j = json as Record<string, unknown>;
  const bad = (key: string, expected: string) =>
    new Error(`"${where}": "${key}" is ${JSON.stringify(j[key])}, expected ${expected}`);
  if (j.format !== INFERENCE_FORMAT) throw bad("format", `"${INFERENCE_FORMAT}"`);
  if (typeof j.version !== "number" || j.version > INFERENCE_FORMAT_VERSION) {
    throw bad("version", `a number ≤ ${INFERENCE_FORMAT_VERSION} (a newer NERSOTA wrote this folder?)`);
  }
  const labelMode = j.labelMode ?? "first-subword";
  if (labelMode !== "first-subword" && labelMode !== "all-subwords") {
    throw bad("labelMode", `"first-subword" or "all-subwords"`);
  }
  const scheme = j.scheme ?? "BIO";
  if (scheme !== "BIO" && scheme !== "BIOES") throw bad("scheme", `"BIO" or "BIOES"`);
  const maxLength = j.maxLength ?? Math.min(128, maxPositions);
  if (
    typeof maxLength !== "number" || !Number.isInteger(maxLength) || maxLength < 3 || maxLength > maxPositions
  ) {
    throw bad("maxLength", `an integer in [3, ${maxPositions}] (max_position_embeddings)`);
  }
  const stride = j.stride ?? Math.floor((maxLength - 2) / 4);
  if (typeof stride !== "number" || !Number.isInteger(stride) || stride < 0 || stride >= maxLength - 2) {
    throw bad("stride", `an integer in [0, ${maxLength - 2})`);
  }
  const quantized = j.quantized ?? null;
  if (quantized !== null && quantized !== "int8" && quantized !== "fp16") {
    throw bad("quantized", `null, "int8" or "fp16"`);
  }
  const variants = j.variants ?? {};
  if (typeof variants !== "object" || Array.isArray(variants)) {
    throw bad("variants", "an object of name → file");
  }
  if (j.crf !== undefined && (typeof j.crf !== "string" || !j.crf)) {
    throw bad("crf", "the CRF parameters' file name");
  }
  const sums = j.sha256;
  if (
    sums !== undefined &&
    (!sums || typeof sums !== "object" || Array.isArray(sums) ||
      !Object.values(sums).every((v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v)))
  ) {
    throw bad("sha256", "an object of file name → SHA-256 in 64 hex digits");
  }
  const decoding = j.decoding ?? "argmax";
  if (decoding !== "argmax" && decoding !== "bio-viterbi") throw bad("decoding", `"argmax" or "bio-viterbi"`);
  if (decoding === "bio-viterbi" && labelMode !== "all-subwords") {
    throw bad(
      "decoding",
      `"argmax" with labelMode "${labelMode}" (bio-viterbi needs a label on every sub-word)`,
    );
  }
  const symbolEntities = j.symbolEntities ?? "keep";
  if (symbolEntities !== "keep" && symbolEntities !== "drop") throw bad("symbolEntities", `"keep" or "drop"`);
  const minScore = j.minScore ?? 0;
  if (!isMinScore(minScore)) throw bad("minScore", "a number from 0 to 1");
  return {
    format: INFERENCE_FORMAT,
    version: j.version,
    labelMode,
    scheme,
    maxLength,
    stride,
    doLowerCase: j.doLowerCase === true,
    quantized,
    variants: variants as Record<string, string>,
    ...(j.crf !== undefined ? { crf: j.crf as string } : {}),
    decoding,
    ...(symbolEntities === "drop" ? { symbolEntities } : {}),
    ...(minScore > 0 ? { minScore } : {}),
    info: (j.info as Record<string, unknown> | undefined) ?? undefined,
    ...(sums !== undefined ? { sha256: sums as Record<string, string> } : {}),
  };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Files that `sealFolderFiles` leaves out: nersota.json holds the sums; a README is documentation. */
const UNSEALED = new Set(["nersota.json", "README.md"]);

/**
 * Records the SHA-256 of every file of a model folder (name → contents) in its `nersota.json`, in place;
 * call it last, after every file has its final contents.
 */
export async function sealFolderFiles(files: Record<string, Uint8Array | string>): Promise<void> {
  const meta = JSON.parse(
    typeof files["nersota.json"] === "string"
      ? files["nersota.json"]
      : new TextDecoder().decode(files["nersota.json"]),
  );
  const sums: Record<string, string> = {};
  const enc = new TextEncoder();
  for (const name of Object.keys(files).sort()) {
    if (UNSEALED.has(name)) continue;
    const data = files[name];
    sums[name] = await sha256Hex(typeof data === "string" ? enc.encode(data) : data);
  }
  meta.sha256 = sums;
  files["nersota.json"] = JSON.stringify(meta, null, 2) + "\n";
}

/** Throws when `bytes` of `name` do not match the SHA-256 that `meta` records for it (files it lists only). */
async function checkSum(meta: InferenceMeta, name: string, bytes: Uint8Array | undefined, at: string) {
  const want = meta.sha256?.[name];
  if (!want || !bytes) return;
  const got = await sha256Hex(bytes);
  if (got !== want) {
    throw new Error(
      `"${at}" does not match its SHA-256 in nersota.json (${got}, recorded ${want}): the file was damaged or changed after the folder was written`,
    );
  }
}

/**
 * The decoding of `folder`'s softmax labels: `override` (a pipeline or CLI option) or its `nersota.json`'s,
 * checked: bio-viterbi needs a label on every sub-word.
 */
export function folderDecoding(
  folder: Pick<LoadedModelFolder, "location" | "meta">,
  override?: Decoding,
): Decoding {
  const decoding = override ?? folder.meta.decoding ?? "argmax";
  if (decoding !== "argmax" && decoding !== "bio-viterbi") {
    throw new RangeError(`decoding must be "argmax" or "bio-viterbi", got ${JSON.stringify(decoding)}`);
  }
  if (decoding === "bio-viterbi" && folder.meta.labelMode !== "all-subwords") {
    throw new RangeError(
      `decoding "bio-viterbi" needs an all-subwords model; "${folder.location}" is ${folder.meta.labelMode}`,
    );
  }
  return decoding;
}

/** Checks that every label is `O` or `<prefix>-<TYPE>` with a prefix of the scheme. */
export function checkLabels(labels: readonly string[], scheme: Scheme, where = "config.json"): void {
  const prefixes = SCHEME_PREFIXES[scheme];
  labels.forEach((l, i) => {
    if (l === "O") return;
    const m = /^([A-Z])-(.+)$/.exec(l);
    if (!m || !prefixes.includes(m[1])) {
      throw new Error(
        `"${where}": id2label[${i}] is "${l}", expected "O" or ${
          [...prefixes].map((p) => `"${p}-TYPE"`).join(", ")
        } (${scheme})`,
      );
    }
  });
}

/**
 * The graph variant a folder opens with when none is asked for: `int8` (int8 dense layers, ONNX Runtime's CPU
 * kernels only) on the native `cpu` provider where `nersota.json` lists it, float32 otherwise. A folder lists
 * `int8` only after its F1 was measured within 0.5 of float32's (docs/benchmarks.md).
 */
export function defaultVariant(meta: Pick<InferenceMeta, "variants">, provider?: string): string | undefined {
  return provider === "cpu" && meta.variants?.int8 ? "int8" : undefined;
}

/**
 * Reads and checks a model folder; `variant` picks an extra graph listed in `nersota.json`'s `variants`
 * (`fp32`: `inference.onnx`); without it, `defaultVariant` for `provider` (float32 when none is given).
 */
export async function readModelFolder(
  source: ModelSource,
  options: { variant?: string; provider?: string } = {},
): Promise<LoadedModelFolder> {
  const at = (name: string) => `${source.location.replace(/\/$/, "")}/${name}`;
  // Files are fetched in parallel but checked in a fixed order, so a folder missing several files always
  // names the same one.
  const [configRead, metaRead, vocabBytes, tokJsonBytes] = await Promise.all(
    ["config.json", "nersota.json", "vocab.txt", "tokenizer.json"].map((name) => source.read(name)),
  );
  const need = (bytes: Uint8Array | undefined, name: string, why: string) => {
    if (!bytes) throw new Error(`Model folder "${source.location}" has no ${name} (${why})`);
    return bytes;
  };
  const configBytes = need(configRead, "config.json", "the ElectraConfig with id2label");
  const metaBytes = need(
    metaRead,
    "nersota.json",
    "inference settings; write the folder with inferenceFolderFiles() (infer/model_folder_files.ts)",
  );
  const configDoc = parseJson(configBytes, at("config.json"));
  const config = configFromHf(configDoc.json, at("config.json"), keyLinesAt(configDoc));
  const labels = labelNames(config);
  if (!labels?.length) {
    throw new Error(`"${at("config.json")}" has no id2label: not a token-classification model`);
  }
  const meta = parseMeta(
    parseJson(metaBytes, at("nersota.json")).json,
    at("nersota.json"),
    config.maxPositionEmbeddings,
  );
  checkLabels(labels, meta.scheme, at("config.json"));
  if (!vocabBytes && !tokJsonBytes) {
    throw new Error(`Model folder "${source.location}" has neither vocab.txt nor tokenizer.json`);
  }
  let onnxFile = "inference.onnx";
  const variant = options.variant ?? defaultVariant(meta, options.provider);
  if (variant && variant !== "fp32") {
    const f = meta.variants?.[variant];
    if (!f) {
      throw new Error(
        `Model folder "${source.location}" has no "${variant}" variant (has: fp32${
          Object.keys(meta.variants ?? {}).map((k) => ", " + k).join("")
        })`,
      );
    }
    onnxFile = f;
  }
  const [onnxRead, crfRead] = await Promise.all([
    source.read(onnxFile),
    meta.crf ? source.read(meta.crf) : undefined,
  ]);
  const onnx = need(onnxRead, onnxFile, "the inference graph");
  for (
    const [name, bytes] of [
      ["config.json", configBytes],
      ["vocab.txt", vocabBytes],
      ["tokenizer.json", tokJsonBytes],
      [onnxFile, onnx],
      ...(meta.crf ? [[meta.crf, crfRead] as const] : []),
    ] as const
  ) await checkSum(meta, name, bytes, at(name));
  const crfBytes = meta.crf
    ? need(crfRead, meta.crf, `the CRF parameters named by nersota.json's "crf"`)
    : undefined;
  const crf = crfBytes ? crfParamsFromSafetensors(crfBytes, at(meta.crf!), labels.length) : undefined;
  const dec = new TextDecoder();
  return {
    location: source.location,
    config,
    labels,
    meta,
    vocab: vocabBytes ? dec.decode(vocabBytes) : undefined,
    tokenizerJson: tokJsonBytes ? dec.decode(tokJsonBytes) : undefined,
    onnx,
    onnxFile,
    crf,
  };
}
