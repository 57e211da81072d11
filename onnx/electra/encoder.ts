/**
 * The post-LN Transformer encoder of ELECTRA/BERT and `ElectraModel` (embeddings → projection → encoder),
 * with HF parameter names (`encoder.layer.N.attention.self.query.weight`, …) under the caller's scope.
 * The attention is written in the shape PyTorch exports it (MatMul+Add, Reshape to (0, 0, heads, dh),
 * Transpose, Div by √dh, Add mask, Softmax, MatMul, Transpose, Reshape); inference graphs may instead emit
 * ONNX Runtime's fused `Attention` op (`BuildContext.fusedAttention`, `fused_attention.ts`).
 * @module
 */
import type { Graph, Value } from "../graph.ts";
import { add, div, ints, matMul, reshape, softmax, transpose } from "../ops.ts";
import {
  activation,
  attentionBias,
  type BuildContext,
  dense,
  embed,
  type EmbeddingParams,
  embeddingParams,
  flattenTokens,
  layerNormLayer,
  maybeDropout,
  projectEmbeddings,
  type TokenLayout,
  tokenLayout,
  unflattenTokens,
} from "./embeddings.ts";
import { fusedAttentionBias, fusedSelfAttention } from "./fused_attention.ts";

/** Reshapes (B·T, H) to (B, T, nh, dh) using the run-time token shape. */
function toHeads(y: Value, tokens: TokenLayout, heads: number, dh: number): Value {
  const g = y.graph;
  const shape = g.op("Concat", [tokens.shape, ints(g, [heads, dh])], { axis: 0 })[0];
  return g.op("Reshape", [y, shape], {}, {
    types: [{ dtype: y.dtype, shape: [tokens.batch, tokens.sequence, heads, dh] }],
  })[0];
}

/**
 * `attention.self` in standard ops (trainable, any dtype): x (B, T, H), bias (B, 1, 1, T) → context (B, T, H),
 * or (B·T, H) with 2-D token activations.
 */
function selfAttention(g: Graph, ctx: BuildContext, x: Value, bias: Value): Value {
  const c = ctx.config;
  const h = c.hiddenSize, heads = c.numAttentionHeads, dh = h / heads;
  const [q, k, v] = g.scope("self", () => [
    dense(g, ctx, x, "query", h, h),
    dense(g, ctx, x, "key", h, h),
    dense(g, ctx, x, "value", h, h),
  ]); // (B, T, H) each
  // (B, T, nh, dh); from 2-D (B·T, H) activations through the run-time (B, T) of the token ids.
  const split = (
    y: Value,
  ) => (ctx.tokens ? toHeads(y, ctx.tokens, heads, dh) : reshape(y, [0, 0, heads, dh]));
  const qh = transpose(split(q), [0, 2, 1, 3]); // (B, nh, T, dh)
  const kt = transpose(split(k), [0, 2, 3, 1]); // (B, nh, dh, T)
  const vh = transpose(split(v), [0, 2, 1, 3]); // (B, nh, T, dh)
  const scores = add(div(matMul(qh, kt), Math.sqrt(dh)), bias); // (B, nh, T, T)
  const probs = maybeDropout(ctx, softmax(scores, -1), c.attentionProbsDropoutProb);
  return reshape(transpose(matMul(probs, vh), [0, 2, 1, 3]), ctx.tokens ? [-1, h] : [0, 0, h]); // (B, T, H) or (B·T, H)
}

/**
 * Multi-head self-attention with output projection (HF `ElectraAttention`), x: (B, T, H) → (B, T, H).
 * `bias` is the additive padding bias in the shape the self-attention reads (`layerAttentionBias`).
 */
export function attention(g: Graph, ctx: BuildContext, x: Value, bias: Value): Value {
  const c = ctx.config;
  const h = c.hiddenSize;
  return g.scope("attention", () => {
    const context = ctx.fusedAttention ? fusedSelfAttention(g, ctx, x, bias) : selfAttention(g, ctx, x, bias);
    return g.scope("output", () => {
      const out = maybeDropout(ctx, dense(g, ctx, context, "dense", h, h), c.hiddenDropoutProb);
      return layerNormLayer(g, ctx, add(out, x), "LayerNorm", h); // post-LN residual
    });
  });
}

/** One encoder layer (HF `ElectraLayer`): attention, then GELU feed-forward, each with residual + LayerNorm. */
export function encoderLayer(g: Graph, ctx: BuildContext, x: Value, bias: Value): Value {
  const c = ctx.config;
  const a = attention(g, ctx, x, bias); // (B, T, H)
  const inner = g.scope(
    "intermediate",
    () => activation(ctx, dense(g, ctx, a, "dense", c.hiddenSize, c.intermediateSize)),
  ); // (B, T, F)
  return g.scope("output", () => {
    const out = maybeDropout(
      ctx,
      dense(g, ctx, inner, "dense", c.intermediateSize, c.hiddenSize),
      c.hiddenDropoutProb,
    );
    return layerNormLayer(g, ctx, add(out, a), "LayerNorm", c.hiddenSize);
  });
}

/** The encoder stack (`encoder.layer.0…N-1`), x: (B, T, H), bias from `layerAttentionBias` → (B, T, H). */
export function encoder(g: Graph, ctx: BuildContext, x: Value, bias: Value): Value {
  return g.scope("encoder", () => {
    let h = x;
    for (let i = 0; i < ctx.config.numHiddenLayers; i++) {
      h = g.scope(`layer.${i}`, () => encoderLayer(g, ctx, h, bias));
    }
    return h;
  });
}

/**
 * The additive padding bias from the (B, T) mask in the shape the context's attention reads: (B, 1, T, T) for
 * the fused op, else (B, 1, 1, T) (`precomputed` when a caller shares one between networks).
 */
export function layerAttentionBias(ctx: BuildContext, mask: Value, precomputed?: Value): Value {
  if (ctx.fusedAttention) return fusedAttentionBias(mask);
  return precomputed ?? attentionBias(mask, ctx.dtype ?? "float32");
}

/** Inputs of `electraModel`, all (B, T) int64. */
export interface ModelInputs {
  inputIds: Value;
  attentionMask: Value;
  tokenTypeIds: Value;
  /** A precomputed attention bias (B, 1, 1, T) to share between networks reading the same mask. */
  bias?: Value;
}

/**
 * HF `ElectraModel` under scope `electra`: embeddings (own, or `shared` ones from another network),
 * `embeddings_project` when widths differ, and the encoder → (B, T, H) hidden states.
 */
export function electraModel(
  g: Graph,
  ctx: BuildContext,
  inputs: ModelInputs,
  shared?: EmbeddingParams,
): { hidden: Value; embeddings: EmbeddingParams } {
  return g.scope("electra", () => {
    const embeddings = shared ?? embeddingParams(g, ctx);
    const bias = layerAttentionBias(ctx, inputs.attentionMask, inputs.bias);
    const embedded = embed(ctx, embeddings, inputs.inputIds, inputs.tokenTypeIds); // (B, T, E)
    if (!ctx.flatTokens) {
      return { hidden: encoder(g, ctx, projectEmbeddings(g, ctx, embedded), bias), embeddings };
    }
    // Optionally the encoder runs on 2-D (B·T, ·) activations (Gemm with fused bias); heads get (B, T, H) back.
    const tokens = tokenLayout(inputs.inputIds);
    const flat: BuildContext = { ...ctx, tokens };
    const x = projectEmbeddings(g, flat, flattenTokens(embedded)); // (B·T, H)
    return { hidden: unflattenTokens(encoder(g, flat, x, bias), tokens), embeddings };
  });
}
