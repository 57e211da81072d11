/**
 * Small models and synthetic tasks for the training tests: a two-layer MLP (classify which of 4 fixed
 * random directions a vector is closest to) and a one-block transformer (label each token with the
 * previous token's id mod 4, which needs attention), both as `BuildForward` functions.
 */
import type { BuildForward } from "../../onnx/artifacts.ts";
import type { Graph, Value } from "../../onnx/graph.ts";
import { crossEntropy } from "../../onnx/losses.ts";
import * as ops from "../../onnx/ops.ts";
import { type DType, type Tensor, tensor } from "../../onnx/tensor.ts";

/** Deterministic uniform numbers in [lo, hi). */
export function rng(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  };
}

function init(g: Graph, name: string, dims: number[], dtype: DType, scale: number, seed: number): Value {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return g.param(name, tensor(dtype, dims, Array.from({ length: n }, () => (scale === 0 ? 0 : r() * scale))));
}

const ones = (g: Graph, name: string, n: number, dtype: DType) =>
  g.param(name, tensor(dtype, [n], new Array(n).fill(1)));

/** MLP 8 → 32 (tanh) → 4 with cross-entropy; float64 possible (no Gelu). */
export function mlp(dtype: DType = "float32", dropout = 0): BuildForward {
  return (g, ctx) => {
    const x = g.input("x", dtype, ["batch", 8]);
    const h = g.scope(
      "fc1",
      () =>
        ops.tanh(
          ops.linear(x, init(g, "weight", [8, 32], dtype, 0.5, 1), init(g, "bias", [32], dtype, 0, 2)),
        ),
    );
    const hd = ctx.dropout && dropout ? ctx.dropout(h, dropout) : h;
    const logits = g.scope(
      "fc2",
      () => ops.linear(hd, init(g, "weight", [32, 4], dtype, 0.3, 3), init(g, "bias", [4], dtype, 0, 4)),
    );
    if (ctx.mode === "inference") return { outputs: { logits } };
    const labels = g.input("labels", "int64", ["batch"]);
    return { loss: crossEntropy(logits, labels), outputs: { logits } };
  };
}

/** A batch of the MLP task. */
export function mlpBatch(batch: number, seed: number, dtype: DType = "float32"): Record<string, Tensor> {
  const r = rng(seed), dirs = rng(12345);
  const w = Array.from({ length: 32 }, () => dirs());
  const xs: number[] = [], ys: number[] = [];
  for (let b = 0; b < batch; b++) {
    const x = Array.from({ length: 8 }, () => r());
    const scores = [0, 1, 2, 3].map((c) => x.reduce((s, v, i) => s + v * w[c * 8 + i], 0));
    xs.push(...x);
    ys.push(scores.indexOf(Math.max(...scores)));
  }
  return { x: tensor(dtype, [batch, 8], xs), labels: tensor("int64", [batch], ys) };
}

/** Sizes of the tiny transformer. */
export const TINY = { vocab: 12, hidden: 32, heads: 2, ffn: 64, seq: 8, labels: 4 };

/** One post-LN transformer block over token + position embeddings, with a token classifier. */
export function tinyTransformer(dropout = 0.1): BuildForward {
  const { vocab, hidden: H, heads, ffn, seq: T, labels: L } = TINY;
  const dh = H / heads;
  return (g, ctx) => {
    const drop = (x: Value) => (ctx.dropout && dropout ? ctx.dropout(x, dropout) : x);
    const ids = g.input("input_ids", "int64", ["batch", T]);
    const dense = (name: string, x: Value, i: number, o: number, seed: number) =>
      g.scope(
        name,
        () =>
          ops.linear(
            x,
            init(g, "weight", [i, o], "float32", Math.sqrt(3 / i), seed),
            init(g, "bias", [o], "float32", 0, 0),
          ),
      );
    const ln = (name: string, x: Value) =>
      g.scope(
        name,
        () => ops.layerNorm(x, ones(g, "weight", H, "float32"), init(g, "bias", [H], "float32", 0, 0), 1e-12),
      );
    const word = init(g, "embeddings.word", [vocab, H], "float32", 1, 11);
    const pos = init(g, "embeddings.position", [T, H], "float32", 1, 12);
    const x = drop(ln("embeddings.LayerNorm", ops.add(ops.gather(word, ids), pos))); // (B, T, H)
    const split = (y: Value, perm: number[]) => ops.transpose(ops.reshape(y, [0, 0, heads, dh]), perm);
    const q = split(dense("query", x, H, H, 21), [0, 2, 1, 3]); // (B, nh, T, dh)
    const k = split(dense("key", x, H, H, 22), [0, 2, 3, 1]); // (B, nh, dh, T)
    const v = split(dense("value", x, H, H, 23), [0, 2, 1, 3]); // (B, nh, T, dh)
    const probs = drop(ops.softmax(ops.div(ops.matMul(q, k), Math.sqrt(dh)), -1)); // (B, nh, T, T)
    const ctxv = ops.reshape(ops.transpose(ops.matMul(probs, v), [0, 2, 1, 3]), [0, 0, H]); // (B, T, H)
    const a = ln("attention.LayerNorm", ops.add(drop(dense("attention.output", ctxv, H, H, 24)), x));
    const f = dense("output", ops.gelu(dense("intermediate", a, H, ffn, 25)), ffn, H, 26);
    const hidden = ln("output.LayerNorm", ops.add(drop(f), a));
    const logits = dense("classifier", hidden, H, L, 27); // (B, T, L)
    if (ctx.mode === "inference") return { outputs: { logits } };
    const labels = g.input("labels", "int64", ["batch", T]);
    return { loss: crossEntropy(logits, labels), outputs: { logits } };
  };
}

/** A batch of the transformer task: label = previous token id mod 4, -100 at position 0. */
export function tinyBatch(batch: number, seed: number): Record<string, Tensor> {
  const r = rng(seed);
  const ids: number[] = [], labels: number[] = [];
  for (let b = 0; b < batch; b++) {
    const row = Array.from({ length: TINY.seq }, () => Math.floor(r(0, TINY.vocab)));
    ids.push(...row);
    labels.push(-100, ...row.slice(0, -1).map((t) => t % TINY.labels));
  }
  return {
    input_ids: tensor("int64", [batch, TINY.seq], ids),
    labels: tensor("int64", [batch, TINY.seq], labels),
  };
}
