/**
 * ELECTRA's output heads with HF names: the discriminator's replaced-token head
 * (`discriminator_predictions.dense` + GELU + `dense_prediction`), the generator's masked-LM head
 * (`generator_predictions.dense` + GELU + `LayerNorm`, then `generator_lm_head` whose weight is the word
 * embedding table, tied, and whose bias is its own), and the token classifier (`classifier`).
 * @module
 */
import type { Graph, Value } from "../graph.ts";
import {
  add,
  div,
  exp,
  gatherElements,
  log,
  matMul,
  mul,
  reduceMax,
  reduceSum,
  squeeze,
  sub,
  transpose,
  unsqueeze,
} from "../ops.ts";
import { activation, type BuildContext, dense, layerNormLayer, maybeDropout, param } from "./embeddings.ts";

/** `discriminator_predictions`: hidden (B, T, H) → one replaced-token logit per token (B, T). */
export function discriminatorHead(g: Graph, ctx: BuildContext, hidden: Value): Value {
  const h = ctx.config.hiddenSize;
  return g.scope("discriminator_predictions", () => {
    const x = activation(ctx, dense(g, ctx, hidden, "dense", h, h)); // (B, T, H)
    return squeeze(dense(g, ctx, x, "dense_prediction", h, 1), [-1]); // (B, T)
  });
}

/**
 * `generator_predictions` + `generator_lm_head`: generator hidden (…, Hg) → vocabulary logits (…, V),
 * the output matrix being the (V, E) word-embedding table read transposed (HF ties them).
 */
export function generatorHead(g: Graph, ctx: BuildContext, hidden: Value, wordEmbeddings: Value): Value {
  const c = ctx.config;
  const x = g.scope("generator_predictions", () => {
    const y = activation(ctx, dense(g, ctx, hidden, "dense", c.hiddenSize, c.embeddingSize)); // (…, E)
    return layerNormLayer(g, ctx, y, "LayerNorm", c.embeddingSize);
  });
  const bias = g.scope("generator_lm_head", () => param(g, ctx, "bias", [c.vocabSize], "zeros"));
  return add(matMul(x, transpose(wordEmbeddings, [1, 0])), bias); // (…, V)
}

/** `classifier` of `ElectraForTokenClassification`: dropout, then hidden (B, T, H) → (B, T, L) logits. */
export function classifierHead(g: Graph, ctx: BuildContext, hidden: Value, numLabels: number): Value {
  const c = ctx.config;
  const x = maybeDropout(ctx, hidden, c.classifierDropout ?? c.hiddenDropoutProb);
  return dense(g, ctx, x, "classifier", c.hiddenSize, numLabels);
}

/**
 * Softmax cross-entropy per item when every label is a valid class id (no ignore index, unlike
 * `crossEntropyPerItem` of losses.ts): logits (…, C), integer labels (…) → (…).
 * Written as log-sum-exp minus the label's logit (ReduceMax/Exp/ReduceSum/Log/GatherElements), which
 * runs on every execution provider; the max shift cancels exactly, so its gradient path adds nothing.
 */
export function crossEntropyValidLabels(logits: Value, labels: Value): Value {
  const shifted = sub(logits, reduceMax(logits, [-1], true)); // (…, C)
  const lse = log(reduceSum(exp(shifted), [-1], true)); // (…, 1)
  const picked = gatherElements(shifted, unsqueeze(labels, [-1]), -1); // (…, 1)
  return squeeze(sub(lse, picked), [-1]); // (…)
}

/** Σ w·l / (Σ w + 1e-6): the weighted mean ELECTRA uses for both pretraining losses (0 when Σ w = 0). */
export function weightedMean(values: Value, weights: Value): Value {
  return div(reduceSum(mul(values, weights)), add(reduceSum(weights), 1e-6));
}
