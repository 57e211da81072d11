/**
 * The AdamW subgraph against a two-step example written out in TypeScript from the reference algorithms
 * (PyTorch `torch.optim.AdamW` for `adamw`, TF `AdamWeightDecayOptimizer` + `clip_by_global_norm` for
 * `electraAdam`), on float64 graphs: agreement to 1e-12. The first step is also checked against its closed
 * form (Adam's first update is lr·g/(|g| + ε) with bias correction).
 */
import assert from "node:assert/strict";
import { Graph } from "../../onnx/graph.ts";
import { adamw, adamwUpdate, decays, electraAdam, type OptimizerConfig } from "../../onnx/optimizer.ts";
import { openSession } from "../../onnx/runtime.ts";
import { type Tensor, tensor } from "../../onnx/tensor.ts";

const P = { "dense.weight": [0.5, -1.0, 2.0], "dense.bias": [0.1, -0.2] };
const G1 = { "dense.weight": [0.3, -0.4, 1.2], "dense.bias": [-0.5, 0.05] };
const G2 = { "dense.weight": [-0.1, 0.2, 0.7], "dense.bias": [0.25, -0.3] };
type Vecs = Record<string, number[]>;

/** PyTorch AdamW (decoupled decay first) with torch's clip_grad_norm_, or ELECTRA's TF optimizer. */
function reference(
  cfg: OptimizerConfig,
  grads: Vecs[],
  lr: number,
): { p: Vecs; m: Vecs; v: Vecs; norms: number[] } {
  const p: Vecs = structuredClone(P), m: Vecs = {}, v: Vecs = {};
  for (const k in p) (m[k] = p[k].map(() => 0)), (v[k] = p[k].map(() => 0));
  const norms: number[] = [];
  grads.forEach((g, i) => {
    const t = i + 1;
    const norm = Math.sqrt(Object.values(g).flat().reduce((s, x) => s + x * x, 0));
    norms.push(norm);
    const clip = cfg.biasCorrection
      ? Math.min(1, cfg.maxGradNorm! / (norm + 1e-6)) // torch.nn.utils.clip_grad_norm_
      : cfg.maxGradNorm! / Math.max(norm, cfg.maxGradNorm!); // tf.clip_by_global_norm
    for (const k in p) {
      const decay = decays(cfg, k);
      p[k] = p[k].map((w, j) => {
        const gr = g[k][j] * clip;
        m[k][j] = cfg.beta1 * m[k][j] + (1 - cfg.beta1) * gr;
        v[k][j] = cfg.beta2 * v[k][j] + (1 - cfg.beta2) * gr * gr;
        if (cfg.biasCorrection) {
          const w1 = decay ? w * (1 - lr * cfg.weightDecay) : w; // torch: p.mul_(1 - lr·wd) first
          const bc1 = 1 - cfg.beta1 ** t, bc2 = 1 - cfg.beta2 ** t;
          return w1 - (lr / bc1) * m[k][j] / (Math.sqrt(v[k][j]) / Math.sqrt(bc2) + cfg.eps);
        }
        let update = m[k][j] / (Math.sqrt(v[k][j]) + cfg.eps); // TF: update += wd·param; param -= lr·update
        if (decay) update += cfg.weightDecay * w;
        return w - lr * update;
      });
    }
  });
  return { p, m, v, norms };
}

async function runGraph(cfg: OptimizerConfig, grads: Vecs[], lr: number) {
  const g = new Graph("opt");
  const names = Object.keys(P);
  const slots = names.map((n) => {
    const d = [P[n as keyof typeof P].length];
    return {
      name: n,
      param: g.input(n, "float64", d),
      grad: g.input(`${n}.g`, "float64", d),
      m: g.input(`${n}.m`, "float64", d),
      v: g.input(`${n}.v`, "float64", d),
      outNames: { param: `${n}.new`, m: `${n}.m.new`, v: `${n}.v.new` },
    };
  });
  const step = g.input("step", "float64", []), lrIn = g.input("lr", "float64", []);
  const { params, gradNorm } = adamwUpdate(slots, lrIn, step, cfg);
  g.output(gradNorm, "grad_norm");
  for (const n of names) g.outputs.push(params.get(n)!.param, params.get(n)!.m, params.get(n)!.v);
  const s = await openSession(g.toBytes());
  const vec = (x: number[]): Tensor => tensor("float64", [x.length], x);
  let state: Record<string, Tensor> = {};
  for (const n of names) {
    const p = P[n as keyof typeof P];
    Object.assign(state, { [n]: vec(p), [`${n}.m`]: vec(p.map(() => 0)), [`${n}.v`]: vec(p.map(() => 0)) });
  }
  const norms: number[] = [];
  const history: Record<string, Tensor>[] = [];
  for (let i = 0; i < grads.length; i++) {
    const feeds: Record<string, Tensor> = {
      ...state,
      step: tensor("float64", [], [i + 1]),
      lr: tensor("float64", [], [lr]),
    };
    for (const n of names) feeds[`${n}.g`] = vec(grads[i][n]);
    const out = await s.run(feeds);
    norms.push(Number(out.grad_norm.data[0]));
    state = {};
    for (const n of names) {
      Object.assign(state, {
        [n]: out[`${n}.new`],
        [`${n}.m`]: out[`${n}.m.new`],
        [`${n}.v`]: out[`${n}.v.new`],
      });
    }
    history.push(state);
  }
  await s.release();
  return { state, norms, history };
}

function close(actual: ArrayLike<number | bigint>, expected: number[], what: string, tol = 1e-12) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(Number(actual[i]) - expected[i]) <= tol,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

for (
  const [label, cfg] of [
    ["adamw (HF/PyTorch: bias-corrected, eps 1e-8, decay 0.1, clip 1.0)", adamw({ weightDecay: 0.1 })],
    ["electraAdam (no bias correction, eps 1e-6, decay 0.01, clip 1.0)", electraAdam()],
  ] as const
) {
  Deno.test(`${label}: two steps match the reference algorithm`, async () => {
    const lr = 0.01;
    const ref = reference(cfg, [G1, G2], lr);
    const { state, norms } = await runGraph(cfg, [G1, G2], lr);
    for (const n of Object.keys(P)) {
      close(state[n].data as Float64Array, ref.p[n], n);
      close(state[`${n}.m`].data as Float64Array, ref.m[n], `${n}.m`);
      close(state[`${n}.v`].data as Float64Array, ref.v[n], `${n}.v`);
    }
    close(norms, ref.norms, "grad_norm");
    // The first gradient has norm 1.44 > 1: clipping is active on step 1, inactive on step 2 (norm 0.9).
    assert.ok(ref.norms[0] > 1 && ref.norms[1] < 1);
  });
}

Deno.test("adamw first step is p − lr·g/(|g| + ε) − lr·λ·p (hand-computed, no clipping)", async () => {
  const cfg = adamw({ weightDecay: 0.1, maxGradNorm: 0 });
  const { state } = await runGraph(cfg, [G1], 0.01);
  // dense.weight decays, dense.bias does not ("bias" in the name).
  close(
    state["dense.weight"].data as Float64Array,
    [0.5 - 0.01 - 0.0005, -1.0 + 0.01 + 0.001, 2.0 - 0.01 - 0.002],
    "weight",
    1e-8,
  );
  close(state["dense.bias"].data as Float64Array, [0.1 + 0.01, -0.2 - 0.01], "bias", 1e-8); // ε shifts it by lr·ε/|g| ≤ 2e-9
});

Deno.test("electraAdam first step is p − lr·(0.1g/(√0.001·|g| + 1e-6) + λ·p) (hand-computed, no clipping)", async () => {
  const cfg = electraAdam({ maxGradNorm: 0 });
  const { state } = await runGraph(cfg, [G1], 0.01);
  const u = (g: number) => (0.1 * g) / (Math.sqrt(0.001) * Math.abs(g) + 1e-6);
  close(
    state["dense.weight"].data as Float64Array,
    [0.5, -1, 2].map((w, i) => w - 0.01 * (u(G1["dense.weight"][i]) + 0.01 * w)),
    "weight",
  );
  close(
    state["dense.bias"].data as Float64Array,
    [0.1, -0.2].map((w, i) => w - 0.01 * u(G1["dense.bias"][i])),
    "bias",
  );
});

Deno.test("decays() excludes bias and LayerNorm as each preset says", () => {
  assert.equal(decays(adamw({ weightDecay: 0.1 }), "encoder.layer.0.output.dense.weight"), true);
  assert.equal(decays(adamw({ weightDecay: 0.1 }), "encoder.layer.0.output.LayerNorm.weight"), false);
  assert.equal(decays(adamw({ weightDecay: 0.1 }), "encoder.layer.0.output.dense.bias"), false);
  assert.equal(decays(electraAdam(), "embeddings.LayerNorm.bias"), false);
  assert.equal(decays(electraAdam(), "discriminator_predictions.dense.weight"), true);
  assert.equal(decays(adamw(), "x.weight"), false); // weight decay 0 by default
});
