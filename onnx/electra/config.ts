/**
 * The ELECTRA configuration: Hugging Face `ElectraConfig` fields in camelCase, read from and written to
 * a `config.json` with HF's snake_case names, so that any ELECTRA size works. Unknown keys are rejected
 * (a typo must not silently fall back to a default); keys HF writes that do not change the network
 * (`architectures`, `id2label`, `transformers_version`, …) are kept verbatim in `extras` and written back.
 * @module
 */
import { type KeyLines, Settings, type SettingsValues } from "../settings.ts";

/** The settings of one ELECTRA network, declared once, with Hugging Face's `ElectraConfig` keys and defaults. */
export const ELECTRA_TABLE = {
  vocabSize: {
    key: "vocab_size",
    default: 30522,
    check: { type: "integer", min: 1 },
    doc: "word-piece vocabulary size",
  },
  embeddingSize: {
    key: "embedding_size",
    default: 128,
    check: { type: "integer", min: 1 },
    doc: "width of the embedding tables (projected to hidden_size by embeddings_project when they differ)",
  },
  hiddenSize: {
    key: "hidden_size",
    default: 256,
    check: { type: "integer", min: 1 },
    doc: "width of the encoder",
  },
  numHiddenLayers: {
    key: "num_hidden_layers",
    default: 12,
    check: { type: "integer", min: 1 },
    doc: "encoder layers",
  },
  numAttentionHeads: {
    key: "num_attention_heads",
    default: 4,
    check: { type: "integer", min: 1 },
    doc: "attention heads per layer",
  },
  intermediateSize: {
    key: "intermediate_size",
    default: 1024,
    check: { type: "integer", min: 1 },
    doc: "feed-forward width",
  },
  hiddenAct: {
    key: "hidden_act",
    default: "gelu",
    check: {
      type: "oneOf",
      values: ["gelu"],
      expected: `"gelu" (the erf form every released ELECTRA uses; no other is supported)`,
    },
    doc: "activation of the feed-forward layers",
  },
  hiddenDropoutProb: {
    key: "hidden_dropout_prob",
    default: 0.1,
    check: { type: "number", min: 0, lt: 1 },
    doc: "dropout of hidden states",
  },
  attentionProbsDropoutProb: {
    key: "attention_probs_dropout_prob",
    default: 0.1,
    check: { type: "number", min: 0, lt: 1 },
    doc: "dropout of attention probabilities",
  },
  maxPositionEmbeddings: {
    key: "max_position_embeddings",
    default: 512,
    check: { type: "integer", min: 1 },
    doc: "longest sequence (rows of the position table)",
  },
  typeVocabSize: {
    key: "type_vocab_size",
    default: 2,
    check: { type: "integer", min: 1 },
    doc: "token types (segments)",
  },
  initializerRange: {
    key: "initializer_range",
    default: 0.02,
    check: { type: "number", gt: 0 },
    doc: "std of the normal weight init",
  },
  layerNormEps: {
    key: "layer_norm_eps",
    default: 1e-12,
    check: { type: "number", gt: 0 },
    doc: "LayerNorm ε",
  },
  padTokenId: { key: "pad_token_id", default: 0, check: { type: "integer", min: 0 }, doc: "id of [PAD]" },
  positionEmbeddingType: {
    key: "position_embedding_type",
    default: "absolute",
    check: {
      type: "oneOf",
      values: ["absolute"],
      expected: `"absolute" (no other position embeddings are supported)`,
    },
    doc: "position embeddings",
  },
  classifierDropout: {
    key: "classifier_dropout",
    default: null,
    check: { type: "number", min: 0, lt: 1, nullable: true },
    doc: "dropout before the token classifier (null: hidden_dropout_prob, as HF)",
  },
} as const;

/** Parsing, validation and JSON of `ELECTRA_TABLE`. */
export const ELECTRA_SETTINGS: Settings<typeof ELECTRA_TABLE> = new Settings(ELECTRA_TABLE, {
  relations: (c) =>
    c.hiddenSize % c.numAttentionHeads !== 0
      ? `hidden_size ${c.hiddenSize} is not a multiple of num_attention_heads ${c.numAttentionHeads}`
      : c.padTokenId >= c.vocabSize
      ? `pad_token_id ${c.padTokenId} is not a token id below vocab_size ${c.vocabSize}`
      : undefined,
});

/** Hyperparameters of one ELECTRA network (a discriminator, a generator or a tagger). */
export interface ElectraConfig extends SettingsValues<typeof ELECTRA_TABLE> {
  /** Other HF keys, preserved verbatim (architectures, model_type, id2label, label2id, …). */
  extras: Record<string, unknown>;
}

/** ELECTRA-small (google-research/electra, KoELECTRA-small) with this project's 35,000-piece vocabulary. */
export const ELECTRA_SMALL: Readonly<ElectraConfig> = Object.freeze({
  ...ELECTRA_SETTINGS.defaults,
  vocabSize: 35000,
  extras: {},
});

/** Default generator size as a fraction of the discriminator's hidden size (ELECTRA's `generator_hidden_size`). */
export const GENERATOR_SIZE = 0.25;

/** Makes a config from the small defaults and overrides (copies `extras`). */
export function electraConfig(overrides: Partial<ElectraConfig> = {}): ElectraConfig {
  const c = { ...ELECTRA_SMALL, ...overrides, extras: { ...(overrides.extras ?? {}) } };
  validateConfig(c);
  return c;
}

/**
 * The generator's config, derived from the discriminator's as google-research/electra does: hidden size
 * scaled by `size` (0.25 → 64 for small), one head per 64 hidden units (at least one), FFN 4× hidden;
 * same depth, vocabulary and embedding size (the embeddings are shared).
 */
export function generatorConfig(discriminator: ElectraConfig, size = GENERATOR_SIZE): ElectraConfig {
  const hiddenSize = Math.round(discriminator.hiddenSize * size);
  return electraConfig({
    ...discriminator,
    hiddenSize,
    numAttentionHeads: Math.max(1, Math.floor(hiddenSize / 64)),
    intermediateSize: 4 * hiddenSize,
    extras: {},
  });
}

/** Number of labels of a token-classification config (from `id2label` or `num_labels`), or undefined. */
export function numLabels(c: ElectraConfig): number | undefined {
  const id2label = c.extras.id2label as Record<string, string> | undefined;
  if (id2label && typeof id2label === "object") return Object.keys(id2label).length;
  const n = c.extras.num_labels;
  return typeof n === "number" ? n : undefined;
}

/** Label names by id from `id2label` (HF stores the ids as string keys). */
export function labelNames(c: ElectraConfig): string[] | undefined {
  const id2label = c.extras.id2label as Record<string, string> | undefined;
  if (!id2label || typeof id2label !== "object") return undefined;
  const n = Object.keys(id2label).length;
  const names = Array.from({ length: n }, (_, i) => id2label[String(i)]);
  if (names.some((x) => typeof x !== "string")) throw new Error(`id2label must map 0..${n - 1} to names`);
  return names;
}

/** Sets `id2label`/`label2id` (as HF writes them) for a token-classification config. */
export function withLabels(c: ElectraConfig, labels: readonly string[]): ElectraConfig {
  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  return { ...c, extras: { ...c.extras, id2label, label2id } };
}

/**
 * Keys that HF configs carry besides `ElectraConfig`'s own (from `PretrainedConfig` and ELECTRA's
 * sequence-summary head); they do not change this network and are preserved verbatim.
 */
export const KNOWN_HF_EXTRAS: ReadonlySet<string> = new Set([
  "_name_or_path",
  "add_cross_attention",
  "architectures",
  "bad_words_ids",
  "begin_suppress_tokens",
  "bos_token_id",
  "chunk_size_feed_forward",
  "cls_token_id",
  "cross_attention_hidden_size",
  "decoder_start_token_id",
  "diversity_penalty",
  "do_sample",
  "early_stopping",
  "encoder_no_repeat_ngram_size",
  "eos_token_id",
  "exponential_decay_length_penalty",
  "finetuning_task",
  "forced_bos_token_id",
  "forced_eos_token_id",
  "gradient_checkpointing",
  "id2label",
  "is_decoder",
  "is_encoder_decoder",
  "label2id",
  "length_penalty",
  "max_length",
  "min_length",
  "model_type",
  "no_repeat_ngram_size",
  "num_beam_groups",
  "num_beams",
  "num_labels",
  "num_return_sequences",
  "output_attentions",
  "output_hidden_states",
  "output_past",
  "output_scores",
  "prefix",
  "problem_type",
  "pruned_heads",
  "remove_invalid_values",
  "repetition_penalty",
  "return_dict",
  "return_dict_in_generate",
  "sep_token_id",
  "suppress_tokens",
  "summary_activation",
  "summary_last_dropout",
  "summary_type",
  "summary_use_proj",
  "task_specific_params",
  "temperature",
  "tf_legacy_loss",
  "tie_encoder_decoder",
  "tie_word_embeddings",
  "tokenizer_class",
  "top_k",
  "top_p",
  "torch_dtype",
  "dtype",
  "torchscript",
  "transformers_version",
  "typical_p",
  "use_bfloat16",
  "use_cache",
]);

/** Throws, naming the key, when a value is out of range or unsupported. */
export function validateConfig(c: ElectraConfig, where = "ELECTRA config"): void {
  ELECTRA_SETTINGS.validate(c, where);
}

/**
 * Parses a HF `config.json` object: ElectraConfig fields (missing ones take HF's `ElectraConfig`
 * defaults, which are ELECTRA-small's apart from the vocabulary), known extras preserved, anything else
 * rejected by name. `where` (a file name) goes into errors; with `lines` (where the file's keys are), errors
 * about a key the file gave name its line instead (`FILE:LINE: …`).
 */
export function configFromHf(json: unknown, where = "config.json", lines?: KeyLines): ElectraConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`"${where}" is not a JSON object`);
  }
  const obj = json as Record<string, unknown>;
  if (obj.model_type !== undefined && obj.model_type !== "electra") {
    const line = lines?.line("model_type");
    const at = line === undefined ? `"${where}"` : `${lines!.file}:${line}`;
    throw new Error(`${at}: model_type is "${obj.model_type}", expected "electra"`);
  }
  // Missing keys take HF's own ElectraConfig defaults (the declared ones), so that a config HF reads the same
  // way reads the same here.
  const extras: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (KNOWN_HF_EXTRAS.has(k)) extras[k] = v;
    else own[k] = v;
  }
  return { ...ELECTRA_SETTINGS.fromJson(own, `"${where}"`, undefined, lines), extras };
}

/** The config as a HF `config.json` object: `model_type: "electra"`, fields and extras in sorted key order. */
export function configToHf(c: ElectraConfig, architectures?: string[]): Record<string, unknown> {
  validateConfig(c);
  const merged: Record<string, unknown> = { ...c.extras, model_type: "electra" };
  if (architectures) merged.architectures = architectures;
  Object.assign(merged, ELECTRA_SETTINGS.toJson(c));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(merged).sort()) out[k] = merged[k];
  return out;
}

/** Serialises a config as HF does (`json.dumps(indent=2, sort_keys=True)` plus a newline). */
export function configToJson(c: ElectraConfig, architectures?: string[]): string {
  return pythonJson(configToHf(c, architectures));
}

/**
 * JSON text as Python's `json.dumps(v, indent=2, sort_keys=True)` + newline writes it (HF's
 * `config.json`): keys sorted as strings at every level (JSON.stringify would put integer-like keys such
 * as id2label's first, in numeric order), non-ASCII escaped as `\uXXXX`.
 */
export function pythonJson(value: unknown): string {
  const esc = (s: string) =>
    JSON.stringify(s).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  const go = (v: unknown, indent: string): string => {
    if (v === null || typeof v !== "object") {
      return typeof v === "string" ? esc(v) : JSON.stringify(v) ?? "null";
    }
    const inner = indent + "  ";
    if (Array.isArray(v)) {
      return v.length ? `[\n${v.map((x) => inner + go(x, inner)).join(",\n")}\n${indent}]` : "[]";
    }
    const keys = Object.keys(v).sort();
    if (!keys.length) return "{}";
    return `{\n${
      keys.map((k) => `${inner}${esc(k)}: ${go((v as Record<string, unknown>)[k], inner)}`).join(",\n")
    }\n${indent}}`;
  };
  return go(value, "") + "\n";
}
