/**
 * A model folder that ships only its inference graph (as models/default/ does, with int8-stored weights) is
 * still a starting point: its weights are read out of the graph for `finetune --model` and
 * `export --to-hf`; a folder that has nothing usable gets an error naming it and what it lacks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { graphWeights } from "../../../onnx/graph_weights.ts";
import { decodeModel, encodeModel } from "../../../onnx/proto.ts";
import { float16Value, float16Weights, int8Compute, int8Weights } from "../../../onnx/quantize.ts";
import { openSession } from "../../../onnx/runtime.ts";
import { tensor } from "../../../onnx/tensor.ts";
import { inferenceFolderFiles } from "../../../infer/model_folder_files.ts";
import { readWeightsFolder } from "../../../train/release/weights_folder.ts";
import { finetune } from "../../../train/finetune/finetune.ts";
import { loadStartModel } from "../../../train/finetune/start_model.ts";
import { FINETUNE_DEFAULTS } from "../../../train/finetune/finetune_config.ts";
import { main as exportMain } from "../../../cli/export.ts";
import { readDataset, writeKlue } from "../../../train/ner_data/datasets/mod.ts";

const TINY = fileURLToPath(new URL("../../../fixtures/ner-tiny/", import.meta.url));
const FT = (name: string) => fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));
const tinyGraph = () => decodeModel(Deno.readFileSync(join(TINY, "inference.onnx")));

/** A copy of ner-tiny whose inference.onnx is `graph` (no model.safetensors, as models/default/ ships). */
async function inferenceOnlyFolder(dir: string, graph: Uint8Array): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const f of ["config.json", "vocab.txt", "nersota.json"]) {
    await Deno.copyFile(join(TINY, f), join(dir, f));
  }
  await Deno.writeFile(join(dir, "inference.onnx"), graph);
}

async function logits(graph: Uint8Array, ids: number[]): Promise<Float32Array> {
  const s = await openSession(graph, { provider: "cpu" });
  const shape = [1, ids.length];
  const r = await s.run({
    input_ids: tensor("int64", shape, ids),
    attention_mask: tensor("int64", shape, ids.map(() => 1)),
    token_type_ids: tensor("int64", shape, ids.map(() => 0)),
  });
  await s.release();
  return r.logits.data as Float32Array;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

Deno.test("graphWeights() reads float, int8 (q × scale), int8-compute and float16 storage back out of a graph", () => {
  const plain = graphWeights(tinyGraph());
  const names = Object.keys(plain.tensors).filter((n) => !n.startsWith("const_"));
  assert.ok(
    names.includes("electra.embeddings.word_embeddings.weight") && names.includes("classifier.weight"),
  );
  assert.deepEqual([plain.int8, plain.float16], [[], []]);
  const word = "electra.embeddings.word_embeddings.weight",
    dense = "electra.encoder.layer.0.intermediate.dense.weight";
  for (
    const [how, model] of [["int8", int8Weights(tinyGraph(), { minElements: 1 })], [
      "int8-compute",
      int8Compute(tinyGraph(), { minElements: 1 }),
    ]] as const
  ) {
    const got = graphWeights(model, how);
    assert.ok(got.int8.includes(word) && got.int8.includes(dense), how);
    for (const n of [word, dense]) {
      const a = plain.tensors[n], b = got.tensors[n];
      assert.deepEqual(b.dims, a.dims, n);
      // Per-channel symmetric int8: every value within half a step of the channel's largest magnitude / qmax.
      const [rows, cols] = a.dims;
      const perRow = n === word;
      const qmax = how === "int8" || perRow ? 127 : 63;
      for (let ch = 0; ch < (perRow ? rows : cols); ch++) {
        let big = 0, err = 0;
        for (let k = 0; k < (perRow ? cols : rows); k++) {
          const i = perRow ? ch * cols + k : k * cols + ch;
          big = Math.max(big, Math.abs(a.data[i] as number));
          err = Math.max(err, Math.abs((a.data[i] as number) - (b.data[i] as number)));
        }
        assert.ok(
          err <= big / qmax / 2 * 1.0001 + 1e-9,
          `${how} ${n} channel ${ch}: ${err} vs step ${big / qmax}`,
        );
      }
    }
  }
  const half = graphWeights(float16Weights(tinyGraph(), { minElements: 1 }));
  assert.ok(half.float16.includes(dense));
  const a = plain.tensors[dense].data as Float32Array, b = half.tensors[dense].data as Float32Array;
  for (let i = 0; i < a.length; i += 17) {
    const f = new Float32Array([b[i]])[0];
    assert.equal(f, b[i]);
    assert.ok(Math.abs(a[i] - b[i]) <= Math.abs(a[i]) * 2 ** -11 + 2 ** -24, `${a[i]} → ${b[i]}`);
  }
  assert.equal(float16Value(0x3c00), 1);
});

Deno.test("an int8-stored inference folder: weights dequantised, rebuilt graph computes the same logits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-wf-" });
  try {
    const stored = encodeModel(int8Weights(tinyGraph(), { minElements: 1 }));
    await inferenceOnlyFolder(dir, stored);
    const { model, vocab, notice } = await readWeightsFolder(dir);
    assert.equal(model.kind, "token-classification");
    assert.equal(vocab, await Deno.readTextFile(join(TINY, "vocab.txt")));
    assert.match(
      notice!,
      /has no model\.safetensors: weights read from inference\.onnx; \d+ of its \d+ tensors are stored as int8 .*dequantised/,
    );
    const rebuilt = inferenceFolderFiles({ config: model.config, weights: model.weights, vocab: vocab! });
    const ids = [2, 10, 40, 7, 300, 3];
    assert.ok(
      maxDiff(await logits(rebuilt["inference.onnx"] as Uint8Array, ids), await logits(stored, ids)) < 1e-4,
    );
    const start = await loadStartModel({ kind: "folder", dir });
    assert.equal(start.notice, notice);
    // Integer-like keys enumerate in numeric order, so these are the labels by id.
    assert.deepEqual(
      start.labels,
      Object.values(JSON.parse(Deno.readTextFileSync(join(TINY, "config.json"))).id2label),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("folders that cannot be used: the error names the folder and what it lacks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-wf-" });
  try {
    await assert.rejects(readWeightsFolder(join(dir, "nope")), /Model folder ".*nope" does not exist/);
    await Deno.mkdir(join(dir, "empty"));
    await assert.rejects(
      readWeightsFolder(join(dir, "empty")),
      /"[^"]*empty" has no model\.safetensors and no inference graph \(nersota\.json \+ inference\.onnx\).*It is empty/,
    );
    await Deno.mkdir(join(dir, "pickle"));
    await Deno.writeTextFile(join(dir, "pickle", "config.json"), "{}");
    await Deno.writeFile(join(dir, "pickle", "pytorch_model.bin"), new Uint8Array([0x80]));
    await assert.rejects(
      readWeightsFolder(join(dir, "pickle")),
      /It has pytorch_model\.bin: PyTorch pickles/,
    );
    // An inference graph that lacks a weight (here: the classifier bias turned into a graph input).
    const g = tinyGraph();
    g.graph!.initializer = g.graph!.initializer!.filter((t) => t.name !== "classifier.bias");
    g.graph!.input = [...g.graph!.input!, { name: "classifier.bias", type: { tensorType: { elemType: 1 } } }];
    await inferenceOnlyFolder(join(dir, "partial"), encodeModel(g));
    await assert.rejects(
      readWeightsFolder(join(dir, "partial")),
      /inference\.onnx" lacks 1 of the model's \d+ weights \(classifier\.bias\), so it cannot stand in for the missing model\.safetensors/,
    );
    await inferenceOnlyFolder(join(dir, "novocab"), Deno.readFileSync(join(TINY, "inference.onnx")));
    await Deno.remove(join(dir, "novocab", "vocab.txt"));
    await assert.rejects(
      readWeightsFolder(join(dir, "novocab")),
      /has neither vocab\.txt nor tokenizer\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("finetune --model on a folder with only an int8 inference graph starts from its weights", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-wf-" });
  const config = {
    ...FINETUNE_DEFAULTS,
    batchSize: 8,
    learningRate: 2e-3,
    maxSeqLength: 64,
    patience: 0,
    types: [],
  };
  const data = {
    train: [{ path: FT("train.tsv"), format: "klue" as const }],
    dev: [{ path: FT("train.tsv"), format: "klue" as const }],
    threads: 1,
    quiet: true,
  };
  try {
    // A trained model, then shipped as models/default/ is: int8-stored inference.onnx, no model.safetensors.
    const trained = await finetune({
      ...data,
      config: { ...config, epochs: 20 },
      model: { kind: "random", config: FT("config.json"), vocab: FT("vocab.txt") },
      out: join(dir, "trained"),
    });
    const shipped = join(dir, "shipped");
    await Deno.mkdir(shipped);
    for (const f of ["config.json", "vocab.txt"]) {
      await Deno.copyFile(join(dir, "trained", f), join(shipped, f));
    }
    // The graph is replaced by hand below, so the trained folder's checksums no longer hold (quantize
    // writes new ones): this copy has none.
    const { sha256: _, ...meta } = JSON.parse(await Deno.readTextFile(join(dir, "trained", "nersota.json")));
    await Deno.writeTextFile(join(shipped, "nersota.json"), JSON.stringify(meta, null, 2) + "\n");
    await Deno.writeFile(
      join(shipped, "inference.onnx"),
      encodeModel(int8Weights(decodeModel(await Deno.readFile(join(dir, "trained", "inference.onnx"))))),
    );
    // One more epoch at a tiny learning rate: the first evaluation shows where each start stands. The user's
    // data has PS entities only: the model's other types and its classifier are kept.
    const oneEpoch = { ...config, epochs: 1, learningRate: 1e-6 };
    const { examples } = await readDataset(FT("train.tsv"), "klue");
    const psOnly = join(dir, "ps-only.tsv");
    await Deno.writeTextFile(
      psOnly,
      writeKlue(examples.map((e) => ({ ...e, entities: e.entities.filter((x) => x.type === "PS") }))),
    );
    const fromShipped = await finetune({
      ...data,
      train: [{ path: psOnly, format: "klue" }],
      config: oneEpoch,
      model: { kind: "folder", dir: shipped },
      out: join(dir, "a"),
    });
    const labelsOf = (d: string) => JSON.parse(Deno.readTextFileSync(join(d, "config.json"))).id2label;
    assert.deepEqual(labelsOf(join(dir, "a")), labelsOf(shipped));
    const fromRandom = await finetune({
      ...data,
      config: oneEpoch,
      model: { kind: "random", config: FT("config.json"), vocab: FT("vocab.txt") },
      out: join(dir, "b"),
    });
    const f1 = (r: typeof trained) => r.best!.report.micro.f1;
    console.log(
      `micro F1: trained ${f1(trained)}, from shipped ${f1(fromShipped)}, from random ${f1(fromRandom)}`,
    );
    assert.ok(f1(fromShipped) >= 0.9 * f1(trained), `${f1(fromShipped)} vs ${f1(trained)}`);
    assert.ok(f1(fromShipped) > f1(fromRandom) + 0.2, `${f1(fromShipped)} vs random ${f1(fromRandom)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export --to-hf of an inference-only folder writes what transformers.js and Optimum load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-wf-" });
  const quiet = console.log, err = console.error;
  const notices: string[] = [];
  try {
    const stored = encodeModel(int8Weights(tinyGraph(), { minElements: 1 }));
    await inferenceOnlyFolder(join(dir, "m"), stored);
    console.log = () => {};
    console.error = (m: string) => notices.push(m);
    assert.equal(await exportMain(["--to-hf", join(dir, "m"), "--out", join(dir, "hf")]), 0);
    assert.ok(
      notices.some((n) => /notice: .* weights read from inference\.onnx.*dequantised/.test(n)),
      notices.join("\n"),
    );
    for (
      const f of [
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "onnx/model.onnx",
        "onnx/model_quantized.onnx",
      ]
    ) {
      assert.ok((await Deno.stat(join(dir, "hf", f))).size > 0, f);
    }
    const cfg = JSON.parse(await Deno.readTextFile(join(dir, "hf", "config.json")));
    assert.deepEqual(cfg.architectures, ["ElectraForTokenClassification"]);
    for (const [id, label] of Object.entries(cfg.id2label)) {
      assert.equal(cfg.label2id[label as string], Number(id));
    }
    const ids = [2, 10, 40, 7, 300, 3];
    const want = await logits(stored, ids);
    assert.ok(
      maxDiff(await logits(await Deno.readFile(join(dir, "hf", "onnx/model.onnx")), ids), want) < 1e-4,
    );
    // int8 computation changes the logits by its rounding, not more than a fraction of their spread.
    const q = await logits(await Deno.readFile(join(dir, "hf", "onnx/model_quantized.onnx")), ids);
    const spread = Math.max(...want) - Math.min(...want);
    assert.ok(maxDiff(q, want) < 0.2 * spread, `${maxDiff(q, want)} vs spread ${spread}`);

    // … and --from-hf of that token classifier gives a folder deno task ner runs at once (here from a folder
    // with tokenizer.json but no vocab.txt, as some Hub folders are).
    const vocab = await Deno.readTextFile(join(dir, "hf", "vocab.txt"));
    await Deno.remove(join(dir, "hf", "vocab.txt"));
    assert.equal(await exportMain(["--from-hf", join(dir, "hf"), "--out", join(dir, "back")]), 0);
    assert.equal(await Deno.readTextFile(join(dir, "back", "vocab.txt")), vocab);
    const meta = JSON.parse(await Deno.readTextFile(join(dir, "back", "nersota.json")));
    assert.deepEqual([meta.labelMode, meta.decoding, meta.scheme], ["all-subwords", "argmax", "BIO"]);
    assert.ok(
      maxDiff(await logits(await Deno.readFile(join(dir, "back", "inference.onnx")), ids), want) < 1e-4,
    );
    const { loadRecognizer } = await import("../../../infer/pipeline.ts");
    const ner = await loadRecognizer(join(dir, "back"), { provider: "cpu" });
    const text = "어제 강남역에서 민수랑 만났어";
    for (const e of await ner.recognize(text)) assert.equal(text.slice(e.start, e.end), e.text);
    await ner.release();
  } finally {
    console.log = quiet;
    console.error = err;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export --from-hf of a pretrained discriminator gives a folder finetune --model takes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-wf-" });
  const log = console.log;
  try {
    console.log = () => {};
    const tiny = fileURLToPath(new URL("../../../fixtures/electra/tiny/", import.meta.url));
    assert.equal(await exportMain(["--from-hf", tiny, "--out", join(dir, "ours")]), 0);
    console.log = log;
    const start = await loadStartModel({ kind: "folder", dir: join(dir, "ours") });
    assert.equal(start.kind, "pretraining");
    assert.ok(
      Object.keys(start.weights).every((n) => n.startsWith("electra.")),
      "encoder only, no generator",
    );
    const r = await finetune({
      config: {
        ...FINETUNE_DEFAULTS,
        batchSize: 8,
        maxSeqLength: 16,
        epochs: 1,
        maxSteps: 2,
        patience: 0,
        types: [],
      },
      model: { kind: "folder", dir: join(dir, "ours") },
      train: [{ path: FT("train.tsv"), format: "klue" }],
      out: join(dir, "tagger"),
      threads: 1,
      quiet: true,
    });
    assert.equal(r.step, 2);
    const { loadRecognizer } = await import("../../../infer/pipeline.ts");
    const ner = await loadRecognizer(join(dir, "tagger"), { provider: "cpu" });
    assert.equal(ner.labels[0], "O");
    await ner.release();
  } finally {
    console.log = log;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Hugging Face folder's config.json: an error about a key names FILE:LINE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-wf-" });
  try {
    const hf = fileURLToPath(new URL("../../../fixtures/electra/tiny/", import.meta.url));
    await Deno.copyFile(join(hf, "model.safetensors"), join(dir, "model.safetensors"));
    const text = (await Deno.readTextFile(join(hf, "config.json"))).replace(
      '"hidden_act": "gelu"',
      '"hidden_act": "swish"',
    );
    await Deno.writeTextFile(join(dir, "config.json"), text);
    const line = text.split("\n").findIndex((l) => l.includes('"hidden_act"')) + 1;
    await assert.rejects(readWeightsFolder(dir), {
      message: new RegExp(`^${join(dir, "config.json")}:${line}: hidden_act must be .*, got "swish"$`),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
