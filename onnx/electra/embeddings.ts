/**
 * ELECTRA embeddings — word + position + token-type tables, LayerNorm, (dropout), and the
 * `embeddings_project` from embedding width to hidden width — plus the small shared pieces every ELECTRA
 * builder uses: the build context, scoped parameters and the dense layer.
 *
 * Weight layout: the graph stores every `nn.Linear` weight as (in, out), the transpose of Hugging Face's
 * (out, in), so that a dense layer is one `MatMul` on 3-D activations (no Transpose node, and the
 * MatMul+Add pattern ONNX Runtime fuses); names are exactly HF's. `hf.ts` transposes on import/export.
 * Embedding tables keep HF's (rows, width) layout.
 * @module
 */
import type { Dim, Graph, Value } from "../graph.ts";
import {
  abs,
  add,
  cast,
  div,
  exp,
  gather,
  gelu,
  ints,
  layerNorm,
  less,
  linear,
  mul,
  neg,
  reshape,
  scalar,
  sub,
  unsqueeze,
  where,
} from "../ops.ts";
import { type DType, tensor } from "../tensor.ts";
import type { ElectraConfig } from "./config.ts";
import type { InitKind, ParamSource } from "./init.ts";

/** A dropout function for training graphs: `(x, rate) → x with dropout applied`. */
export type Dropout = (x: Value, rate: number) => Value;

/** What the ELECTRA builders need besides the graph. */
export interface BuildContext {
  config: ElectraConfig;
  params: ParamSource;
  /** Float type of the network (float64 for finite-difference checks). */
  dtype?: Extract<DType, "float32" | "float64">;
  /** Present in training graphs only; inference graphs have no dropout nodes at all. */
  dropout?: Dropout;
  /**
   * "op" (default): the opset-20 erf `Gelu` op. "polynomial": GELU with erf from elementary ops
   * (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7), for float64 graphs, because ONNX Runtime's CPU has no
   * double `Erf` kernel and so cannot run `Gelu` in double (finite-difference gradient checks).
   */
  geluForm?: "op" | "polynomial";
  /**
   * true: run the encoder on 2-D (B·T, ·) activations (dense layers become Gemm with the bias fused; the
   * graph needs run-time reshapes). Inference graphs use it (`FAST_INFERENCE`): there it also keeps ORT from
   * fusing BiasGelu and SkipLayerNormalization, whose CPU kernels were slower than the plain ops. In train
   * steps ORT fuses neither in either form (the backward also reads the GELU input and the residual sum, so
   * the single-consumer condition fails); there the 2-D form only turns 73 MatMul+Add into Gemm
   * (ELECTRA-small). Measured no faster for the train step earlier, so training defaults to the 3-D
   * (B, T, ·) form PyTorch exports; `bench/ab_train.ts` compares both.
   */
  flatTokens?: boolean;
  /**
   * Inference graphs only: each layer's self-attention as one `com.microsoft.Attention` node
   * (`fused_attention.ts`) instead of standard ops. It has no gradient rule and no dropout, so training
   * graphs must leave it off.
   */
  fusedAttention?: boolean;
  /**
   * Set by `electraModel` (not by callers): token activations are 2-D (B·T, width) rather than (B, T, width): every dense layer is then a
   * plain 2-D MatMul+Add, which ONNX Runtime turns into one Gemm with the bias fused.
   */
  tokens?: TokenLayout;
}

/** The run-time token grid, for reshaping 2-D (B·T, ·) activations to (B, T, ·). */
export interface TokenLayout {
  /** (2,) int64: [B, T] at run time. */
  shape: Value;
  batch: Dim;
  sequence: Dim;
}

/** The token layout of (B, T) token ids (their run-time shape). */
export function tokenLayout(inputIds: Value): TokenLayout {
  return {
    shape: inputIds.graph.op("Shape", [inputIds])[0],
    batch: inputIds.shape[0],
    sequence: inputIds.shape[1],
  };
}

/** Flattens (B, T, W) to (B·T, W). */
export function flattenTokens(x: Value): Value {
  return reshape(x, [-1, x.shape[x.rank - 1] as number]);
}

/** Restores (B·T, W) to (B, T, W) with the run-time token shape. */
export function unflattenTokens(x: Value, tokens: TokenLayout): Value {
  const g = x.graph;
  const width = x.shape[x.rank - 1];
  const shape = g.op("Concat", [tokens.shape, ints(g, [width as number])], { axis: 0 })[0];
  return g.op("Reshape", [x, shape], {}, {
    types: [{ dtype: x.dtype, shape: [tokens.batch, tokens.sequence, width] }],
  })[0];
}

/** Adds a parameter named `name` under the current scope, asking `ctx.params` for its tensor. */
export function param(g: Graph, ctx: BuildContext, name: string, dims: number[], kind: InitKind): Value {
  const t = ctx.params(g.scoped(name), dims, kind);
  const want = ctx.dtype ?? "float32";
  if (t.dtype !== want) throw new Error(`Parameter "${g.scoped(name)}" is ${t.dtype}, the graph is ${want}`);
  return g.param(name, t);
}

/** HF `nn.Linear(in, out)` named `name`: weight stored (in, out), bias (out). `x`: (…, in) → (…, out). */
export function dense(
  g: Graph,
  ctx: BuildContext,
  x: Value,
  name: string,
  inSize: number,
  outSize: number,
): Value {
  return g.scope(name, () => {
    const w = param(g, ctx, "weight", [inSize, outSize], "normal");
    const b = param(g, ctx, "bias", [outSize], "zeros");
    return linear(x, w, b);
  });
}

/** HF `nn.LayerNorm(width)` named `name` over the last axis. */
export function layerNormLayer(g: Graph, ctx: BuildContext, x: Value, name: string, width: number): Value {
  return g.scope(name, () => {
    const w = param(g, ctx, "weight", [width], "ones");
    const b = param(g, ctx, "bias", [width], "zeros");
    return layerNorm(x, w, b, ctx.config.layerNormEps);
  });
}

/** GELU in the context's form (see `BuildContext.geluForm`). */
export function activation(ctx: BuildContext, x: Value): Value {
  if (ctx.geluForm !== "polynomial") return gelu(x);
  const z = abs(mul(x, Math.SQRT1_2)); // |x/√2|
  const t = div(1, add(mul(z, 0.3275911), 1));
  let poly: Value = mul(t, 1.061405429);
  for (const a of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) poly = mul(add(poly, a), t);
  const erfAbs = sub(1, mul(poly, exp(neg(mul(z, z))))); // erf(|x/√2|)
  const erf = where(less(x, 0), neg(erfAbs), erfAbs);
  return mul(mul(x, 0.5), add(erf, 1));
}

/** Applies the context's dropout (training graphs) or nothing (inference graphs, rate 0). */
export function maybeDropout(ctx: BuildContext, x: Value, rate: number): Value {
  return ctx.dropout && rate > 0 ? ctx.dropout(x, rate) : x;
}

/** The embedding tables and their LayerNorm (shared by generator and discriminator in pretraining). */
export interface EmbeddingParams {
  word: Value; // (V, E)
  position: Value; // (P, E)
  tokenType: Value; // (2, E)
  lnWeight: Value; // (E)
  lnBias: Value; // (E)
}

/** Creates `embeddings.*` parameters under the current scope (call inside `g.scope("electra")`). */
export function embeddingParams(g: Graph, ctx: BuildContext): EmbeddingParams {
  const c = ctx.config;
  return g.scope("embeddings", () => ({
    word: param(g, ctx, "word_embeddings.weight", [c.vocabSize, c.embeddingSize], "embedding"),
    position: param(
      g,
      ctx,
      "position_embeddings.weight",
      [c.maxPositionEmbeddings, c.embeddingSize],
      "embedding",
    ),
    tokenType: param(g, ctx, "token_type_embeddings.weight", [c.typeVocabSize, c.embeddingSize], "embedding"),
    lnWeight: param(g, ctx, "LayerNorm.weight", [c.embeddingSize], "ones"),
    lnBias: param(g, ctx, "LayerNorm.bias", [c.embeddingSize], "zeros"),
  }));
}

/** Position ids 0..T-1 for (B, T) token ids: a constant when T is fixed, else `Range` over the run-time T. */
export function positionIds(inputIds: Value): Value {
  const g = inputIds.graph;
  const t = inputIds.shape[1];
  if (typeof t === "number") return g.constant(tensor("int64", [t], Array.from({ length: t }, (_, i) => i)));
  const len = g.op("Squeeze", [
    g.op("Shape", [inputIds], { start: 1, end: 2 })[0],
    g.constant(tensor("int64", [1], [0])),
  ])[0];
  return g.op("Range", [scalar(g, 0, "int64"), len, scalar(g, 1, "int64")], {}, {
    types: [{ dtype: "int64", shape: [t] }],
  })[0];
}

/**
 * The summed, normalised embeddings of (B, T) `inputIds` and `tokenTypeIds` → (B, T, E), with dropout in
 * training graphs (HF `ElectraEmbeddings.forward`).
 */
export function embed(ctx: BuildContext, p: EmbeddingParams, inputIds: Value, tokenTypeIds: Value): Value {
  const words = gather(p.word, inputIds); // (B, T, E)
  const positions = gather(p.position, positionIds(inputIds)); // (T, E), broadcast over the batch
  const types = gather(p.tokenType, tokenTypeIds); // (B, T, E)
  const x = layerNorm(add(add(words, types), positions), p.lnWeight, p.lnBias, ctx.config.layerNormEps);
  return maybeDropout(ctx, x, ctx.config.hiddenDropoutProb);
}

/** `embeddings_project` (E → H) when the embedding and hidden widths differ, as HF's `ElectraModel` has. */
export function projectEmbeddings(g: Graph, ctx: BuildContext, x: Value): Value {
  const c = ctx.config;
  return c.embeddingSize === c.hiddenSize
    ? x
    : dense(g, ctx, x, "embeddings_project", c.embeddingSize, c.hiddenSize);
}

/**
 * The additive attention bias from a (B, T) 0/1 mask → (B, 1, 1, T): 0 where attended, −10000 where
 * masked (BERT/ELECTRA's value; after softmax it is exactly 0 in float32, like HF's dtype minimum, and the
 * fused `Attention` op of inference graphs applies the same value).
 */
export function attentionBias(mask: Value, dtype: DType = "float32"): Value {
  const m = cast(unsqueeze(mask, [1, 2]), dtype); // (B, 1, 1, T)
  return mul(sub(1, m), -10000);
}
