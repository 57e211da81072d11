import assert from "node:assert/strict";
import { join } from "node:path";
import {
  configFromHf,
  configToJson,
  electraConfig,
  generatorConfig,
  withLabels,
} from "../../../onnx/electra/config.ts";
import {
  checkHfTensors,
  decodeModelWeights,
  encodeModelWeights,
  exportHf,
  hfTensorShapes,
  importHf,
  narrowToFloat16,
  pythonJson,
  splitPretraining,
  swapLinearLayout,
  widenFloat16,
} from "../../../onnx/electra/hf.ts";
import { float16Bits, float16Value } from "../../../onnx/quantize.ts";
import { fromWeights, initParams } from "../../../onnx/electra/init.ts";
import { buildPretrainingGraph } from "../../../onnx/electra/pretraining.ts";
import { buildTokenClassificationGraph } from "../../../onnx/electra/token_classification.ts";
import { decodeSafetensors, encodeSafetensors } from "../../../onnx/safetensors.ts";
import type { Tensor } from "../../../onnx/tensor.ts";
import { main as exportMain } from "../../../cli/export.ts";
import { readHfFolder } from "../../../train/release/hf_folder.ts";

const tiny = new URL("../../../fixtures/electra/tiny/", import.meta.url);
const tinyDir = tiny.pathname;
const read = (rel: string) => Deno.readFileSync(new URL(rel, tiny));
const readJson = (rel: string) => JSON.parse(Deno.readTextFileSync(new URL(rel, tiny)));
const hfMain = () => ({
  config: readJson("config.json"),
  safetensors: read("model.safetensors"),
  source: "tiny",
});
const hfGen = () => ({
  config: readJson("generator/config.json"),
  safetensors: read("generator/model.safetensors"),
  source: "tiny/generator",
});

const shapesOf = (ws: Record<string, Tensor>) => new Map(Object.entries(ws).map(([k, t]) => [k, t.dims]));

Deno.test("importHf() → exportHf() reproduces the HF safetensors and config byte for byte", () => {
  const { model, warnings } = importHf(hfMain(), hfGen());
  assert.deepEqual(warnings, []);
  assert.equal(model.kind, "pretraining");
  // Through our own folder format too: encode, decode, export.
  const ours = decodeModelWeights(
    JSON.parse(pythonJson(readJson("config.json"))),
    encodeModelWeights(model),
    readJson("generator/config.json"),
  );
  const out = exportHf(ours);
  assert.deepEqual(out.main.safetensors, read("model.safetensors"));
  assert.deepEqual(out.generator!.safetensors, read("generator/model.safetensors"));
  assert.equal(out.main.configJson, new TextDecoder().decode(read("config.json")));
  assert.equal(out.generator!.configJson, new TextDecoder().decode(read("generator/config.json")));
});

Deno.test("imported weights are in graph layout with exactly the pretraining graph's names and shapes", () => {
  const { model } = importHf(hfMain(), hfGen());
  const hfDisc = decodeSafetensors(read("model.safetensors")).tensors;
  // A Linear weight arrives transposed: HF (out, in) → graph (in, out).
  const name = "electra.encoder.layer.1.intermediate.dense.weight";
  assert.deepEqual(hfDisc[name].dims, [48, 32]);
  assert.deepEqual(model.weights[name].dims, [32, 48]);
  assert.equal(model.weights[name].data[1 * 48 + 5], hfDisc[name].data[5 * 32 + 1]);
  // The joint graph asks for precisely the imported tensors.
  const used = new Set<string>();
  const g = buildPretrainingGraph({
    discriminator: model.config,
    generator: model.generator,
    params: fromWeights(model.weights, { used, source: "tiny" }),
  });
  assert.deepEqual([...g.parameters].sort(), Object.keys(model.weights).sort());
  assert.equal(used.size, Object.keys(model.weights).length);
  assert.ok(g.parameters.has("generator.electra.embeddings_project.weight"));
  assert.ok(g.parameters.has("generator.generator_lm_head.bias"));
  assert.ok(
    !g.parameters.has("generator.electra.embeddings.word_embeddings.weight"),
    "embeddings are shared",
  );
});

Deno.test("graph parameter names and shapes are HF's for every architecture", () => {
  const config = withLabels(
    electraConfig({
      vocabSize: 30,
      embeddingSize: 8,
      hiddenSize: 16,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 24,
      maxPositionEmbeddings: 10,
    }),
    ["O", "B-PS", "I-PS"],
  );
  const tagger = buildTokenClassificationGraph({ config });
  const weights = Object.fromEntries([...tagger.parameters].map((n) => [n, tagger.initializers.get(n)!]));
  assert.deepEqual(
    shapesOf(swapLinearLayout(weights)),
    hfTensorShapes(config, "ElectraForTokenClassification"),
  );

  const gen = generatorConfig(config);
  const joint = buildPretrainingGraph({ discriminator: config, generator: gen });
  const jw = Object.fromEntries([...joint.parameters].map((n) => [n, joint.initializers.get(n)!]));
  const { discriminator, generator } = splitPretraining(jw);
  assert.deepEqual(shapesOf(discriminator), hfTensorShapes(config, "ElectraForPreTraining"));
  assert.deepEqual(shapesOf(generator), hfTensorShapes(gen, "ElectraForMaskedLM"));
  // ELECTRA-small's generator: hidden 64, one head, FFN 256.
  const small = generatorConfig(electraConfig());
  assert.deepEqual([small.hiddenSize, small.numAttentionHeads, small.intermediateSize, small.embeddingSize], [
    64,
    1,
    256,
    128,
  ]);
});

Deno.test("a pretrained discriminator initialises a tagger; the new classifier is drawn fresh", () => {
  const { model } = importHf(hfMain());
  assert.equal(model.kind, "discriminator");
  const config = withLabels(model.config, ["O", "B-LC", "I-LC"]);
  const g = buildTokenClassificationGraph({
    config,
    params: fromWeights(model.weights, { fallback: initParams({ seed: 1 }) }),
  });
  assert.equal(
    g.initializers.get("electra.encoder.layer.0.attention.self.query.weight"),
    model.weights["electra.encoder.layer.0.attention.self.query.weight"],
  );
  assert.deepEqual(g.initializers.get("classifier.weight")!.dims, [32, 3]);
});

Deno.test("malformed or mismatched checkpoints fail with the tensor's name", async (t) => {
  const config = configFromHf(readJson("config.json"));
  const good = decodeSafetensors(read("model.safetensors")).tensors;
  const withOne = (name: string, tensor?: Tensor) => {
    const ws = { ...good };
    if (tensor) ws[name] = tensor;
    else delete ws[name];
    return {
      config: readJson("config.json"),
      safetensors: encodeSafetensors(ws, { format: "pt" }),
      source: "bad",
    };
  };
  await t.step("wrong shape", () => {
    assert.throws(
      () =>
        importHf(
          withOne("electra.encoder.layer.1.output.dense.weight", {
            dtype: "float32",
            dims: [48, 32],
            data: new Float32Array(48 * 32),
          }),
        ),
      /Tensor "electra\.encoder\.layer\.1\.output\.dense\.weight" in "bad\/model\.safetensors" has shape \[48, 32\], but config\.json implies \[32, 48\]/,
    );
  });
  await t.step("missing tensor", () => {
    assert.throws(
      () => importHf(withOne("electra.embeddings.LayerNorm.bias")),
      /Missing tensor "electra\.embeddings\.LayerNorm\.bias" in "bad\/model\.safetensors"/,
    );
  });
  await t.step("non-float dtype", () => {
    assert.throws(
      () =>
        importHf(
          withOne("electra.embeddings.LayerNorm.bias", {
            dtype: "int32",
            dims: [16],
            data: new Int32Array(16),
          }),
        ),
      /Tensor "electra\.embeddings\.LayerNorm\.bias" .* has dtype int32/,
    );
  });
  await t.step("unknown safetensors dtype", () => {
    const bytes = encodeSafetensors({
      "electra.embeddings.LayerNorm.bias": { dtype: "float32", dims: [4], data: new Float32Array(4) },
    });
    const text = new TextDecoder().decode(bytes).replace('"F32"', '"U16"'); // valid safetensors, not one we read
    assert.throws(
      () =>
        importHf({
          config: readJson("config.json"),
          safetensors: new TextEncoder().encode(text),
          source: "bad",
        }),
      /tensor "electra\.embeddings\.LayerNorm\.bias" of "bad\/model\.safetensors": unsupported dtype "U16"/,
    );
  });
  await t.step("unexpected tensor", () => {
    assert.throws(
      () =>
        importHf(
          withOne("electra.encoder.layer.7.output.dense.bias", good["electra.embeddings.LayerNorm.bias"]),
        ),
      /Unexpected tensor "electra\.encoder\.layer\.7\.output\.dense\.bias"/,
    );
  });
  await t.step("checkHfTensors on a config that does not match", () => {
    const wider = { ...config, intermediateSize: 64 };
    assert.throws(
      () => checkHfTensors(good, wider, "ElectraForPreTraining"),
      /Tensor "electra\.encoder\.layer\.0\.intermediate\.dense\.(weight|bias)".*config\.json implies \[64/,
    );
  });
  await t.step("our folder format refuses an HF file", () => {
    assert.throws(
      () => decodeModelWeights(readJson("config.json"), read("model.safetensors")),
      /not a NERSOTA model file.*--from-hf/,
    );
  });
});

Deno.test("config.json: unknown keys are rejected by name, HF extras are kept", () => {
  const json = { ...readJson("config.json"), hidden_szie: 32 };
  assert.throws(() => configFromHf(json, "x/config.json"), /"x\/config\.json": unknown key "hidden_szie"/);
  const kept = configFromHf({
    ...readJson("config.json"),
    summary_type: "first",
    id2label: { "0": "O", "10": "B-X", "2": "I" },
  });
  assert.equal(kept.extras.summary_type, "first");
  const text = configToJson(kept);
  assert.ok(
    text.indexOf('"10"') < text.indexOf('"2"'),
    "id2label keys sorted as strings, as Python writes them",
  );
  assert.throws(() => configFromHf({ model_type: "bert" }), /model_type is "bert"/);
  assert.throws(
    () => configFromHf({ hidden_act: "relu" }),
    /hidden_act must be "gelu" \(.*no other is supported\), got "relu"/,
  );
  assert.throws(
    () => configFromHf({ hidden_size: 30, num_attention_heads: 4 }),
    /hidden_size 30 is not a multiple of num_attention_heads 4/,
  );
});

Deno.test("deno task export: HF → ours → HF round trip on disk; .bin pickles refused", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const ours = join(tmp, "ours"), back = join(tmp, "back");
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(await exportMain(["--from-hf", tinyDir, "--out", ours]), 0);
      assert.equal(await exportMain(["--to-hf", ours, "--out", back]), 0);
    } finally {
      console.log = log;
    }
    for (
      const f of [
        "model.safetensors",
        "config.json",
        "vocab.txt",
        "generator/model.safetensors",
        "generator/config.json",
      ]
    ) {
      assert.deepEqual(await Deno.readFile(join(back, f)), read(f), f);
    }
    for (const f of ["tokenizer_config.json", "special_tokens_map.json", "generator/vocab.txt"]) {
      assert.ok((await Deno.stat(join(back, f))).isFile, f);
    }
    assert.ok((await Deno.stat(join(ours, "generator_config.json"))).isFile);

    const pickled = join(tmp, "pickled");
    await Deno.mkdir(pickled);
    await Deno.writeFile(join(pickled, "pytorch_model.bin"), new Uint8Array([0x80, 2]));
    await Deno.writeTextFile(join(pickled, "config.json"), "{}");
    await assert.rejects(
      readHfFolder(pickled),
      /pytorch_model\.bin but no model\.safetensors.*save_pretrained\(OUT, safe_serialization=True\)/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("narrowToFloat16() rounds to nearest even and widenFloat16() restores exactly; our folder reads float16 as float32", () => {
  // Hand-computed binary16 values: 0.1 → 0x2e66 = 0.0999755859375; 65519 rounds down to the largest half 65504,
  // 65520 is the tie that overflows to Infinity; 2^-25 is the tie between 0 and the smallest subnormal (even: 0).
  const x = Float32Array.from([1, 0.1, -2.5, 65519, 65520, 2 ** -25, 3 * 2 ** -25]);
  const half = narrowToFloat16({ t: { dtype: "float32", dims: [7], data: x } }).t;
  assert.equal(half.dtype, "float16");
  assert.deepEqual([...half.data as Uint16Array], [0x3c00, 0x2e66, 0xc100, 0x7bff, 0x7c00, 0, 2]);
  const back = widenFloat16({ t: half, ids: { dtype: "int32", dims: [1], data: Int32Array.from([7]) } });
  assert.deepEqual([...back.t.data as Float32Array], [
    1,
    0.0999755859375,
    -2.5,
    65504,
    Infinity,
    0,
    2 ** -23,
  ]);
  assert.equal(back.ids.dtype, "int32");

  const { model } = importHf(hfMain());
  const bytes = encodeModelWeights({ ...model, weights: narrowToFloat16(model.weights) });
  assert.ok(bytes.length < encodeModelWeights(model).length * 0.6);
  const read = decodeModelWeights(JSON.parse(configToJson(model.config)), bytes);
  assert.equal(read.kind, "discriminator");
  for (const [n, t] of Object.entries(model.weights)) {
    assert.equal(read.weights[n].dtype, "float32", n);
    const want = Float32Array.from(t.data as Float32Array, (v) => float16Value(float16Bits(v)));
    assert.deepEqual(read.weights[n].data, want, n);
  }
});
