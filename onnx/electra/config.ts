/**
 * The ELECTRA configuration: Hugging Face `ElectraConfig` fields in camelCase, read from and written to
 * a `config.json` with HF's snake_case names, so that any ELECTRA size works. Unknown keys are rejected
 * (a typo must not silently fall back to a default); keys HF writes that do not change the network
 * (`architectures`, `id2label`, `transformers_version`, …) are kept verbatim in `extras` and written back.
 * @module
 */

/** Hyperparameters of one ELECTRA network (a discriminator, a generator or a tagger). */
export interface ElectraConfig {
  /** Word-piece vocabulary size. */
  vocabSize: number;
  /** Width of the embedding tables; projected to `hiddenSize` by `embeddings_project` when they differ. */
  embeddingSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Feed-forward width. */
  intermediateSize: number;
  /** Only erf-form `"gelu"`, which every released ELECTRA uses. */
  hiddenAct: "gelu";
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  /** Std of the normal weight init. */
  initializerRange: number;
  layerNormEps: number;
  padTokenId: number;
  /** Only `"absolute"` position embeddings. */
  positionEmbeddingType: "absolute";
  /** Dropout before the token classifier; null means `hiddenDropoutProb`, as in HF. */
  classifierDropout: number | null;
  /** Other HF keys, preserved verbatim (architectures, model_type, id2label, label2id, …). */
  extras: Record<string, unknown>;
}

/** ELECTRA-small (google-research/electra, KoELECTRA-small) with this project's 35,000-piece vocabulary. */
export const ELECTRA_SMALL: Readonly<ElectraConfig> = Object.freeze({
  vocabSize: 35000,
  embeddingSize: 128,
  hiddenSize: 256,
  numHiddenLayers: 12,
  numAttentionHeads: 4,
  intermediateSize: 1024,
  hiddenAct: "gelu",
  hiddenDropoutProb: 0.1,
  attentionProbsDropoutProb: 0.1,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  initializerRange: 0.02,
  layerNormEps: 1e-12,
  padTokenId: 0,
  positionEmbeddingType: "absolute",
  classifierDropout: null,
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

type Field = Exclude<keyof ElectraConfig, "extras">;

// HF name → our field, in the order HF writes them (alphabetical, as `to_json_string(sort_keys=True)`).
const FIELDS: [string, Field][] = [
  ["attention_probs_dropout_prob", "attentionProbsDropoutProb"],
  ["classifier_dropout", "classifierDropout"],
  ["embedding_size", "embeddingSize"],
  ["hidden_act", "hiddenAct"],
  ["hidden_dropout_prob", "hiddenDropoutProb"],
  ["hidden_size", "hiddenSize"],
  ["initializer_range", "initializerRange"],
  ["intermediate_size", "intermediateSize"],
  ["layer_norm_eps", "layerNormEps"],
  ["max_position_embeddings", "maxPositionEmbeddings"],
  ["num_attention_heads", "numAttentionHeads"],
  ["num_hidden_layers", "numHiddenLayers"],
  ["pad_token_id", "padTokenId"],
  ["position_embedding_type", "positionEmbeddingType"],
  ["type_vocab_size", "typeVocabSize"],
  ["vocab_size", "vocabSize"],
];
const FIELD_OF = new Map(FIELDS);

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

/** Throws with the field name when a value is out of range or unsupported. */
export function validateConfig(c: ElectraConfig, where = "ELECTRA config"): void {
  const positive: Field[] = [
    "vocabSize",
    "embeddingSize",
    "hiddenSize",
    "numHiddenLayers",
    "numAttentionHeads",
    "intermediateSize",
    "maxPositionEmbeddings",
    "typeVocabSize",
  ];
  for (const f of positive) {
    const v = c[f];
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new Error(`${where}: ${f} must be a positive integer, got ${v}`);
    }
  }
  if (c.hiddenSize % c.numAttentionHeads !== 0) {
    throw new Error(
      `${where}: hiddenSize ${c.hiddenSize} is not a multiple of numAttentionHeads ${c.numAttentionHeads}`,
    );
  }
  for (const f of ["hiddenDropoutProb", "attentionProbsDropoutProb"] as Field[]) {
    const v = c[f] as number;
    if (typeof v !== "number" || !(v >= 0 && v < 1)) {
      throw new Error(`${where}: ${f} must be in [0, 1), got ${v}`);
    }
  }
  if (c.classifierDropout !== null && !(c.classifierDropout >= 0 && c.classifierDropout < 1)) {
    throw new Error(`${where}: classifierDropout must be null or in [0, 1), got ${c.classifierDropout}`);
  }
  if (!(c.layerNormEps > 0)) {
    throw new Error(`${where}: layerNormEps must be positive, got ${c.layerNormEps}`);
  }
  if (!(c.initializerRange > 0)) {
    throw new Error(`${where}: initializerRange must be positive, got ${c.initializerRange}`);
  }
  if (!Number.isInteger(c.padTokenId) || c.padTokenId < 0 || c.padTokenId >= c.vocabSize) {
    throw new Error(`${where}: padTokenId ${c.padTokenId} is not a token id below vocabSize ${c.vocabSize}`);
  }
  if (c.hiddenAct !== "gelu") {
    throw new Error(
      `${where}: hidden_act "${c.hiddenAct}" is not supported (only "gelu", the erf form ELECTRA uses)`,
    );
  }
  if (c.positionEmbeddingType !== "absolute") {
    throw new Error(
      `${where}: position_embedding_type "${c.positionEmbeddingType}" is not supported (only "absolute")`,
    );
  }
}

/**
 * Parses a HF `config.json` object: ElectraConfig fields (missing ones take HF's `ElectraConfig`
 * defaults, which are ELECTRA-small's apart from the vocabulary), known extras preserved, anything else
 * rejected by name. `where` (a file name) goes into errors.
 */
export function configFromHf(json: unknown, where = "config.json"): ElectraConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`"${where}" is not a JSON object`);
  }
  const obj = json as Record<string, unknown>;
  if (obj.model_type !== undefined && obj.model_type !== "electra") {
    throw new Error(`"${where}": model_type is "${obj.model_type}", expected "electra"`);
  }
  // HF's own ElectraConfig defaults (vocab 30522) when a key is absent, so that a config HF reads the same
  // way reads the same here.
  const c: ElectraConfig = { ...ELECTRA_SMALL, vocabSize: 30522, extras: {} };
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const field = FIELD_OF.get(k);
    if (field) {
      const numeric = field !== "hiddenAct" && field !== "positionEmbeddingType" &&
        field !== "classifierDropout";
      if (numeric && typeof v !== "number") {
        throw new Error(`"${where}": ${k} must be a number, got ${JSON.stringify(v)}`);
      }
      (c as unknown as Record<string, unknown>)[field] = v;
    } else if (KNOWN_HF_EXTRAS.has(k)) {
      c.extras[k] = v;
    } else {
      unknown.push(k);
    }
  }
  if (unknown.length) {
    throw new Error(
      `"${where}": unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} ` +
        `(not an ElectraConfig field; fix the spelling or remove ${unknown.length > 1 ? "them" : "it"})`,
    );
  }
  validateConfig(c, `"${where}"`);
  return c;
}

/** The config as a HF `config.json` object: `model_type: "electra"`, fields and extras in sorted key order. */
export function configToHf(c: ElectraConfig, architectures?: string[]): Record<string, unknown> {
  validateConfig(c);
  const merged: Record<string, unknown> = { ...c.extras, model_type: "electra" };
  if (architectures) merged.architectures = architectures;
  for (const [k, f] of FIELDS) merged[k] = c[f];
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
