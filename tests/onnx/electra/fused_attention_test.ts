import assert from "node:assert/strict";
import { TINY_ELECTRA } from "./tiny_config.ts";
import {
  configFromHf,
  ELECTRA_SMALL,
  type ElectraConfig,
  electraConfig,
} from "../../../onnx/electra/config.ts";
import { MS_DOMAIN } from "../../../onnx/electra/fused_attention.ts";
import { fillNormal, fromWeights, hashString, type ParamSource, prng } from "../../../onnx/electra/init.ts";
import {
  buildTokenClassificationGraph,
  FAST_INFERENCE,
  type TokenClassificationOptions,
} from "../../../onnx/electra/token_classification.ts";
import { Graph } from "../../../onnx/graph.ts";
import { decodeModel } from "../../../onnx/proto.ts";
import { openSession, type Provider } from "../../../onnx/runtime.ts";
import { type Tensor, tensor } from "../../../onnx/tensor.ts";

const PROVIDERS: Provider[] = ["cpu", "wasm"];

/** Random values for every parameter (LayerNorm and biases included), larger than init so attention is peaked. */
const randomParams: ParamSource = (name, dims, kind) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  fillNormal(data, kind === "normal" ? 0.2 : kind === "embedding" ? 0.5 : 0.1, prng(hashString(name)));
  if (kind === "ones") { for (let i = 0; i < n; i++) data[i] += 1; }
  return { dtype: "float32", dims, data };
};

/** A batch of `lengths.length` sequences of length `T`; positions past each length are padding (mask 0, ids ≠ 0). */
function paddedBatch(lengths: number[], T: number, vocab: number): Record<string, Tensor> {
  const B = lengths.length;
  const ids: number[] = [], mask: number[] = [], types: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      ids.push(1 + ((b * 97 + t * 31) % (vocab - 1))); // padding keeps real ids, so only the mask hides it
      mask.push(t < lengths[b] ? 1 : 0);
      types.push(t >= lengths[b] >> 1 ? 1 : 0);
    }
  }
  return {
    input_ids: tensor("int64", [B, T], ids),
    attention_mask: tensor("int64", [B, T], mask),
    token_type_ids: tensor("int64", [B, T], types),
  };
}

/**
 * Runs graph `a` on `providerA` and `b` on `provider` with `feeds`, and checks that their logits agree within
 * `tol` (absolute, relative to 1 + |x|).
 */
async function assertSameLogits(
  a: Uint8Array,
  b: Uint8Array,
  feeds: Record<string, Tensor>,
  provider: Provider,
  tol: number,
  providerA: Provider = provider,
) {
  const out: Float32Array[] = [];
  for (const [model, p] of [[a, providerA], [b, provider]] as const) {
    const session = await openSession(model, { provider: p });
    const { logits } = await session.run(feeds);
    out.push(Float32Array.from(logits.data as Float32Array));
    await session.release();
  }
  assert.equal(out[0].length, out[1].length);
  for (let i = 0; i < out[0].length; i++) {
    const err = Math.abs(out[0][i] - out[1][i]);
    if (!(err <= tol * (1 + Math.abs(out[0][i])))) {
      assert.fail(`${provider}: logits[${i}] ${out[1][i]} vs ${out[0][i]} (|diff| ${err})`);
    }
  }
}

/** The standard-op inference graph and the same graph with `options`, as bytes. */
function pair(
  config: ElectraConfig,
  numLabels: number,
  params: ParamSource,
  options: Partial<TokenClassificationOptions>,
) {
  return [
    buildTokenClassificationGraph({ config, numLabels, params }).toBytes(),
    buildTokenClassificationGraph({ config, numLabels, params, ...options }).toBytes(),
  ];
}

const tiny = TINY_ELECTRA;

Deno.test("fused attention gives the standard graph's logits with padding, on cpu and wasm", async (t) => {
  const feeds = paddedBatch([12, 7, 1], 12, tiny.vocabSize);
  for (
    const [name, options] of [["(B, T, H)", { fusedAttention: true }], [
      "FAST_INFERENCE (B·T, H)",
      FAST_INFERENCE,
    ]] as const
  ) {
    const [a, b] = pair(tiny, 5, randomParams, options);
    for (const provider of PROVIDERS) {
      await t.step(`${name}, ${provider}`, () => assertSameLogits(a, b, feeds, provider, 1e-4));
    }
  }
});

// WebGPU as tests/infer/webgpu_test.ts gates it (a software adapter compiles shaders slowly; NERSOTA_WEBGPU=0 skips).
const webgpu = Deno.env.get("NERSOTA_WEBGPU") !== "0" &&
  !!(await navigator.gpu?.requestAdapter().catch(() => null));

Deno.test({
  name: "fused attention (attention_bias form) gives the standard graph's logits with padding on WebGPU",
  ignore: !webgpu,
  sanitizeResources: false,
  fn: async () => {
    const [a, b] = pair(tiny, 5, randomParams, FAST_INFERENCE);
    // The standard graph on cpu as the reference: one (slow to compile) WebGPU session instead of two.
    await assertSameLogits(a, b, paddedBatch([12, 7, 1], 12, tiny.vocabSize), "webgpu", 1e-4, "cpu");
  },
});

Deno.test("FAST_INFERENCE matches the standard graph on an ELECTRA-small-sized model and on the ner-tiny fixture", async (t) => {
  const small = electraConfig({ ...ELECTRA_SMALL });
  const [a, b] = pair(small, 13, (name, dims, kind) => {
    const p = randomParams(name, dims, kind);
    if (kind === "normal") { for (let i = 0; i < p.data.length; i++) (p.data as Float32Array)[i] *= 0.25; // keep 12 layers finite
     }
    return p;
  }, FAST_INFERENCE);
  const smallFeeds = paddedBatch([128, 77, 3], 128, small.vocabSize);
  for (const provider of PROVIDERS) {
    await t.step(`ELECTRA-small size, ${provider}`, () => assertSameLogits(a, b, smallFeeds, provider, 1e-4));
  }

  const dir = new URL("../../../fixtures/ner-tiny/", import.meta.url);
  const config = configFromHf(JSON.parse(await Deno.readTextFile(new URL("config.json", dir))));
  const stored = Graph.fromModel(decodeModel(await Deno.readFile(new URL("inference.onnx", dir))));
  const weights = Object.fromEntries(stored.initializers);
  const [fa, fb] = pair(config, 13, fromWeights(weights, { source: "fixtures/ner-tiny" }), FAST_INFERENCE);
  const fixtureFeeds = paddedBatch([40, 17, 2, 1], 40, config.vocabSize);
  for (const provider of PROVIDERS) {
    await t.step(`ner-tiny, ${provider}`, () => assertSameLogits(fa, fb, fixtureFeeds, provider, 1e-4));
  }
});

Deno.test("fused attention graph: one Attention node per layer, HF parameter names and I/O unchanged", () => {
  const plain = buildTokenClassificationGraph({ config: tiny, numLabels: 5, params: randomParams });
  const fused = buildTokenClassificationGraph({
    config: tiny,
    numLabels: 5,
    params: randomParams,
    ...FAST_INFERENCE,
  });
  const attention = fused.nodes.filter((n) => n.opType === "Attention");
  assert.equal(attention.length, tiny.numHiddenLayers);
  assert.ok(attention.every((n) => n.domain === MS_DOMAIN && n.attrs.num_heads === tiny.numAttentionHeads));
  assert.equal(fused.opsets[MS_DOMAIN], 1);
  assert.ok(!fused.nodes.some((n) => n.opType === "Softmax" || n.opType === "Transpose"));
  assert.deepEqual([...fused.parameters].sort(), [...plain.parameters].sort());
  assert.deepEqual(fused.inputs.map((v) => v.name), ["input_ids", "attention_mask", "token_type_ids"]);
  assert.deepEqual(
    fused.outputs.map((v) => `${v.name}: ${v.shape}`),
    plain.outputs.map((v) => `${v.name}: ${v.shape}`),
  );
});

Deno.test("fused attention is refused for training and float64 graphs", () => {
  assert.throws(
    () => buildTokenClassificationGraph({ config: tiny, numLabels: 5, fusedAttention: true, training: true }),
    /no gradient/,
  );
  assert.throws(
    () =>
      buildTokenClassificationGraph({ config: tiny, numLabels: 5, fusedAttention: true, dtype: "float64" }),
    /float32 inference/,
  );
});

Deno.test("ONNX Runtime keeps FAST_INFERENCE's Attention and Gemm nodes and adds no SkipLayerNormalization/BiasGelu", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const counts = async (options: Partial<TokenClassificationOptions>) => {
      const path = `${dir}/optimized.onnx`;
      const g = buildTokenClassificationGraph({
        config: tiny,
        numLabels: 5,
        params: randomParams,
        ...options,
      });
      await (await openSession(g.toBytes(), { optimizedModelFilePath: path })).release();
      const c: Record<string, number> = {};
      for (const n of decodeModel(await Deno.readFile(path)).graph?.node ?? []) {
        c[n.opType] = (c[n.opType] ?? 0) + 1;
      }
      return c;
    };
    const fast = await counts(FAST_INFERENCE);
    assert.equal(fast.Attention, tiny.numHiddenLayers);
    assert.equal(fast.Gemm, 1 + 3 * tiny.numHiddenLayers); // embeddings_project + per layer: output, intermediate, output
    assert.equal(fast.SkipLayerNormalization, undefined);
    assert.equal(fast.BiasGelu, undefined);
    // The standard graph, for contrast: ORT fuses its residual LayerNorms and bias+GELU but not its attention.
    const plain = await counts({});
    assert.equal(plain.Attention, undefined);
    assert.equal(plain.SkipLayerNormalization, 2 * tiny.numHiddenLayers);
    assert.equal(plain.BiasGelu, tiny.numHiddenLayers);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
