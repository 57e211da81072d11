/**
 * `ElectraForTokenClassification` as ONNX graphs. The inference graph follows the HF/Optimum convention
 * (`input_ids`, `attention_mask`, `token_type_ids` int64 of shape (batch_size, sequence_length) →
 * `logits` (batch_size, sequence_length, num_labels)), so other ONNX tools can run it; the training graph
 * adds `labels` (ignore index −100) and a `loss` output.
 * @module
 */
import { type Dim, Graph, type Value } from "../graph.ts";
import { cast, div, equal, max, mul, not, reduceSum, where } from "../ops.ts";
import { type ElectraConfig, numLabels as configLabels } from "./config.ts";
import type { BuildContext, Dropout } from "./embeddings.ts";
import { electraModel } from "./encoder.ts";
import { classifierHead, crossEntropyValidLabels } from "./heads.ts";
import { initParams, type ParamSource } from "./init.ts";

/** HF's ignore index for labels that do not count (padding, non-first sub-words, special tokens). */
export const IGNORE_INDEX = -100;

/** Options of `buildTokenClassificationGraph`. */
export interface TokenClassificationOptions {
  config: ElectraConfig;
  /** Number of labels (default: from the config's `id2label`/`num_labels`). */
  numLabels?: number;
  /** Where weights come from (default: fresh init with `seed`). */
  params?: ParamSource;
  seed?: number;
  dtype?: "float32" | "float64";
  /** Adds `labels` (B, T) int64 and a scalar `loss` (mean cross-entropy over labels ≠ ignoreIndex). */
  training?: boolean;
  /** Dropout for training graphs (inference graphs never have dropout). */
  dropout?: Dropout;
  ignoreIndex?: number;
  /** See `BuildContext.geluForm` ("polynomial" for float64 graphs). */
  geluForm?: "op" | "polynomial";
  /** See `BuildContext.flatTokens`. */
  flatTokens?: boolean;
  /**
   * Inference graphs only: self-attention as ONNX Runtime's fused `com.microsoft.Attention` op (see
   * `BuildContext.fusedAttention`); float32 only. `FAST_INFERENCE` sets it.
   */
  fusedAttention?: boolean;
  /** Static sizes instead of the symbolic `batch_size` / `sequence_length`. */
  batch?: Dim;
  sequence?: Dim;
}

/**
 * The inference-graph layout that `inferenceFolderFiles` writes and the benchmark measures: each layer's
 * self-attention as ONNX Runtime's fused `Attention` op, and 2-D (B·T, ·) token activations so that every
 * dense layer becomes one `Gemm` with its bias inside: faster on ONNX Runtime CPU than the standard-op, 3-D
 * graph, with the same logits (`bench/ab_inference.ts`; figures in docs/benchmarks.md, "Measurements behind
 * the code").
 * The 2-D form also keeps ORT from fusing Add+LayerNormalization into SkipLayerNormalization and bias+Gelu into
 * BiasGelu, whose CPU kernels were slower here than the ops they replace.
 */
export const FAST_INFERENCE: Readonly<Pick<TokenClassificationOptions, "fusedAttention" | "flatTokens">> =
  Object.freeze({
    fusedAttention: true,
    flatTokens: true,
  });

/**
 * Mean token cross-entropy over labels ≠ `ignoreIndex`, as HF's `CrossEntropyLoss(ignore_index=-100)`:
 * logits (B, T, L), labels (B, T) → scalar (0 when nothing counts).
 */
export function tokenClassificationLoss(logits: Value, labels: Value, ignoreIndex = IGNORE_INDEX): Value {
  const g = logits.graph;
  const valid = not(
    equal(labels, g.constant({ dtype: "int64", dims: [], data: new BigInt64Array([BigInt(ignoreIndex)]) })),
  );
  const safe = where(valid, labels, g.constant({ dtype: "int64", dims: [], data: new BigInt64Array([0n]) })); // (B, T)
  const weights = cast(valid, logits.dtype); // (B, T)
  const losses = crossEntropyValidLabels(logits, safe); // (B, T)
  return div(reduceSum(mul(losses, weights)), max(reduceSum(weights), 1));
}

/** Builds the token-classification graph (inference, or training with `labels` → `loss`). */
export function buildTokenClassificationGraph(options: TokenClassificationOptions): Graph {
  const { config, training = false } = options;
  const labels = options.numLabels ?? configLabels(config);
  if (!labels) {
    throw new Error("buildTokenClassificationGraph(): numLabels is not given and the config has no id2label");
  }
  const dtype = options.dtype ?? "float32";
  if (options.fusedAttention && (training || dtype !== "float32")) {
    throw new Error(
      "buildTokenClassificationGraph(): fusedAttention is for float32 inference graphs (it has no gradient)",
    );
  }
  const ctx: BuildContext = {
    config,
    dtype,
    params: options.params ??
      initParams({ seed: options.seed, std: config.initializerRange, padTokenId: config.padTokenId, dtype }),
    dropout: training ? options.dropout : undefined,
    geluForm: options.geluForm,
    flatTokens: options.flatTokens,
    fusedAttention: options.fusedAttention,
  };
  const g = new Graph(training ? "electra_token_classification_train" : "electra_token_classification");
  const shape = [options.batch ?? "batch_size", options.sequence ?? "sequence_length"];
  const inputIds = g.input("input_ids", "int64", shape);
  const attentionMask = g.input("attention_mask", "int64", shape);
  const tokenTypeIds = g.input("token_type_ids", "int64", shape);
  const { hidden } = electraModel(g, ctx, { inputIds, attentionMask, tokenTypeIds });
  const logits = classifierHead(g, ctx, hidden, labels); // (B, T, L)
  if (training) {
    const gold = g.input("labels", "int64", shape);
    g.output(tokenClassificationLoss(logits, gold, options.ignoreIndex ?? IGNORE_INDEX), "loss");
  }
  g.output(logits, "logits");
  return g;
}
