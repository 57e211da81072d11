import assert from "node:assert/strict";
import { TINY_ELECTRA } from "./tiny_config.ts";
import { electraConfig, generatorConfig } from "../../../onnx/electra/config.ts";
import { fillNormal, hashString, type ParamSource, prng } from "../../../onnx/electra/init.ts";
import { buildPretrainingGraph } from "../../../onnx/electra/pretraining.ts";
import { buildMaskedLmGraph } from "../../../onnx/electra/masked_lm.ts";
import { buildTokenClassificationGraph, FAST_INFERENCE } from "../../../onnx/electra/token_classification.ts";
import type { Graph } from "../../../onnx/graph.ts";
import { openSession } from "../../../onnx/runtime.ts";
import { type Tensor, tensor } from "../../../onnx/tensor.ts";
import {
  bce,
  crossEntropy,
  discriminatorLogits,
  electraHidden,
  generatorLogits,
  tokenLogits,
  type Weights,
} from "./reference.ts";

// The tiny model (embedding ≠ hidden, so embeddings_project is exercised) with two layers, so that the
// reference also checks how layers chain.
const config = electraConfig({ ...TINY_ELECTRA, numHiddenLayers: 2 });

/** Random values for every parameter, LayerNorm and biases included, so that none is trivially 0 or 1. */
const randomParams: ParamSource = (name, dims, kind) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  fillNormal(data, kind === "normal" ? 0.2 : kind === "embedding" ? 0.5 : 0.1, prng(hashString(name)));
  if (kind === "ones") { for (let i = 0; i < n; i++) data[i] += 1; }
  return { dtype: "float32", dims, data };
};

/** The same values in float64. */
const as64 = (p: ParamSource): ParamSource => (name, dims, kind) => {
  const t = p(name, dims, kind);
  return { dtype: "float64", dims: t.dims, data: Float64Array.from(t.data as Float32Array) };
};

function weightsOf(g: Graph): Weights {
  return Object.fromEntries([...g.parameters].map((n) => [n, g.initializers.get(n)!]));
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * (1 + Math.abs(expected[i])))) {
      assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (|diff| ${err})`);
    }
  }
}

const B = 2, T = 6;
const ids = [2, 7, 11, 3, 9, 39, 2, 5, 8, 3, 0, 0];
const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
const types = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0];
const feeds = {
  input_ids: tensor("int64", [B, T], ids),
  attention_mask: tensor("int64", [B, T], mask),
  token_type_ids: tensor("int64", [B, T], types),
};
const row = (xs: number[], b: number) => xs.slice(b * T, (b + 1) * T);

/** Runs a pretraining graph (RTD or masked LM) once on `feeds` and the masked positions, labels and weights. */
async function runMasked(
  g: Graph,
  masked: { P: number; positions: number[]; labels: number[]; weights: number[] },
  extra: Record<string, Tensor> = {},
): Promise<Record<string, Tensor>> {
  const { P } = masked;
  const session = await openSession(g.toBytes());
  const out = await session.run({
    ...feeds,
    masked_lm_positions: tensor("int64", [B, P], masked.positions),
    masked_lm_ids: tensor("int64", [B, P], masked.labels),
    masked_lm_weights: tensor("float32", [B, P], masked.weights),
    ...extra,
  });
  await session.release();
  return out;
}

Deno.test("token-classification graph matches a plain TypeScript ELECTRA", async (t) => {
  const L = 5;
  const variants = [
    { name: "float32, Gelu op, (B, T, H) activations", options: {}, tol: 2e-4 },
    { name: "float32, 2-D (B·T, H) activations", options: { flatTokens: true }, tol: 2e-4 },
    {
      name: "float32, fused Attention op, 2-D activations (FAST_INFERENCE)",
      options: FAST_INFERENCE,
      tol: 2e-4,
    },
    {
      name: "float64, polynomial erf",
      options: { dtype: "float64", geluForm: "polynomial", params: as64(randomParams) },
      tol: 2e-6,
    },
  ] as const;
  for (const v of variants) {
    await t.step(v.name, async () => {
      const g = buildTokenClassificationGraph({ config, numLabels: L, params: randomParams, ...v.options });
      const session = await openSession(g.toBytes());
      const { logits } = await session.run(feeds);
      await session.release();
      assert.deepEqual(logits.dims, [B, T, L]);
      const ws = weightsOf(g);
      for (let b = 0; b < B; b++) {
        const expected = tokenLogits(config, ws, row(ids, b), row(mask, b), row(types, b));
        const actual = Array.from(logits.data as Float32Array).slice(b * T * L, (b + 1) * T * L);
        assertClose(actual, expected.flatMap((r) => Array.from(r)), v.tol, `logits of sequence ${b}`);
      }
    });
  }
});

Deno.test("token-classification training graph: ignore-index mean cross-entropy", async () => {
  const L = 5;
  const g = buildTokenClassificationGraph({ config, numLabels: L, params: randomParams, training: true });
  const labels = [1, 4, -100, 0, 2, 3, 0, -100, 1, 1, -100, -100];
  const session = await openSession(g.toBytes());
  const { loss } = await session.run({ ...feeds, labels: tensor("int64", [B, T], labels) });
  await session.release();
  const ws = weightsOf(g);
  let sum = 0, count = 0;
  for (let b = 0; b < B; b++) {
    const lg = tokenLogits(config, ws, row(ids, b), row(mask, b), row(types, b));
    row(labels, b).forEach((l, t) => {
      if (l !== -100) sum += crossEntropy(lg[t], l), count++;
    });
  }
  assertClose(loss.data as Float32Array, [sum / count], 1e-4, "loss");
});

Deno.test("pretraining graph matches a plain TypeScript ELECTRA (generator, sampling, discriminator, losses)", async (t) => {
  const gen = generatorConfig(config, 0.5); // hidden 32 ≠ embedding 16 (its own embeddings_project), 1 head, FFN 128
  const P = 3;
  const positions = [1, 4, 2, 2, 0, 0]; // second sequence: one real prediction, then padding at 0
  const labels = [9, 13, 30, 17, 0, 0];
  const weights = [1, 1, 1, 1, 0, 0];
  const noise = new Float32Array(B * P * config.vocabSize);
  const rand = prng(7);
  for (let i = 0; i < noise.length; i++) noise[i] = -Math.log(-Math.log(1 - rand()));
  for (const sampler of ["gumbel", "inverse-cdf"] as const) {
    await t.step(sampler, async () => {
      const g = buildPretrainingGraph({
        discriminator: config,
        generator: gen,
        params: randomParams,
        debugOutputs: true,
        sampler,
      });
      const uniform = [0.05, 0.5, 0.93, 0.31, 0.7, 0.2];
      const out = await runMasked(
        g,
        { P, positions, labels, weights },
        sampler === "gumbel"
          ? { gumbel_noise: { dtype: "float32", dims: [B, P, config.vocabSize], data: noise } as Tensor }
          : { sample_uniform: tensor("float32", [B, P], uniform) },
      );
      const ws = weightsOf(g);
      let genSum = 0, genW = 0, mlmRight = 0, discSum = 0, discW = 0, discRight = 0;
      for (let b = 0; b < B; b++) {
        const hg = electraHidden(gen, ws, row(ids, b), row(mask, b), row(types, b), "generator.");
        const pos = positions.slice(b * P, (b + 1) * P);
        const logits = generatorLogits(gen, ws, pos.map((p) => hg[p]));
        assertClose(
          Array.from(out.generator_logits.data as Float32Array).slice(
            b * P * config.vocabSize,
            (b + 1) * P * config.vocabSize,
          ),
          logits.flatMap((r) => Array.from(r)),
          2e-4,
          `generator logits of sequence ${b}`,
        );
        const original = row(ids, b), replaced = [...original];
        pos.forEach((p, j) => {
          const k = b * P + j;
          if (!weights[k]) return;
          original[p] = labels[k];
          const lg = Array.from(logits[j]);
          let s = 0;
          if (sampler === "gumbel") {
            const scored = lg.map((v, i) => v + noise[k * config.vocabSize + i]);
            s = scored.indexOf(Math.max(...scored));
          } else {
            const m = Math.max(...lg), e = lg.map((v) => Math.exp(v - m)), z = e.reduce((a, c) => a + c, 0);
            let cum = 0;
            while (s < lg.length - 1 && (cum += e[s] / z) < uniform[k]) s++;
          }
          replaced[p] = s;
          genSum += crossEntropy(logits[j], labels[k]), genW++;
          if (lg.indexOf(Math.max(...lg)) === labels[k]) mlmRight++;
        });
        assert.deepEqual(
          Array.from(out.replaced_input_ids.data as BigInt64Array).slice(b * T, (b + 1) * T).map(Number),
          replaced,
          `replaced ids of sequence ${b}`,
        );
        const targets = replaced.map((r, i) => (r !== original[i] ? 1 : 0));
        assert.deepEqual(Array.from(out.is_replaced.data as Float32Array).slice(b * T, (b + 1) * T), targets);
        const dl = discriminatorLogits(ws, electraHidden(config, ws, replaced, row(mask, b), row(types, b)));
        assertClose(
          Array.from(out.discriminator_logits.data as Float32Array).slice(b * T, (b + 1) * T),
          dl,
          2e-4,
          `discriminator logits of sequence ${b}`,
        );
        dl.forEach((x, i) => {
          const m = mask[b * T + i];
          discSum += m * bce(x, targets[i]), discW += m;
          if (m && (x > 0) === (targets[i] === 1)) discRight++;
        });
      }
      const genLoss = genSum / (genW + 1e-6), discLoss = discSum / (discW + 1e-6);
      assertClose(out.generator_loss.data as Float32Array, [genLoss], 1e-4, "generator_loss");
      assertClose(out.discriminator_loss.data as Float32Array, [discLoss], 1e-4, "discriminator_loss");
      assertClose(out.loss.data as Float32Array, [genLoss + 50 * discLoss], 1e-4, "loss");
      assertClose(out.mlm_accuracy.data as Float32Array, [mlmRight / genW], 1e-5, "mlm_accuracy");
      assertClose(
        out.discriminator_accuracy.data as Float32Array,
        [discRight / discW],
        1e-5,
        "discriminator_accuracy",
      );
    });
  }
});

Deno.test("inference graph follows the HF/Optimum input and output convention", () => {
  const g = buildTokenClassificationGraph({ config, numLabels: 3 });
  assert.deepEqual(
    g.inputs.map((v) => [v.name, v.dtype, v.shape]),
    ["input_ids", "attention_mask", "token_type_ids"].map((
      n,
    ) => [n, "int64", ["batch_size", "sequence_length"]]),
  );
  assert.deepEqual(g.outputs.map((v) => [v.name, v.dtype, v.shape]), [["logits", "float32", [
    "batch_size",
    "sequence_length",
    3,
  ]]]);
  assert.ok(!g.nodes.some((n) => n.opType === "Dropout"));
});

Deno.test("pretraining graph runs in float64 (polynomial erf) and agrees with float32", async () => {
  const P = 2;
  const common = {
    ...feeds,
    masked_lm_positions: tensor("int64", [B, P], [1, 3, 2, 0]),
    masked_lm_ids: tensor("int64", [B, P], [5, 6, 7, 0]),
  };
  const losses: number[][] = [];
  for (const dtype of ["float32", "float64"] as const) {
    const g = buildPretrainingGraph({
      discriminator: config,
      params: dtype === "float64" ? as64(randomParams) : randomParams,
      dtype,
      geluForm: dtype === "float64" ? "polynomial" : "op",
      sampler: "inverse-cdf",
    });
    const session = await openSession(g.toBytes());
    const out = await session.run({
      ...common,
      masked_lm_weights: tensor(dtype, [B, P], [1, 1, 1, 0]),
      sample_uniform: tensor(dtype, [B, P], [0.3, 0.6, 0.9, 0.1]),
    });
    await session.release();
    assert.equal(out.loss.dtype, dtype);
    losses.push(["loss", "generator_loss", "discriminator_loss"].map((k) => Number(out[k].data[0])));
  }
  assertClose(losses[1], losses[0], 1e-4, "float64 vs float32 losses");
});

Deno.test("masked-LM graph matches a plain TypeScript ELECTRA: full-width logits at the masked positions, weighted loss", async () => {
  const P = 3;
  const positions = [1, 4, 2, 2, 0, 0]; // second sequence: one real prediction, then padding at 0
  const labels = [9, 13, 30, 17, 0, 0];
  const weights = [1, 1, 1, 1, 0, 0];
  const g = buildMaskedLmGraph({ config, params: randomParams, debugOutputs: true });
  assert.ok([...g.parameters].every((n) => !n.startsWith("generator.") && !n.startsWith("discriminator")));
  assert.ok(
    g.parameters.has("generator_lm_head.bias") &&
      g.parameters.has("electra.encoder.layer.1.output.dense.weight"),
  );
  const out = await runMasked(g, { P, positions, labels, weights });
  const ws = weightsOf(g);
  let sum = 0, count = 0, right = 0;
  for (let b = 0; b < B; b++) {
    const h = electraHidden(config, ws, row(ids, b), row(mask, b), row(types, b));
    const pos = positions.slice(b * P, (b + 1) * P);
    const logits = generatorLogits(config, ws, pos.map((p) => h[p]), "");
    assertClose(
      Array.from(out.mlm_logits.data as Float32Array).slice(
        b * P * config.vocabSize,
        (b + 1) * P * config.vocabSize,
      ),
      logits.flatMap((r) => Array.from(r)),
      2e-4,
      `logits of sequence ${b}`,
    );
    pos.forEach((_, j) => {
      const k = b * P + j;
      if (!weights[k]) return;
      sum += crossEntropy(logits[j], labels[k]);
      const lg = Array.from(logits[j]);
      if (lg.indexOf(Math.max(...lg)) === labels[k]) right++;
      count++;
    });
  }
  assertClose(out.loss.data as Float32Array, [sum / (count + 1e-6)], 1e-4, "loss");
  assertClose(out.mlm_accuracy.data as Float32Array, [right / (count + 1e-6)], 1e-5, "accuracy");
});

Deno.test("mlm_accuracy counts the predictions whose label is the argmax of the logits (masked LM and generator)", async () => {
  const P = 3;
  const positions = [1, 4, 2, 2, 0, 3];
  const weights = [1, 1, 1, 1, 0, 1]; // one padded prediction, whose label is right but must not count
  const run = (g: Graph, labels: number[], extra: Record<string, Tensor> = {}) =>
    runMasked(g, { P, positions, labels, weights }, extra);
  const argmaxes = (t: Tensor) =>
    Array.from({ length: B * P }, (_, k) => {
      const row = Array.from(t.data as Float32Array).slice(k * config.vocabSize, (k + 1) * config.vocabSize);
      return row.indexOf(Math.max(...row));
    });
  const mlm = buildMaskedLmGraph({ config, params: randomParams, debugOutputs: true });
  const rtd = buildPretrainingGraph({
    discriminator: config,
    params: randomParams,
    sampler: "inverse-cdf",
    debugOutputs: true,
  });
  const uniform = { sample_uniform: tensor("float32", [B, P], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]) };
  for (
    const [g, logitsName, extra] of [[mlm, "mlm_logits", {}], [rtd, "generator_logits", uniform]] as const
  ) {
    const best = argmaxes((await run(g, new Array(B * P).fill(5), extra))[logitsName]);
    // Right at predictions 0, 2, 4 (padding), 5; wrong (argmax + 1) at 1 and 3: 3 of the 5 real ones.
    const labels = best.map((a, k) => [1, 3].includes(k) ? (a + 1) % config.vocabSize : a);
    const out = await run(g, labels, extra);
    assert.deepEqual(argmaxes(out[logitsName]), best, "the logits do not depend on the labels");
    assertClose(out.mlm_accuracy.data as Float32Array, [3 / (5 + 1e-6)], 1e-6, `${logitsName} accuracy`);
  }
});
