import assert from "node:assert/strict";
import { buildBackward } from "../../../onnx/autodiff.ts";
import { electraConfig, generatorConfig } from "../../../onnx/electra/config.ts";
import { fillNormal, hashString, type ParamSource, prng } from "../../../onnx/electra/init.ts";
import { buildPretrainingGraph } from "../../../onnx/electra/pretraining.ts";
import { buildMaskedLmGraph } from "../../../onnx/electra/masked_lm.ts";
import type { Graph } from "../../../onnx/graph.ts";
import { openSession } from "../../../onnx/runtime.ts";
import { type Tensor, tensor } from "../../../onnx/tensor.ts";

// Float64 throughout; GELU with the polynomial erf because ONNX Runtime has no double Erf kernel.
const config = electraConfig({
  vocabSize: 24,
  embeddingSize: 8,
  hiddenSize: 12,
  numHiddenLayers: 2,
  numAttentionHeads: 3,
  intermediateSize: 16,
  maxPositionEmbeddings: 8,
});
const gen = generatorConfig(config, 0.5); // hidden 6 ≠ embedding 8: the generator has embeddings_project

const params: ParamSource = (name, dims, kind) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  fillNormal(data, kind === "normal" ? 0.3 : kind === "embedding" ? 0.5 : 0.1, prng(hashString(name)));
  if (kind === "ones") { for (let i = 0; i < n; i++) data[i] += 1; }
  return { dtype: "float64", dims, data };
};

const B = 2, T = 5, P = 2;
const feeds: Record<string, Tensor> = {
  input_ids: tensor("int64", [B, T], [2, 4, 9, 4, 3, 2, 11, 4, 3, 0]),
  attention_mask: tensor("int64", [B, T], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]),
  token_type_ids: tensor("int64", [B, T], [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]),
  masked_lm_positions: tensor("int64", [B, P], [1, 3, 2, 0]),
  masked_lm_ids: tensor("int64", [B, P], [7, 15, 20, 0]),
  masked_lm_weights: tensor("float64", [B, P], [1, 1, 1, 0]),
  sample_uniform: tensor("float64", [B, P], [0.35, 0.8, 0.55, 0.1]),
};

/** The pretraining graph; `flatTokens` runs both encoders on 2-D (B·T, ·) activations (Gemm dense layers). */
function build(flatTokens: boolean): Graph {
  return buildPretrainingGraph({
    discriminator: config,
    generator: gen,
    params,
    dtype: "float64",
    geluForm: "polynomial",
    sampler: "inverse-cdf",
    flatTokens,
  });
}

async function lossOf(g: Graph): Promise<number> {
  const s = await openSession(g.toBytes());
  const { loss } = await s.run(feeds, ["loss"]);
  await s.release();
  return Number(loss.data[0]);
}

/**
 * Compares autodiff gradients (`out["grad.<name>"]`) with central differences of `lossOf(base)` at three
 * seeded entries of each named parameter of `base` (a fresh copy of the graph whose initializers are nudged).
 */
async function checkFiniteDifferences(
  base: Graph,
  out: Record<string, Tensor>,
  names: string[],
  lossOf: (g: Graph) => Promise<number>,
  salt: number,
): Promise<void> {
  const eps = 1e-5;
  for (const name of names) {
    const t = base.initializers.get(name)!;
    const analytic = out[`grad.${name}`].data as Float64Array;
    const r = prng(hashString(name, salt));
    for (let k = 0; k < 3; k++) {
      const i = Math.floor(r() * t.data.length);
      const data = t.data as Float64Array;
      const orig = data[i];
      data[i] = orig + eps;
      const up = await lossOf(base);
      data[i] = orig - eps;
      const down = await lossOf(base);
      data[i] = orig;
      const numeric = (up - down) / (2 * eps);
      assert.ok(
        Math.abs(numeric - analytic[i]) <= 1e-6 + 1e-4 * Math.abs(numeric),
        `${name}[${i}]: autodiff ${analytic[i]}, finite difference ${numeric}`,
      );
    }
  }
}

for (const flatTokens of [false, true]) {
  const form = flatTokens ? ", 2-D token activations" : "";
  Deno.test(`gradients of the full ELECTRA pretraining loss match finite differences (float64${form})`, async () => {
    const g = build(flatTokens);
    const loss = g.outputs.find((o) => o.name === "loss")!;
    const names = [...g.parameters];
    const grads = buildBackward(g, loss, names);
    for (const [name, grad] of grads) g.output(grad, `grad.${name}`);
    const s = await openSession(g.toBytes()).catch((e: Error) => {
      // ONNX types LayerNormalization's Mean/InvStdDev as float32 (stash_type) even for double inputs; a
      // gradient rule that declares them float64 is refused here, so say where the fix belongs.
      if (/LayerNormalization.*does not match expected type \(tensor\(float\)\)/.test(e.message)) {
        throw new Error(
          `${e.message}\n→ onnx/gradients.ts LayerNormalization rule: its statType must be float32 for float64 inputs too`,
        );
      }
      throw e;
    });
    const out = await s.run(feeds);
    await s.release();

    // Every parameter gets a gradient; the discriminator's and generator's both move the shared embeddings.
    assert.equal(grads.size, names.length);
    const checked = [
      "electra.embeddings.word_embeddings.weight",
      "electra.embeddings.position_embeddings.weight",
      "electra.embeddings.LayerNorm.weight",
      "electra.embeddings_project.weight",
      "electra.encoder.layer.0.attention.self.query.weight",
      "electra.encoder.layer.1.output.LayerNorm.bias",
      "discriminator_predictions.dense_prediction.weight",
      "generator.electra.embeddings_project.weight",
      "generator.electra.encoder.layer.1.attention.self.key.bias",
      "generator.electra.encoder.layer.0.intermediate.dense.weight",
      "generator.generator_predictions.LayerNorm.weight",
      "generator.generator_lm_head.bias",
    ];
    await checkFiniteDifferences(build(flatTokens), out, checked, lossOf, 99);
  });
}

Deno.test("gradients of the masked-LM loss (full-width encoder, tied LM head) match finite differences (float64)", async () => {
  const build = () => buildMaskedLmGraph({ config, params, dtype: "float64", geluForm: "polynomial" });
  const { sample_uniform: _, ...mlmFeeds } = feeds;
  const lossOfMlm = async (g: Graph) => {
    const s = await openSession(g.toBytes());
    const { loss } = await s.run(mlmFeeds, ["loss"]);
    await s.release();
    return Number(loss.data[0]);
  };
  const g = build();
  const loss = g.outputs.find((o) => o.name === "loss")!;
  const names = [...g.parameters];
  const grads = buildBackward(g, loss, names);
  for (const [name, grad] of grads) g.output(grad, `grad.${name}`);
  const s = await openSession(g.toBytes());
  const out = await s.run(mlmFeeds);
  await s.release();
  assert.equal(grads.size, names.length);
  const checked = [
    "electra.embeddings.word_embeddings.weight", // both the input table and the tied output layer
    "electra.embeddings.position_embeddings.weight",
    "electra.embeddings_project.weight",
    "electra.encoder.layer.0.attention.self.query.weight",
    "electra.encoder.layer.1.output.LayerNorm.bias",
    "generator_predictions.dense.weight",
    "generator_predictions.LayerNorm.weight",
    "generator_lm_head.bias",
  ];
  await checkFiniteDifferences(build(), out, checked, lossOfMlm, 7);
});
