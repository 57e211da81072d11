/**
 * Fine-tuning end to end on the fixture (fixtures/finetune: 24 made-up sentences, a character-level
 * vocabulary, a 2-layer 64-wide ELECTRA from random init): it overfits to a stated F1, its output folder
 * loads in the NER pipeline with the same predictions as the evaluator, a killed run resumes to the very
 * same parameters, and the CRF variant trains and decodes with Viterbi.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRecognizer } from "../../../infer/pipeline.ts";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";
import { evaluateModelFolder } from "../../../train/evaluate/evaluate.ts";
import { buildTrainingArtifacts } from "../../../onnx/artifacts.ts";
import { initialState } from "../../../onnx/checkpoint.ts";
import { TINY_ELECTRA } from "../../onnx/electra/tiny_config.ts";
import { decodeModel } from "../../../onnx/proto.ts";
import { adamw } from "../../../onnx/optimizer.ts";
import { tensor } from "../../../onnx/tensor.ts";
import { TrainRunner } from "../../../onnx/trainer.ts";
import { finetune, type FinetuneOptions } from "../../../train/finetune/finetune.ts";
import { taggerForward } from "../../../train/finetune/tagger.ts";
import { FINETUNE_DEFAULTS, type FinetuneConfig } from "../../../train/finetune/finetune_config.ts";
import { readMetrics } from "../../../train/run/metrics_log.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));

function options(
  out: string,
  overrides: Partial<FinetuneConfig>,
  extra: Partial<FinetuneOptions> = {},
): FinetuneOptions {
  return {
    config: {
      ...FINETUNE_DEFAULTS,
      batchSize: 8,
      learningRate: 2e-3,
      maxSeqLength: 64,
      epochs: 40,
      patience: 0,
      types: [],
      ...overrides,
    },
    model: { kind: "random", config: fixture("config.json"), vocab: fixture("vocab.txt") },
    train: [{ path: fixture("train.tsv"), format: "klue" }],
    dev: [{ path: fixture("train.tsv"), format: "klue" }],
    out,
    threads: 1,
    quiet: true,
    ...extra,
  };
}

Deno.test("finetune() overfits 24 fixture sentences to ≥ 0.9 micro F1 within 120 steps; the folder serves the pipeline", async () => {
  const out = await Deno.makeTempDir({ prefix: "nersota-ft-" });
  try {
    const t0 = performance.now();
    const r = await finetune(options(out, {}));
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `overfit: best micro F1 ${r.best!.report.micro.f1.toFixed(3)} at step ${r.best!.step}/${r.step}, ${
        seconds.toFixed(1)
      } s, ${Math.round(r.tokensPerSecond)} tok/s`,
    );
    assert.equal(r.step, 120); // 24 windows / 8 = 3 steps per epoch × 40
    assert.ok(r.best!.report.micro.f1 >= 0.9, `micro F1 ${r.best!.report.micro.f1}`);
    assert.ok(seconds < 40, `${seconds} s`);
    for (
      const f of [
        "config.json",
        "vocab.txt",
        "inference.onnx",
        "nersota.json",
        "model.safetensors",
        "report.json",
        "report.txt",
        "run.json",
        "dev_errors.jsonl",
      ]
    ) {
      assert.ok((await Deno.stat(join(out, f))).isFile, f);
    }
    const metrics = await readMetrics(join(out, "metrics.jsonl"));
    assert.equal(metrics.filter((m) => m.type === "eval").length, 40); // one per epoch
    const report = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
    assert.equal(report.best.step, r.best!.step);
    assert.deepEqual(Object.keys(report.best.dev.subsets), ["nsmc", "wikitree"]);

    // The saved folder scores as the in-training evaluation did, and the pipeline predicts the same spans.
    const { examples } = await readDataset(fixture("train.tsv"), "klue");
    const ev = await evaluateModelFolder(out, examples, { threads: 1 });
    assert.ok(Math.abs(ev.report.micro.f1 - r.best!.report.micro.f1) < 1e-9);
    // The default decoding, written for the pipeline and used by the dev evaluation alike.
    assert.equal(JSON.parse(await Deno.readTextFile(join(out, "nersota.json"))).decoding, "bio-viterbi");
    assert.equal(ev.decoding, "bio-viterbi");
    const ner = await loadRecognizer(out, { threads: 1 });
    const viaPipeline = await ner.recognize(examples.map((e) => e.text));
    await ner.release();
    assert.deepEqual(
      viaPipeline.map((es) => es.map(({ type, start, end }) => ({ type, start, end }))),
      ev.predictions.map((es) => es.map(({ type, start, end }) => ({ type, start, end }))),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("finetune() resumed after a simulated kill reproduces the uninterrupted run's parameters exactly", async () => {
  const a = await Deno.makeTempDir({ prefix: "nersota-ft-a-" });
  const b = await Deno.makeTempDir({ prefix: "nersota-ft-b-" });
  try {
    // Dropout on (the fixture config's 0.1); 3 updates per epoch and an eval every 4: checkpoints at
    // epoch ends and evaluations (3, 4, 6, 8, 9, 12). Killed after 5: the resume starts from step 4.
    const cfg = { maxSteps: 12, evalEvery: 4 };
    const full = await finetune(options(a, cfg));
    const killed = await finetune(options(b, cfg, { stopAfter: 5 }));
    assert.equal(killed.finished, false);
    assert.equal(killed.step, 5);
    const resumed = await finetune(options(b, cfg, { resume: true }));
    assert.match(resumed.resumedFrom ?? "", /step-00000004\.safetensors$/);
    assert.equal(resumed.step, 12);
    assert.deepEqual(Object.keys(resumed.params).sort(), Object.keys(full.params).sort());
    for (const [n, t] of Object.entries(full.params)) {
      assert.deepEqual(resumed.params[n].data, t.data, `parameter ${n} differs after resume`);
    }
    // The metrics log tells one story: no lines from the abandoned step 5 twice.
    const steps = (await readMetrics(join(b, "metrics.jsonl"))).filter((m) => m.type === "eval").map((m) =>
      m.step
    );
    assert.deepEqual(steps, [4, 8, 12]);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("finetune() with stop_after_epochs ends at that epoch on the full schedule's learning rates and saves the folder", async () => {
  const [a, b, c] = await Promise.all(
    ["a", "b", "c"].map((x) => Deno.makeTempDir({ prefix: `nersota-ft-se-${x}-` })),
  );
  try {
    // 3 updates per epoch; no dev set, as when fitting on train + dev: the last update's weights are the folder.
    const noDev = { dev: [] };
    const stopped = await finetune(options(a, { epochs: 4, stopAfterEpochs: 2 }, noDev));
    assert.equal(stopped.finished, true);
    assert.equal(stopped.step, 6);
    assert.ok((await Deno.stat(join(a, "model.safetensors"))).isFile, "the fitted model folder is written");
    // The same 6 updates as the 4-epoch run cut after 6 (its schedule), not as a 2-epoch run (decayed to 0).
    const cut = await finetune(options(b, { epochs: 4 }, { ...noDev, stopAfter: 6 }));
    const short = await finetune(options(c, { epochs: 2 }, noDev));
    for (const [n, t] of Object.entries(cut.params)) {
      assert.deepEqual(stopped.params[n].data, t.data, `parameter ${n} differs from the cut 4-epoch run`);
    }
    const differs = Object.entries(short.params).some(([n, t]) =>
      t.data.some((v, i) => v !== stopped.params[n].data[i])
    );
    assert.ok(differs, "a 2-epoch schedule decays differently");
    const lrs = (await readMetrics(join(a, "metrics.jsonl"))).filter((m) => m.type === "train").map((m) =>
      m.lr
    );
    assert.ok(
      (lrs.at(-1) as number) > 0,
      "the learning rate at the stop is that of a 4-epoch schedule, not 0",
    );
  } finally {
    for (const d of [a, b, c]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("finetune() with --crf trains the CRF transitions and the folder decodes with Viterbi", async () => {
  const out = await Deno.makeTempDir({ prefix: "nersota-ft-crf-" });
  try {
    const r = await finetune(options(out, { crf: true, epochs: 30 }));
    console.log(`crf: best micro F1 ${r.best!.report.micro.f1.toFixed(3)} at step ${r.best!.step}`);
    assert.ok(r.best!.report.micro.f1 >= 0.9, `micro F1 ${r.best!.report.micro.f1}`);
    const meta = JSON.parse(await Deno.readTextFile(join(out, "nersota.json")));
    assert.equal(meta.crf, "crf.safetensors");
    const { examples } = await readDataset(fixture("train.tsv"), "klue");
    const ev = await evaluateModelFolder(out, examples, { threads: 1 });
    assert.equal(ev.crf, true);
    assert.ok(Math.abs(ev.report.micro.f1 - r.best!.report.micro.f1) < 1e-9);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("taggerForward() flatTokens and ORT's SkipLayerNorm/BiasGelu fusions off: the same train step", async () => {
  // The variants bench/ab_train.ts times: one AdamW step from the same weights must give the same loss,
  // gradient norm and parameters (float32; the 2-D form runs Gemm where the 3-D one runs MatMul + Add).
  const config = TINY_ELECTRA;
  const B = 2, T = 6, lr = 1e-3;
  const batch = {
    input_ids: tensor("int64", [B, T], [2, 7, 11, 3, 9, 39, 2, 5, 8, 3, 0, 0]),
    attention_mask: tensor("int64", [B, T], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
    token_type_ids: tensor("int64", [B, T], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
    labels: tensor("int64", [B, T], [-100, 1, 4, 0, 2, -100, -100, 3, 3, -100, -100, -100]),
  };
  const dir = await Deno.makeTempDir();
  const step = async (flatTokens: boolean, disabledOptimizers: string[] = []) => {
    const forward = taggerForward({ config, numLabels: 5, weights: {}, seed: 3, flatTokens });
    const art = buildTrainingArtifacts(forward, { optimizer: adamw() });
    const optimizedModelFilePath = join(dir, "optimized.onnx");
    const runner = await TrainRunner.open(art.trainStep, initialState(art.params), {
      threads: 1,
      disabledOptimizers,
      optimizedModelFilePath,
    });
    const ops: Record<string, number> = {};
    for (const n of decodeModel(await Deno.readFile(optimizedModelFilePath)).graph?.node ?? []) {
      ops[n.opType] = (ops[n.opType] ?? 0) + 1;
    }
    const stats = await runner.stepWithStats(batch, lr);
    const params = Object.fromEntries(
      Object.entries(runner.parameters()).map(([n, t]) => [n, Float32Array.from(t.data as Float32Array)]),
    );
    await runner.release();
    return { ...stats, params, ops };
  };
  try {
    const nofuse = ["SkipLayerNormFusion", "BiasGeluFusion"];
    const ref = await step(false);
    // In a train step ORT fuses neither (the backward also reads the GELU input and the residual sum); the
    // 2-D form turns every encoder dense layer into Gemm: embeddings_project + 6 per layer.
    assert.equal(ref.ops.SkipLayerNormalization, undefined);
    assert.equal(ref.ops.BiasGelu, undefined);
    assert.equal(ref.ops.Gemm, undefined);
    const flat = await step(true);
    assert.equal(flat.ops.Gemm, 1 + 6 * config.numHiddenLayers);
    const variants = { flat, nofuse: await step(false, nofuse), "flat+nofuse": await step(true, nofuse) };
    for (const [what, r] of Object.entries(variants)) {
      assert.ok(Math.abs(r.loss - ref.loss) <= 1e-6 * ref.loss, `${what}: loss ${r.loss} vs ${ref.loss}`);
      assert.ok(
        Math.abs(r.gradNorm - ref.gradNorm) <= 1e-5 * ref.gradNorm,
        `${what}: grad norm ${r.gradNorm} vs ${ref.gradNorm}`,
      );
      assert.deepEqual(Object.keys(r.params), Object.keys(ref.params));
      let worst = 0;
      for (const [n, a] of Object.entries(r.params)) {
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - ref.params[n][i]));
      }
      // An Adam step moves each weight by up to ≈ lr; the variants agree to a small fraction of one step
      // (measured: 1.7e-5 lr for the 2-D form, exactly 0 with the fusions off, which do not fire here anyway).
      assert.ok(worst <= 1e-3 * lr, `${what}: parameters differ by ${worst} after one step (lr ${lr})`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
