// A plain TypeScript ELECTRA (float64, one sequence at a time) used by the tests as an independent check
// of the ONNX graphs. It reads weights in graph layout (Linear weights (in, out)) by HF name.
import type { ElectraConfig } from "../../../onnx/electra/config.ts";
import type { Tensor } from "../../../onnx/tensor.ts";

export type Weights = Record<string, Tensor>;
type Mat = Float64Array[]; // rows

/** erf by Abramowitz–Stegun 7.1.26 refined with one Newton-free series for small |x| (|error| < 2e-7). */
export function erf(x: number): number {
  const s = Math.sign(x), a = Math.abs(x);
  if (a < 0.5) {
    // Maclaurin series: converges fast here and is far more accurate than the rational fit.
    let term = a, sum = a;
    for (let n = 1; n < 20; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t *
      Math.exp(-a * a);
  return s * y;
}

export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

function w(ws: Weights, name: string): Float64Array {
  const t = ws[name];
  if (!t) throw new Error(`reference: no weight ${name}`);
  return Float64Array.from(t.data as Float32Array);
}

function linear(x: Mat, ws: Weights, name: string): Mat {
  const W = w(ws, `${name}.weight`), b = w(ws, `${name}.bias`);
  const [inSize, outSize] = ws[`${name}.weight`].dims;
  return x.map((row) => {
    const out = Float64Array.from(b);
    for (let i = 0; i < inSize; i++) for (let o = 0; o < outSize; o++) out[o] += row[i] * W[i * outSize + o];
    return out;
  });
}

function layerNorm(x: Mat, ws: Weights, name: string, eps: number): Mat {
  const g = w(ws, `${name}.weight`), b = w(ws, `${name}.bias`);
  return x.map((row) => {
    const n = row.length;
    const mean = row.reduce((s, v) => s + v, 0) / n;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i] + b[i]);
  });
}

const addRows = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i][j]));

/** ElectraModel on one sequence: ids, mask, types (length T) → hidden (T, H). `prefix`: "" or "generator.". */
export function electraHidden(
  c: ElectraConfig,
  ws: Weights,
  ids: number[],
  mask: number[],
  types: number[],
  prefix = "",
): Mat {
  const E = c.embeddingSize, H = c.hiddenSize, nh = c.numAttentionHeads, dh = H / nh;
  const word = w(ws, "electra.embeddings.word_embeddings.weight");
  const pos = w(ws, "electra.embeddings.position_embeddings.weight");
  const typ = w(ws, "electra.embeddings.token_type_embeddings.weight");
  let x: Mat = ids.map((id, t) => {
    const row = new Float64Array(E);
    for (let e = 0; e < E; e++) row[e] = word[id * E + e] + pos[t * E + e] + typ[types[t] * E + e];
    return row;
  });
  x = layerNorm(x, ws, "electra.embeddings.LayerNorm", c.layerNormEps);
  if (E !== H) x = linear(x, ws, `${prefix}electra.embeddings_project`);
  const T = ids.length;
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const p = `${prefix}electra.encoder.layer.${l}`;
    const q = linear(x, ws, `${p}.attention.self.query`);
    const k = linear(x, ws, `${p}.attention.self.key`);
    const v = linear(x, ws, `${p}.attention.self.value`);
    const ctx: Mat = Array.from({ length: T }, () => new Float64Array(H));
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: T }, (_, j) => {
          let s = 0;
          for (let d = 0; d < dh; d++) s += q[i][h * dh + d] * k[j][h * dh + d];
          return s / Math.sqrt(dh) + (1 - mask[j]) * -10000;
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < T; j++) {
          for (let d = 0; d < dh; d++) ctx[i][h * dh + d] += (e[j] / z) * v[j][h * dh + d];
        }
      }
    }
    const a = layerNorm(
      addRows(linear(ctx, ws, `${p}.attention.output.dense`), x),
      ws,
      `${p}.attention.output.LayerNorm`,
      c.layerNormEps,
    );
    const inner = linear(a, ws, `${p}.intermediate.dense`).map((r) => r.map(gelu));
    x = layerNorm(
      addRows(linear(inner, ws, `${p}.output.dense`), a),
      ws,
      `${p}.output.LayerNorm`,
      c.layerNormEps,
    );
  }
  return x;
}

/** Token-classification logits (T, L) for one sequence. */
export function tokenLogits(
  c: ElectraConfig,
  ws: Weights,
  ids: number[],
  mask: number[],
  types: number[],
): Mat {
  return linear(electraHidden(c, ws, ids, mask, types), ws, "classifier");
}

/** Discriminator logits (T) for one sequence. */
export function discriminatorLogits(ws: Weights, hidden: Mat): number[] {
  const x = linear(hidden, ws, "discriminator_predictions.dense").map((r) => r.map(gelu));
  return linear(x, ws, "discriminator_predictions.dense_prediction").map((r) => r[0]);
}

/**
 * Generator vocabulary logits for the given rows of generator hidden states (Hg) → (rows, V); `prefix` is the
 * head's scope ("generator." in the joint RTD model, "" in a masked LM).
 */
export function generatorLogits(gen: ElectraConfig, ws: Weights, rows: Mat, prefix = "generator."): Mat {
  const x = layerNorm(
    linear(rows, ws, `${prefix}generator_predictions.dense`).map((r) => r.map(gelu)),
    ws,
    `${prefix}generator_predictions.LayerNorm`,
    gen.layerNormEps,
  );
  const word = w(ws, "electra.embeddings.word_embeddings.weight"),
    bias = w(ws, `${prefix}generator_lm_head.bias`);
  const E = gen.embeddingSize;
  return x.map((r) => {
    const out = Float64Array.from(bias);
    for (let v = 0; v < gen.vocabSize; v++) for (let e = 0; e < E; e++) out[v] += r[e] * word[v * E + e];
    return out;
  });
}

/** log Σ exp(row) − row[label]. */
export function crossEntropy(row: Float64Array, label: number): number {
  const m = Math.max(...row);
  return m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[label];
}

/** Binary cross-entropy of a logit against a 0/1 target. */
export function bce(x: number, y: number): number {
  return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
}
