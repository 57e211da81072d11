/**
 * Inference-only self-attention as ONNX Runtime's contrib op `com.microsoft.Attention`: the Q/K/V
 * projections, scaled scores, padding bias, softmax and the weighted sum of values in one kernel, with no
 * head transposes in between. ONNX Runtime's own AttentionFusion never produces it from our opset-20 graph
 * (its pattern accepts only LayerNormalization-1, Reshape-5/13, Add-7/13), so inference graphs emit the op.
 *
 * Parameters keep their HF names (`…self.query.weight`, …): the op's packed (H, 3H) weight and (3H) bias are
 * `Concat` nodes over them, which ONNX Runtime folds into one initializer when the session opens (and then
 * pre-packs for its GEMMs). The padding mask goes in as the additive `attention_bias` (B, 1, T, T), not as
 * the int32 `mask_index`: both run alike on CPU, but onnxruntime-web's WebGPU provider has no Attention
 * kernel for a `mask_index` and ran such nodes on the CPU (measured, 1.30). CPU kernels exist in
 * onnxruntime-node and in onnxruntime-web's wasm build. No gradient rule: training graphs keep the attention
 * in standard ops (`encoder.ts`).
 * @module
 */
import type { Graph, Value } from "../graph.ts";
import { concat, ints } from "../ops.ts";
import { attentionBias, type BuildContext, flattenTokens, param, unflattenTokens } from "./embeddings.ts";

/** The contrib-op domain of ONNX Runtime. */
export const MS_DOMAIN = "com.microsoft";

/**
 * The fused op's `attention_bias` from the (B, T) int64 mask: `attentionBias`'s (B, 1, 1, T) (0 attended,
 * −10000 padding) expanded over the query axis to (B, 1, T, T), the shape the op requires; built once and
 * shared by every layer.
 */
export function fusedAttentionBias(attentionMask: Value): Value {
  const g = attentionMask.graph;
  const [B, T] = attentionMask.shape;
  const t = g.op("Shape", [attentionMask], { start: 1, end: 2 })[0]; // (1,) = [T]
  const target = g.op("Concat", [ints(g, [1, 1]), t, ints(g, [1])], { axis: 0 })[0]; // [1, 1, T, 1]
  return g.op("Expand", [attentionBias(attentionMask, "float32"), target], {}, {
    types: [{ dtype: "float32", shape: [B, 1, T, T] }],
  })[0];
}

/**
 * `attention.self` of HF `ElectraAttention` as one `com.microsoft.Attention` node under the current scope:
 * x (B, T, H) or (B·T, H), bias (B, 1, T, T) from `fusedAttentionBias` → context of x's shape, before the
 * output projection.
 */
export function fusedSelfAttention(g: Graph, ctx: BuildContext, x: Value, bias: Value): Value {
  const c = ctx.config;
  const h = c.hiddenSize;
  // With 2-D (B·T, H) token activations the op reads a (B, T, H) view of them (Reshape copies nothing).
  if (ctx.tokens && x.rank === 2) {
    return flattenTokens(
      fusedSelfAttention(g, { ...ctx, tokens: undefined }, unflattenTokens(x, ctx.tokens), bias),
    );
  }
  if (x.rank !== 3) {
    throw new Error(`fusedSelfAttention(): needs (B, T, H) or (B·T, H) activations, got ${x}`);
  }
  if (x.dtype !== "float32") {
    throw new Error(`fusedSelfAttention(): ONNX Runtime's CPU Attention is float32 only, got ${x}`);
  }
  if (bias.rank !== 4 || bias.dtype !== "float32") {
    throw new Error(
      `fusedSelfAttention(): the bias must be (B, 1, T, T) float32 (fusedAttentionBias()), got ${bias}`,
    );
  }
  g.opsets[MS_DOMAIN] = 1;
  return g.scope("self", () => {
    const parts = ["query", "key", "value"].map((name) =>
      g.scope(
        name,
        () => ({ w: param(g, ctx, "weight", [h, h], "normal"), b: param(g, ctx, "bias", [h], "zeros") }),
      )
    );
    // Packed as the op wants: columns [q | k | v] of (H, 3H), and the biases in the same order.
    const w = concat(parts.map((p) => p.w), 1); // (H, 3H)
    const b = concat(parts.map((p) => p.b), 0); // (3H)
    // Inputs: input, weights, bias, mask_index (none), past (none), attention_bias.
    return g.op("Attention", [x, w, b, undefined, undefined, bias], { num_heads: c.numAttentionHeads }, {
      domain: MS_DOMAIN,
      types: [{ dtype: x.dtype, shape: [...x.shape] }],
    })[0]; // (B, T, H)
  });
}
