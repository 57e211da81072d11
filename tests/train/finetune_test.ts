/**
 * Fine-tuning end to end on the fixture (fixtures/finetune: 24 made-up sentences, a character-level
 * vocabulary, a 2-layer 64-wide ELECTRA from random init): it overfits to a stated F1, its output folder
 * loads in the NER pipeline with the same predictions as the evaluator, a killed run resumes to the very
 * same parameters, and the CRF variant trains and decodes with Viterbi.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { readDataset } from "../../train/datasets/mod.ts";
import { evaluateModelFolder } from "../../train/evaluate.ts";
import { finetune, type FinetuneOptions } from "../../train/finetune.ts";
import { FINETUNE_DEFAULTS, type FinetuneConfig } from "../../train/finetune_config.ts";
import { readMetrics } from "../../train/metrics_log.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/finetune/${name}`, import.meta.url));

function options(out: string, overrides: Partial<FinetuneConfig>, extra: Partial<FinetuneOptions> = {}): FinetuneOptions {
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
    console.log(`overfit: best micro F1 ${r.best!.report.micro.f1.toFixed(3)} at step ${r.best!.step}/${r.step}, ${seconds.toFixed(1)} s, ${Math.round(r.tokensPerSecond)} tok/s`);
    assert.equal(r.step, 120); // 24 windows / 8 = 3 steps per epoch × 40
    assert.ok(r.best!.report.micro.f1 >= 0.9, `micro F1 ${r.best!.report.micro.f1}`);
    assert.ok(seconds < 40, `${seconds} s`);
    for (const f of ["config.json", "vocab.txt", "inference.onnx", "nersota.json", "model.safetensors", "report.json", "report.txt", "run.json", "dev_errors.jsonl"]) {
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
    const steps = (await readMetrics(join(b, "metrics.jsonl"))).filter((m) => m.type === "eval").map((m) => m.step);
    assert.deepEqual(steps, [4, 8, 12]);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
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
