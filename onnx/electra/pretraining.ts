/**
 * ELECTRA replaced-token-detection pretraining as one forward graph: a small generator (masked LM) and
 * the discriminator, sharing the embedding tables (word, position, token type and their LayerNorm, as
 * google-research/electra shares its `electra/embeddings` scope); the generator's samples replace the
 * masked tokens through an explicit stop-gradient, and the loss is `generator_loss + 50 · discriminator_loss`.
 *
 * Joint parameter names: the discriminator's are exactly HF `ElectraForPreTraining`'s (`electra.*`,
 * `discriminator_predictions.*`), so a fine-tuning graph reads them unchanged; the generator's are HF
 * `ElectraForMaskedLM`'s under `generator.` (`generator.electra.encoder.*`, `generator.generator_lm_head.bias`,
 * …) except the shared `electra.embeddings.*`, which exist once. `hf.ts` splits and merges the two HF folders.
 *
 * Feeds (TF ELECTRA's pretraining features; masking is done by the data pipeline):
 * - `input_ids` (B, T) int64: the generator's input, with the chosen positions already masked;
 * - `attention_mask`, `token_type_ids` (B, T) int64;
 * - `masked_lm_positions` (B, P) int64: distinct masked positions, padded with 0 where weight is 0;
 * - `masked_lm_ids` (B, P) int64: the original tokens there; `masked_lm_weights` (B, P) float: 1 real, 0 pad;
 * - `gumbel_noise` (B, P, V) float, −log(−log u) from TS (sampler "gumbel", the default), or
 *   `sample_uniform` (B, P) float in [0, 1) (sampler "inverse-cdf": the same distribution from one uniform
 *   per prediction instead of V, for speed).
 * Outputs: `loss`, `generator_loss`, `discriminator_loss`, `mlm_accuracy`, `discriminator_accuracy`.
 * @module
 */
import { stopGradient } from "../autodiff.ts";
import { type Dim, Graph, type Value } from "../graph.ts";
import {
  add,
  cast,
  equal,
  gatherElements,
  greater,
  matMul,
  min,
  mul,
  not,
  reduceSum,
  softmax,
  squeeze,
  sub,
  unsqueeze,
} from "../ops.ts";
import { type ElectraConfig, generatorConfig } from "./config.ts";
import { attentionBias, type BuildContext, type Dropout, embeddingParams, positionIds } from "./embeddings.ts";
import { electraModel } from "./encoder.ts";
import { binaryCrossEntropyPerItem, crossEntropyPerItem, discriminatorHead, generatorHead, weightedMean } from "./heads.ts";
import { initParams, type ParamSource } from "./init.ts";

/** Scope of the generator's own parameters in the joint graph. */
export const GENERATOR_PREFIX = "generator";

/** ELECTRA's discriminator loss weight (λ = 50). */
export const DISCRIMINATOR_WEIGHT = 50;

/** How the generator's tokens are sampled (both without gradient). */
export type Sampler = "gumbel" | "inverse-cdf";

/** Options of `buildPretrainingGraph`. */
export interface PretrainingOptions {
  discriminator: ElectraConfig;
  /** Default: `generatorConfig(discriminator)` (hidden × 0.25). */
  generator?: ElectraConfig;
  /** Where weights come from, by joint name (default: fresh init with `seed`). */
  params?: ParamSource;
  seed?: number;
  dtype?: "float32" | "float64";
  /** Dropout for training; without it the graph has none (deterministic, e.g. for gradient checks). */
  dropout?: Dropout;
  discriminatorWeight?: number;
  sampler?: Sampler;
  /** See `BuildContext.geluForm` ("polynomial" for float64 graphs). */
  geluForm?: "op" | "polynomial";
  /** See `BuildContext.flatTokens`. */
  flatTokens?: boolean;
  /** Also output `replaced_input_ids` (B, T), `is_replaced` (B, T), `generator_logits` (B, P, V), `discriminator_logits` (B, T). */
  debugOutputs?: boolean;
  /** Static sizes instead of the symbolic `batch_size`, `sequence_length`, `num_predictions`. */
  batch?: Dim;
  sequence?: Dim;
  predictions?: Dim;
}

/** Checks that a generator can share the discriminator's embeddings. */
function checkPair(d: ElectraConfig, gen: ElectraConfig): void {
  const keys = ["vocabSize", "embeddingSize", "maxPositionEmbeddings", "typeVocabSize", "layerNormEps"] as const;
  for (const k of keys) {
    if (d[k] !== gen[k]) throw new Error(`Generator ${k} ${gen[k]} differs from the discriminator's ${d[k]}; the embeddings are shared`);
  }
}

/** Builds the joint RTD pretraining graph (see the module doc for feeds and outputs). */
export function buildPretrainingGraph(options: PretrainingOptions): Graph {
  const disc = options.discriminator;
  const gen = options.generator ?? generatorConfig(disc);
  checkPair(disc, gen);
  const dtype = options.dtype ?? "float32";
  const params = options.params ??
    initParams({ seed: options.seed, std: disc.initializerRange, padTokenId: disc.padTokenId, dtype });
  const common = { params, dtype, dropout: options.dropout, geluForm: options.geluForm, flatTokens: options.flatTokens };
  const dctx: BuildContext = { config: disc, ...common };
  const gctx: BuildContext = { config: gen, ...common };

  const g = new Graph("electra_pretraining");
  const B = options.batch ?? "batch_size", T = options.sequence ?? "sequence_length", P = options.predictions ?? "num_predictions";
  const inputIds = g.input("input_ids", "int64", [B, T]);
  const attentionMask = g.input("attention_mask", "int64", [B, T]);
  const tokenTypeIds = g.input("token_type_ids", "int64", [B, T]);
  const positions = g.input("masked_lm_positions", "int64", [B, P]);
  const labels = g.input("masked_lm_ids", "int64", [B, P]);
  const weights = g.input("masked_lm_weights", dtype, [B, P]);
  const sampler = options.sampler ?? "gumbel";
  const noise = sampler === "gumbel"
    ? g.input("gumbel_noise", dtype, [B, P, gen.vocabSize])
    : g.input("sample_uniform", dtype, [B, P]);

  const shared = g.scope("electra", () => embeddingParams(g, dctx));
  const bias = attentionBias(attentionMask, dtype); // (B, 1, 1, T), shared by both networks
  const maskF = cast(attentionMask, dtype); // (B, T)

  // One-hot of the masked positions (B, P, T): selecting and scattering by MatMul keeps everything in
  // plain differentiable ops and makes padded predictions (weight 0) harmless wherever they point.
  const onehot = cast(equal(unsqueeze(positions, [2]), positionIds(inputIds)), dtype); // (B, P, T)

  // Generator: masked LM at the masked positions only (P ≪ T keeps the (·, V) logits small).
  const genLogits = g.scope(GENERATOR_PREFIX, () => {
    const { hidden } = electraModel(g, gctx, { inputIds, attentionMask, tokenTypeIds, bias }, shared); // (B, T, Hg)
    return generatorHead(g, gctx, matMul(onehot, hidden), shared.word); // (B, P, V)
  });
  const generatorLoss = weightedMean(crossEntropyPerItem(genLogits, labels), weights);
  const argmaxAxis = (x: Value) => g.op("ArgMax", [x], { axis: -1, keepdims: 0 })[0];
  const mlmAccuracy = weightedMean(cast(equal(argmaxAxis(genLogits), labels), dtype), weights);

  // Sampling, with no gradient into the generator (ELECTRA's tf.stop_gradient).
  const frozen = stopGradient(genLogits); // (B, P, V)
  let sampled: Value; // (B, P) int64
  if (sampler === "gumbel") {
    sampled = argmaxAxis(add(frozen, noise)); // Gumbel-max: argmax(logits + G) ~ softmax(logits)
  } else {
    // Inverse CDF: the number of cumulative probabilities below u is the sampled id.
    const cdf = g.op("CumSum", [softmax(frozen, -1), g.constant({ dtype: "int64", dims: [], data: new BigInt64Array([-1n]) })])[0];
    const below = reduceSum(cast(greater(unsqueeze(noise, [2]), cdf), "int64"), [-1]); // (B, P)
    sampled = min(below, gen.vocabSize - 1); // rounding can leave u above the last cumulative sum
  }

  // Original and replaced token ids as floats (exact below 2^24): ids + Σ_p onehot · Δ_p.
  const idsF = cast(inputIds, dtype); // (B, T)
  const real = cast(greater(weights, 0), dtype); // (B, P)
  const labelsF = cast(labels, dtype);
  const scatter = (delta: Value) => squeeze(matMul(unsqueeze(mul(delta, real), [1]), onehot), [1]); // (B, P) → (B, T)
  const originalF = add(idsF, scatter(sub(labelsF, cast(gatherElements(inputIds, positions, 1), dtype))));
  const replacedF = add(originalF, scatter(sub(cast(sampled, dtype), labelsF))); // (B, T)
  const isReplaced = cast(not(equal(replacedF, originalF)), dtype); // (B, T) discriminator targets
  const replacedIds = cast(replacedF, "int64");

  const { hidden } = electraModel(g, dctx, { inputIds: replacedIds, attentionMask, tokenTypeIds, bias }, shared); // (B, T, H)
  const discLogits = discriminatorHead(g, dctx, hidden); // (B, T)
  const discriminatorLoss = weightedMean(binaryCrossEntropyPerItem(discLogits, isReplaced), maskF);
  const discAccuracy = weightedMean(cast(equal(greater(discLogits, 0), greater(isReplaced, 0.5)), dtype), maskF);

  const lambda = options.discriminatorWeight ?? DISCRIMINATOR_WEIGHT;
  g.output(add(generatorLoss, mul(discriminatorLoss, lambda)), "loss");
  g.output(generatorLoss, "generator_loss");
  g.output(discriminatorLoss, "discriminator_loss");
  g.output(mlmAccuracy, "mlm_accuracy");
  g.output(discAccuracy, "discriminator_accuracy");
  if (options.debugOutputs) {
    g.output(replacedIds, "replaced_input_ids");
    g.output(isReplaced, "is_replaced");
    g.output(genLogits, "generator_logits");
    g.output(discLogits, "discriminator_logits");
  }
  return g;
}
