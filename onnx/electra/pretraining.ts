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
  exp,
  gatherElements,
  greater,
  ints,
  less,
  log,
  matMul,
  min,
  mul,
  not,
  reduceMax,
  reduceSum,
  reshape,
  squeeze,
  sub,
  unsqueeze,
} from "../ops.ts";
import { type ElectraConfig, generatorConfig } from "./config.ts";
import {
  activation,
  attentionBias,
  type BuildContext,
  dense,
  type Dropout,
  embeddingParams,
  layerNormLayer,
  param,
  positionIds,
} from "./embeddings.ts";
import { electraModel } from "./encoder.ts";
import { discriminatorHead, weightedMean } from "./heads.ts";
import { binaryCrossEntropyPerItem } from "../losses.ts";
import { initParams, type ParamSource } from "./init.ts";

/** Scope of the generator's own parameters in the joint graph. */
export const GENERATOR_PREFIX = "generator";

/** ELECTRA's discriminator loss weight (λ = 50). */
export const DISCRIMINATOR_WEIGHT = 50;

/** How the generator's tokens are sampled (both without gradient). */
export type Sampler = "gumbel" | "inverse-cdf";

/** Options both pretraining graphs (RTD and masked LM) take. */
export interface PretrainGraphOptions {
  seed?: number;
  dtype?: "float32" | "float64";
  /** Dropout for training; without it the graph has none (deterministic, e.g. for gradient checks). */
  dropout?: Dropout;
  /** See `BuildContext.geluForm` ("polynomial" for float64 graphs). */
  geluForm?: "op" | "polynomial";
  /** See `BuildContext.flatTokens`. */
  flatTokens?: boolean;
  /** Static sizes instead of the symbolic `batch_size`, `sequence_length`, `num_predictions`. */
  batch?: Dim;
  sequence?: Dim;
  predictions?: Dim;
}

/** Options of `buildPretrainingGraph`. */
export interface PretrainingOptions extends PretrainGraphOptions {
  discriminator: ElectraConfig;
  /** Default: `generatorConfig(discriminator)` (hidden × 0.25). */
  generator?: ElectraConfig;
  /** Where weights come from, by joint name (default: fresh init with `seed`). */
  params?: ParamSource;
  discriminatorWeight?: number;
  sampler?: Sampler;
  /** Also output `replaced_input_ids` (B, T), `is_replaced` (B, T), `generator_logits` (B, P, V), `discriminator_logits` (B, T). */
  debugOutputs?: boolean;
}

/** Checks that a generator can share the discriminator's embeddings. */
function checkPair(d: ElectraConfig, gen: ElectraConfig): void {
  const keys = [
    "vocabSize",
    "embeddingSize",
    "maxPositionEmbeddings",
    "typeVocabSize",
    "layerNormEps",
  ] as const;
  for (const k of keys) {
    if (d[k] !== gen[k]) {
      throw new Error(
        `Generator ${k} ${gen[k]} differs from the discriminator's ${d[k]}; the embeddings are shared`,
      );
    }
  }
}

/**
 * `generatorHead` (same parameters and names) on 2-D rows (N, Hg) → (N, V), with the tied output layer as one
 * `Gemm(x, word, bias, transB=1)`. On 3-D inputs ONNX Runtime ran the MatMul and a separate broadcast bias
 * Add over (B, P, V), as costly as the MatMul; letting it fuse a 2-D MatMul + Add itself gave a Gemm but
 * left an explicit Transpose of the whole V×E table every step. Its gradient is the Gemm rule (transposes
 * as attributes, the bias gradient one ReduceSum).
 */
function generatorHead2d(g: Graph, ctx: BuildContext, hidden: Value, wordEmbeddings: Value): Value {
  const c = ctx.config;
  const x = g.scope("generator_predictions", () => {
    const y = activation(ctx, dense(g, ctx, hidden, "dense", c.hiddenSize, c.embeddingSize)); // (N, E)
    return layerNormLayer(g, ctx, y, "LayerNorm", c.embeddingSize);
  });
  const bias = g.scope("generator_lm_head", () => param(g, ctx, "bias", [c.vocabSize], "zeros"));
  return g.op("Gemm", [x, wordEmbeddings, bias], { transB: 1 })[0]; // (N, V)
}

/** What `maskedLmHead` returns: logits, the loss, the accuracy, and the softmax pieces the sampler reuses. */
export interface MaskedLmHead {
  /** (B·P, V) vocabulary logits at the masked positions. */
  logits: Value;
  /** Weighted mean cross-entropy at the real predictions (weight 1). */
  loss: Value;
  /** Weighted share of predictions whose argmax is the original token. */
  accuracy: Value;
  /** exp(logits − max) (B·P, V) and its row sums (B·P, 1). */
  expShifted: Value;
  sumExp: Value;
}

/**
 * The masked-LM head and loss of ELECTRA's generator, also the `mlm` objective's (at full width): hidden
 * (B, T, Hc) at the masked positions (selected by the (B, P, T) one-hot, a MatMul, so padded predictions are
 * harmless) through `generatorHead2d` on 2-D (B·P, ·) rows, then cross-entropy weighted by `weights` (B, P).
 */
export function maskedLmHead(
  g: Graph,
  ctx: BuildContext,
  hidden: Value,
  onehot: Value,
  wordEmbeddings: Value,
  labels: Value,
  weights: Value,
): MaskedLmHead {
  const dtype = hidden.dtype;
  const flatLogits = generatorHead2d(
    g,
    ctx,
    reshape(matMul(onehot, hidden), [-1, ctx.config.hiddenSize]),
    wordEmbeddings,
  ); // (B·P, V)
  const flatLabels = reshape(labels, [-1]); // (B·P)
  const flatWeights = reshape(weights, [-1]);
  // Cross-entropy as log-sum-exp − picked logit (as `crossEntropyValidLabels`), written out here to share
  // exp(shifted) with the sampler. The max shift cancels exactly, so it is a stop-gradient: otherwise
  // autodiff differentiates ReduceMax (Equal, Cast, Div, Mul, Neg over (B·P, V)) for a zero contribution.
  const shifted = sub(flatLogits, stopGradient(reduceMax(flatLogits, [-1], true))); // (B·P, V)
  const expShifted = exp(shifted);
  const sumExp = reduceSum(expShifted, [-1], true); // (B·P, 1)
  const picked = gatherElements(shifted, unsqueeze(flatLabels, [-1]), -1); // (B·P, 1)
  const loss = weightedMean(squeeze(sub(log(sumExp), picked), [-1]), flatWeights);
  // The label is the argmax iff its shifted logit is 0 (x − max is 0 only for x = max): one compare per row
  // instead of an ArgMax over (B·P, V), which took 0.7 % of the step (docs/benchmarks.md). Only an exact
  // tie, which ArgMax would give to the first index, counts differently.
  const accuracy = weightedMean(cast(equal(squeeze(picked, [-1]), 0), dtype), flatWeights);
  return { logits: flatLogits, loss, accuracy, expShifted, sumExp };
}

/**
 * The feeds both pretraining graphs declare (see the module doc) and the one-hot of the masked positions
 * (B, P, T): selecting and scattering by MatMul keeps everything in plain differentiable ops and makes padded
 * predictions (weight 0) harmless wherever they point.
 */
export function maskedLmInputs(
  g: Graph,
  dtype: "float32" | "float64",
  sizes: { batch?: Dim; sequence?: Dim; predictions?: Dim },
) {
  const B = sizes.batch ?? "batch_size",
    T = sizes.sequence ?? "sequence_length",
    P = sizes.predictions ?? "num_predictions";
  const inputIds = g.input("input_ids", "int64", [B, T]);
  const attentionMask = g.input("attention_mask", "int64", [B, T]);
  const tokenTypeIds = g.input("token_type_ids", "int64", [B, T]);
  const positions = g.input("masked_lm_positions", "int64", [B, P]);
  const labels = g.input("masked_lm_ids", "int64", [B, P]);
  const weights = g.input("masked_lm_weights", dtype, [B, P]);
  const onehot = cast(equal(unsqueeze(positions, [2]), positionIds(inputIds)), dtype); // (B, P, T)
  return { B, T, P, inputIds, attentionMask, tokenTypeIds, positions, labels, weights, onehot };
}

/** Largest divisor of n not above √n (1 for primes): the block width of the two-level sampler. */
function blockWidth(n: number): number {
  for (let k = Math.floor(Math.sqrt(n)); k > 1; k--) if (n % k === 0) return k;
  return 1;
}

/**
 * Inverse-CDF sampling from unnormalised weights `w` (N, V) with totals `total` (N, 1) and uniforms `u` (N):
 * the id is #{i : Σ_{j≤i} w_j < u·total} (clamped to V − 1), the distribution of the old
 * `CumSum(softmax)` sampler. Two levels keep the full-size work to one ReduceSum over (N, V): with
 * V = nb·k, block sums (N, nb) are cumulated to find the block holding u·total, then only that block's
 * k weights (N, k) are cumulated. All float (ids and counts are exact below 2^24); no int64 over (N, V).
 */
function inverseCdfSample(w: Value, total: Value, u: Value, vocab: number): Value {
  const g = w.graph;
  const nb = blockWidth(vocab), k = vocab / nb; // nb blocks of k ≥ √V ids

  const dtype = w.dtype;
  const target = mul(unsqueeze(u, [-1]), total); // (N, 1)
  const blocks = reshape(w, [0, nb, k]); // (N, nb, k)
  const blockSums = reduceSum(blocks, [-1]); // (N, nb)
  const axis = g.constant({ dtype: "int64", dims: [], data: new BigInt64Array([-1n]) });
  const before = g.op("CumSum", [blockSums, axis], { exclusive: 1 })[0]; // (N, nb): weight before each block
  // Block index: how many blocks end below the target (inclusive cumsum = exclusive + own sum).
  const blockF = min(reduceSum(cast(less(add(before, blockSums), target), dtype), [-1], true), nb - 1); // (N, 1)
  const block = cast(blockF, "int64");
  const offset = gatherElements(before, block, -1); // (N, 1)
  const idx = g.op("Expand", [unsqueeze(block, [-1]), ints(g, [1, 1, k])])[0]; // (N, 1, k)
  const inner = g.op("CumSum", [squeeze(gatherElements(blocks, idx, 1), [1]), axis])[0]; // (N, k)
  const within = reduceSum(cast(less(inner, sub(target, offset)), dtype), [-1], true); // (N, 1)
  const id = min(add(mul(blockF, k), within), vocab - 1); // rounding can leave u·total above the last sum
  return cast(squeeze(id, [-1]), "int64"); // (N)
}

/** Builds the joint RTD pretraining graph (see the module doc for feeds and outputs). */
export function buildPretrainingGraph(options: PretrainingOptions): Graph {
  const disc = options.discriminator;
  const gen = options.generator ?? generatorConfig(disc);
  checkPair(disc, gen);
  const dtype = options.dtype ?? "float32";
  const params = options.params ??
    initParams({ seed: options.seed, std: disc.initializerRange, padTokenId: disc.padTokenId, dtype });
  const common = {
    params,
    dtype,
    dropout: options.dropout,
    geluForm: options.geluForm,
    flatTokens: options.flatTokens,
  };
  const dctx: BuildContext = { config: disc, ...common };
  const gctx: BuildContext = { config: gen, ...common };

  const g = new Graph("electra_pretraining");
  const { B, P, inputIds, attentionMask, tokenTypeIds, positions, labels, weights, onehot } = maskedLmInputs(
    g,
    dtype,
    options,
  );
  const sampler = options.sampler ?? "gumbel";
  const noise = sampler === "gumbel"
    ? g.input("gumbel_noise", dtype, [B, P, gen.vocabSize])
    : g.input("sample_uniform", dtype, [B, P]);

  const shared = g.scope("electra", () => embeddingParams(g, dctx));
  const bias = attentionBias(attentionMask, dtype); // (B, 1, 1, T), shared by both networks
  const maskF = cast(attentionMask, dtype); // (B, T)

  // Generator: masked LM at the masked positions only (P ≪ T keeps the (·, V) logits small).
  const head = g.scope(GENERATOR_PREFIX, () => {
    const { hidden } = electraModel(g, gctx, { inputIds, attentionMask, tokenTypeIds, bias }, shared); // (B, T, Hg)
    return maskedLmHead(g, gctx, hidden, onehot, shared.word, labels, weights);
  });
  const { logits: flatLogits, expShifted, sumExp, loss: generatorLoss, accuracy: mlmAccuracy } = head;
  const argmaxAxis = (x: Value) => g.op("ArgMax", [x], { axis: -1, keepdims: 0 })[0];

  // Sampling, with no gradient into the generator (ELECTRA's tf.stop_gradient).
  const predShape = g.op("Shape", [positions])[0]; // [B, P] at run time
  let sampled: Value; // (B, P) int64
  if (sampler === "gumbel") {
    const frozen = stopGradient(
      g.op("Reshape", [flatLogits, g.op("Shape", [noise])[0]], {}, {
        types: [{ dtype, shape: [B, P, gen.vocabSize] }],
      })[0],
    ); // (B, P, V)
    sampled = argmaxAxis(add(frozen, noise)); // Gumbel-max: argmax(logits + G) ~ softmax(logits)
  } else {
    const flatU = reshape(noise, [-1]); // (B·P)
    const flatSampled = inverseCdfSample(
      stopGradient(expShifted),
      stopGradient(sumExp),
      flatU,
      gen.vocabSize,
    );
    sampled =
      g.op("Reshape", [flatSampled, predShape], {}, { types: [{ dtype: "int64", shape: [B, P] }] })[0];
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

  const { hidden } = electraModel(
    g,
    dctx,
    { inputIds: replacedIds, attentionMask, tokenTypeIds, bias },
    shared,
  ); // (B, T, H)
  const discLogits = discriminatorHead(g, dctx, hidden); // (B, T)
  const discriminatorLoss = weightedMean(binaryCrossEntropyPerItem(discLogits, isReplaced), maskF);
  const discAccuracy = weightedMean(
    cast(equal(greater(discLogits, 0), greater(isReplaced, 0.5)), dtype),
    maskF,
  );

  const lambda = options.discriminatorWeight ?? DISCRIMINATOR_WEIGHT;
  g.output(add(generatorLoss, mul(discriminatorLoss, lambda)), "loss");
  g.output(generatorLoss, "generator_loss");
  g.output(discriminatorLoss, "discriminator_loss");
  g.output(mlmAccuracy, "mlm_accuracy");
  g.output(discAccuracy, "discriminator_accuracy");
  if (options.debugOutputs) {
    g.output(replacedIds, "replaced_input_ids");
    g.output(isReplaced, "is_replaced");
    const logitsShape = g.op("Concat", [predShape, ints(g, [gen.vocabSize])], { axis: 0 })[0];
    g.output(
      g.op("Reshape", [flatLogits, logitsShape], {}, { types: [{ dtype, shape: [B, P, gen.vocabSize] }] })[0],
      "generator_logits",
    );
    g.output(discLogits, "discriminator_logits");
  }
  return g;
}
