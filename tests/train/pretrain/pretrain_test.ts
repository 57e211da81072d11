import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import type { Tensor } from "../../../onnx/tensor.ts";
import { buildPretrainingData } from "../../../train/pretrain_data/build_data.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../../../onnx/checkpoint.ts";
import { checkpointName, listCheckpoints } from "../../../train/run/checkpoints.ts";
import { readMetrics } from "../../../train/run/metrics_log.ts";
import { loadStartModel } from "../../../train/finetune/start_model.ts";
import { pretrain, probeProvider } from "../../../train/pretrain/pretrain.ts";
import { rocAuc } from "../../../train/pretrain/pretrain_eval.ts";
import { main } from "../../../cli/pretrain.ts";
import {
  pretrainConfigFromJson,
  pretrainConfigToJson,
  pretrainLr,
  readPretrainConfig,
  type TrainConfig,
  withGenerator,
} from "../../../train/pretrain/pretrain_config.ts";

const fixture = (name: string) => fromFileUrl(new URL(`../../../fixtures/pretrain/${name}`, import.meta.url));
const TINY = fromFileUrl(new URL("../../../configs/tiny_config.json", import.meta.url));

/** Shards of the fixture corpus at sequence 32, built once per test file. */
let dataDir: Promise<string> | undefined;
function fixtureShards(): Promise<string> {
  dataDir ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "pretrain-data-" });
    await buildPretrainingData({
      corpus: [fixture("corpus.txt")],
      vocabText: await Deno.readTextFile(fixture("vocab.txt")),
      outDir: dir,
      maxSeqLength: 32,
      seed: 1,
    });
    return dir;
  })();
  return dataDir;
}

/** Training settings of a short run that checkpoints every `saveEvery` updates and keeps them all (no evaluation). */
function checkpointed(
  trainSteps: number,
  saveEvery: number,
  more: Partial<TrainConfig> = {},
): Partial<TrainConfig> {
  return { trainSteps, saveEvery, evalEvery: 0, keepCheckpoints: 5, warmupSteps: 2, ...more };
}

async function tinyConfig(train: Partial<TrainConfig> = {}, dropout?: number) {
  const c = await readPretrainConfig(TINY);
  const model = dropout === undefined
    ? c.model
    : { ...c.model, hiddenDropoutProb: dropout, attentionProbsDropoutProb: dropout };
  return withGenerator(model, { ...c.train, ...train });
}

function sameParams(a: Record<string, Tensor>, b: Record<string, Tensor>): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    const x = a[k].data as Float32Array, y = b[k].data as Float32Array;
    assert.equal(x.length, y.length, k);
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) assert.fail(`"${k}"[${i}]: ${x[i]} !== ${y[i]}`);
    }
  }
}

Deno.test("pretrainLr() warms up linearly from 0 and decays linearly to 0, as ELECTRA", () => {
  const c = { learningRate: 5e-4, warmupSteps: 10000, trainSteps: 1_000_000, lrDecayPower: 1 };
  assert.equal(pretrainLr(0, c), 0);
  assert.ok(Math.abs(pretrainLr(5000, c) - 5e-4 * 0.5 * (1 - 5000 / 1e6)) < 1e-15);
  assert.ok(Math.abs(pretrainLr(10000, c) - 5e-4 * 0.99) < 1e-15);
  assert.ok(Math.abs(pretrainLr(500_000, c) - 2.5e-4) < 1e-15);
  assert.equal(pretrainLr(1_000_000, c), 0);
  assert.equal(pretrainLr(2_000_000, c), 0);
  assert.ok(Math.abs(pretrainLr(500_000, { ...c, lrDecayPower: 2 }) - 1.25e-4) < 1e-15);
});

Deno.test("pretrain config files parse, round-trip and reject unknown keys", async () => {
  const small = await readPretrainConfig(
    fromFileUrl(new URL("../../../configs/small_config.json", import.meta.url)),
  );
  assert.equal(small.model.hiddenSize, 256);
  assert.equal(small.model.numHiddenLayers, 12);
  assert.equal(small.generator.hiddenSize, 64); // 0.25 × 256
  assert.equal(small.train.learningRate, 5e-4);
  assert.equal(small.train.adamEpsilon, 1e-6);
  const again = pretrainConfigFromJson(pretrainConfigToJson(small));
  assert.deepEqual(again.train, small.train);
  assert.equal(again.model.vocabSize, small.model.vocabSize);
  const json = pretrainConfigToJson(small) as { model: object; train: Record<string, unknown> };
  assert.throws(
    () => pretrainConfigFromJson({ ...json, train: { ...json.train, learing_rate: 1 } }, "x.json"),
    /"x\.json": unknown key "train\.learing_rate" \(did you mean "train\.learning_rate"\?\)/,
  );
  assert.throws(
    () => pretrainConfigFromJson({ ...json, optimizer: {} }, "x.json"),
    /unknown top-level key "optimizer"/,
  );
  assert.throws(
    () => pretrainConfigFromJson({ ...json, train: { ...json.train, mask_prob: 2 } }, "x.json"),
    /"x\.json": train\.mask_prob must be a number in \(0, 1\), got 2/,
  );
  assert.throws(
    () => pretrainConfigFromJson({ ...json, train: { ...json.train, max_seq_length: 1024 } }, "x.json"),
    /exceeds model\.max_position_embeddings/,
  );
});

Deno.test("rocAuc() matches hand-computed values, ties counted half", () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(rocAuc([1, 2, 3], [0, 1, 1]), 1);
  assert.equal(rocAuc([3, 2, 1], [0, 1, 1]), 0);
  assert.equal(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.ok(Number.isNaN(rocAuc([1, 2], [1, 1])));
});

Deno.test("pretrain() on the fixture corpus: discriminator loss falls by ≥ 1.8× and its AUC rises above 0.6", async () => {
  const data = await fixtureShards();
  const out = await Deno.makeTempDir({ prefix: "pretrain-run-" });
  const config = await tinyConfig({ saveEvery: 0 });
  const r = await pretrain({ config, data, out, threads: 1, quiet: true });
  assert.ok(r.finished);
  assert.equal(r.step, 300);
  const evals = (await readMetrics(join(out, "metrics.jsonl"))).filter((m) => m.type === "eval");
  const first = evals[0], last = evals.at(-1)!;
  assert.equal(first.step, 0);
  assert.equal(last.step, 300);
  const d0 = first.discriminator_loss as number, d1 = last.discriminator_loss as number;
  // At init the logits are ≈ 0 (loss ≈ ln 2); the factor 1.8 alone is reachable by predicting the base
  // rate of replaced tokens, so the AUC check below is what shows real replaced-token detection.
  assert.ok(Math.abs(d0 - Math.LN2) < 0.02, `initial discriminator loss ${d0}`);
  assert.ok(d1 < d0 / 1.8, `discriminator loss ${d0} → ${d1}`);
  assert.ok((last.discriminator_auc as number) > 0.6, `AUC ${last.discriminator_auc}`);
  assert.ok(
    (last.generator_loss as number) < (first.generator_loss as number) - 0.5,
    `generator loss ${first.generator_loss} → ${last.generator_loss}`,
  );
  const trains = (await readMetrics(join(out, "metrics.jsonl"))).filter((m) => m.type === "train");
  assert.equal(trains.length, 30);
  assert.ok(trains.every((m) => (m.tokens_per_s as number) > 0));
  // Exported: our joint model folder and the Hugging Face discriminator and generator folders.
  for (
    const f of [
      "model/config.json",
      "model/generator_config.json",
      "model/model.safetensors",
      "model/vocab.txt",
    ]
  ) await Deno.stat(join(out, f));
  const hf = JSON.parse(await Deno.readTextFile(join(out, "discriminator/config.json")));
  assert.deepEqual(hf.architectures, ["ElectraForPreTraining"]);
  assert.equal(hf.hidden_size, 64);
  assert.equal(
    JSON.parse(await Deno.readTextFile(join(out, "generator/config.json"))).architectures[0],
    "ElectraForMaskedLM",
  );
  assert.equal(
    await Deno.readTextFile(join(out, "discriminator/vocab.txt")),
    await Deno.readTextFile(fixture("vocab.txt")),
  );
  assert.deepEqual((await listCheckpoints(join(out, "checkpoints"))).map((c) => c.step), [300]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("pretrain() killed mid-run and resumed (past a corrupted checkpoint) ends with bit-identical parameters", async () => {
  const data = await fixtureShards();
  // Gradient accumulation and dropout on, so the resume covers every source of randomness and state.
  const config = await tinyConfig(checkpointed(9, 3, { accumulate: 2 }), 0.1);
  const base = { config, data, threads: 1, quiet: true, export: false };
  const whole = await Deno.makeTempDir({ prefix: "pretrain-whole-" });
  const a = await pretrain({ ...base, out: whole });
  assert.ok(a.finished);

  const killed = await Deno.makeTempDir({ prefix: "pretrain-killed-" });
  const b1 = await pretrain({ ...base, out: killed, stopAfter: 7 }); // "killed" after step 7: checkpoints 3 and 6
  assert.ok(!b1.finished);
  assert.equal(b1.step, 7);
  assert.deepEqual((await listCheckpoints(join(killed, "checkpoints"))).map((c) => c.step), [3, 6]);
  // Damage the newest checkpoint: resume must notice and fall back to step 3.
  const newest = join(killed, "checkpoints", checkpointName(6));
  const bytes = await Deno.readFile(newest);
  await Deno.writeFile(newest, bytes.slice(0, bytes.length - 100));
  const messages: string[] = [];
  const error = console.error;
  console.error = (...xs: unknown[]) => messages.push(xs.join(" "));
  let b2;
  try {
    b2 = await pretrain({ ...base, out: killed, resume: true, quiet: false });
  } finally {
    console.error = error;
  }
  assert.ok(b2.finished);
  assert.equal(b2.resumedFrom, join(killed, "checkpoints", checkpointName(3)));
  assert.equal(b2.step, 9);
  sameParams(b2.params, a.params);
  // The metrics log keeps one line per logged step: lines past the resumed checkpoint were dropped.
  const steps = (await readMetrics(join(killed, "metrics.jsonl"))).filter((m) => m.type === "train").map((
    m,
  ) => m.step);
  assert.deepEqual(steps, [...new Set(steps)]);
  void messages;
  await Deno.remove(whole, { recursive: true });
  await Deno.remove(killed, { recursive: true });
});

Deno.test("pretrain() with stopAt ends partway through the schedule with model folders; a resume goes on to the same end", async () => {
  const data = await fixtureShards();
  const config = await tinyConfig(checkpointed(6, 2));
  const base = { config, data, threads: 1, quiet: true };
  const whole = await Deno.makeTempDir({ prefix: "pretrain-whole-" });
  const a = await pretrain({ ...base, out: whole, export: false });
  const part = await Deno.makeTempDir({ prefix: "pretrain-stop-at-" });
  const b1 = await pretrain({ ...base, out: part, stopAt: 3 });
  assert.ok(b1.finished);
  assert.equal(b1.step, 3);
  assert.deepEqual((await listCheckpoints(join(part, "checkpoints"))).map((c) => c.step), [2, 3]);
  const disc = JSON.parse(await Deno.readTextFile(join(part, "discriminator", "config.json")));
  assert.equal(disc.model_type, "electra");
  // Run again with the same stopAt: no update, the same model.
  const b2 = await pretrain({ ...base, out: part, stopAt: 3, resume: true, export: false });
  assert.equal(b2.step, 3);
  sameParams(b2.params, b1.params);
  // Without it the schedule of 6 goes on (learning rates of the 6-step schedule): the uninterrupted run's result.
  const b3 = await pretrain({ ...base, out: part, resume: true, export: false });
  assert.equal(b3.step, 6);
  sameParams(b3.params, a.params);
  await Deno.remove(whole, { recursive: true });
  await Deno.remove(part, { recursive: true });
});

Deno.test("pretrain() keeps CPU seconds across a resume at another thread count; an older checkpoint counts at run.json's", async () => {
  const data = await fixtureShards();
  const config = await tinyConfig(checkpointed(4, 2));
  const base = { config, data, quiet: true, export: false };
  const out = await Deno.makeTempDir({ prefix: "pretrain-cpu-" });
  const checkpoint = async (step: number) => {
    const path = (await listCheckpoints(join(out, "checkpoints"))).find((c) => c.step === step)!.path;
    return { path, decoded: await decodeCheckpoint(await Deno.readFile(path), path) };
  };
  const state = async (step: number) => (await checkpoint(step)).decoded.config as Record<string, number>;
  await pretrain({ ...base, out, threads: 2, stopAt: 2 });
  const s2 = await state(2);
  assert.ok(s2.trainSeconds > 0);
  assert.equal(s2.cpuSeconds, s2.trainSeconds * 2);
  await pretrain({ ...base, out, threads: 1, resume: true });
  const s4 = await state(4);
  // The two updates after the resume count once, the two before it twice.
  assert.ok(Math.abs(s4.cpuSeconds - (s2.cpuSeconds + (s4.trainSeconds - s2.trainSeconds))) < 1e-9);

  // A checkpoint written before cpuSeconds was kept: its seconds count at the threads run.json recorded (2).
  const c2 = await checkpoint(2);
  const { cpuSeconds: _, ...older } = c2.decoded.config as Record<string, unknown>;
  await Deno.writeFile(c2.path, await encodeCheckpoint({ ...c2.decoded, config: older }));
  await Deno.remove(join(out, "checkpoints", checkpointName(4)));
  await Deno.writeTextFile(
    join(out, "run.json"),
    JSON.stringify({ ...JSON.parse(await Deno.readTextFile(join(out, "run.json"))), threads: 2 }),
  );
  await pretrain({ ...base, out, threads: 1, resume: true });
  const again = await state(4);
  assert.ok(
    Math.abs(again.cpuSeconds - (s2.trainSeconds * 2 + (again.trainSeconds - s2.trainSeconds))) < 1e-9,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("pretrain CLI runs a preset end to end, --resume on a finished run does nothing more, a new run needs --clear", async () => {
  const data = await fixtureShards();
  const out = await Deno.makeTempDir({ prefix: "pretrain-cli-" });
  const args = [
    "--data",
    data,
    "--config",
    TINY,
    "--out",
    out,
    "--steps",
    "4",
    "--eval-every",
    "0",
    "--save-every",
    "2",
    "--threads",
    "1",
    "--quiet",
  ];
  assert.equal(await main(args), 0);
  assert.deepEqual((await listCheckpoints(join(out, "checkpoints"))).map((c) => c.step), [2, 4]);
  assert.equal(await main([...args, "--resume"]), 0);
  assert.deepEqual((await listCheckpoints(join(out, "checkpoints"))).map((c) => c.step), [2, 4]);
  // The folder belongs to that run: a new run is refused (or clears it), a resume keeps the run's settings.
  await assert.rejects(main(args), /is not empty .*--resume .*--clear/);
  await assert.rejects(main([...args, "--resume", "--steps", "8"]), /trainSteps was 4 \(run\.json\), now 8/);
  assert.equal(await main([...args, "--clear", "--steps", "2"]), 0);
  assert.deepEqual((await listCheckpoints(join(out, "checkpoints"))).map((c) => c.step), [2]);
  await assert.rejects(
    main(["--data", data, "--config", TINY, "--out", out, "--steps", "x"]),
    /--steps must be a positive integer, got "x"/,
  );
  await Deno.remove(out, { recursive: true });
});

Deno.test("the CUDA provider fails fast with a clear message where CUDA is not installed", async () => {
  try {
    await probeProvider("cuda");
  } catch (e) {
    assert.match((e as Error).message, /provider "cuda"/);
    assert.match((e as Error).message, /CUDA/);
    return;
  }
  // A machine with onnxruntime-node's CUDA binaries and CUDA 12 opens the session: nothing to check there.
});

Deno.test("pretrain() with objective mlm (whole-word masking): the masked-LM loss falls, the folders are --model for fine-tuning", async () => {
  const data = await fixtureShards();
  const out = await Deno.makeTempDir({ prefix: "pretrain-mlm-" });
  const config = await tinyConfig({
    objective: "mlm",
    wholeWordMask: true,
    maskProb: 0.3,
    trainSteps: 150,
    evalEvery: 75,
    saveEvery: 0,
  });
  const r = await pretrain({ config, data, out, threads: 1, quiet: true });
  assert.ok(r.finished);
  // The masked LM has no generator or discriminator: the encoder and the head of ElectraForMaskedLM.
  assert.ok(
    Object.keys(r.params).every((n) => /^(electra\.|generator_predictions\.|generator_lm_head\.)/.test(n)),
  );
  const evals = (await readMetrics(join(out, "metrics.jsonl"))).filter((m) => m.type === "eval");
  assert.deepEqual(evals.map((e) => e.step), [0, 75, 150]);
  assert.deepEqual(Object.keys(evals[0]).sort(), ["loss", "mlm_accuracy", "step", "type"]);
  // At init the predictions are near uniform over the 128 ids: loss ≈ ln 128.
  assert.ok(Math.abs((evals[0].loss as number) - Math.log(128)) < 0.3, `initial loss ${evals[0].loss}`);
  // The fixture's names and places are drawn at random, so accuracy stays low; the loss shows the learning.
  assert.ok(
    (evals[2].loss as number) < (evals[0].loss as number) - 1,
    `loss ${evals[0].loss} → ${evals[2].loss}`,
  );
  assert.ok((evals[2].mlm_accuracy as number) > 4 * (evals[0].mlm_accuracy as number), JSON.stringify(evals));
  assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "model/config.json"))).architectures, [
    "ElectraForMaskedLM",
  ]);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "hf/config.json"))).architectures, [
    "ElectraForMaskedLM",
  ]);
  // Both folders start fine-tuning with the trained encoder (the LM head left out).
  for (const dir of ["model", "hf"]) {
    const start = await loadStartModel({ kind: "folder", dir: join(out, dir) });
    const encoder = Object.keys(r.params).filter((n) => n.startsWith("electra."));
    assert.deepEqual(Object.keys(start.weights).sort(), encoder.sort(), dir);
    for (const n of encoder) {
      assert.deepEqual(start.weights[n].data, r.params[n].data, `${dir}: ${n}`);
    }
  }
  await Deno.remove(out, { recursive: true });
});

Deno.test("pretrain() with objective mlm and accumulation: killed and resumed ends with bit-identical parameters", async () => {
  const data = await fixtureShards();
  const config = await tinyConfig({
    ...checkpointed(6, 2, { accumulate: 2 }),
    objective: "mlm",
    maskProb: 0.4,
  }, 0.1);
  const base = { config, data, threads: 1, quiet: true, export: false };
  const whole = await Deno.makeTempDir({ prefix: "pretrain-mlm-whole-" });
  const a = await pretrain({ ...base, out: whole });
  const killed = await Deno.makeTempDir({ prefix: "pretrain-mlm-killed-" });
  assert.equal((await pretrain({ ...base, out: killed, stopAfter: 5 })).step, 5);
  const b = await pretrain({ ...base, out: killed, resume: true });
  assert.equal(b.resumedFrom, join(killed, "checkpoints", checkpointName(4)));
  sameParams(b.params, a.params);
  await Deno.remove(whole, { recursive: true });
  await Deno.remove(killed, { recursive: true });
});

Deno.test("pretrain config: objective and whole_word_mask are checked by name", () => {
  const model = {
    model_type: "electra",
    vocab_size: 10,
    hidden_size: 8,
    num_attention_heads: 2,
    intermediate_size: 8,
  };
  assert.equal(
    pretrainConfigFromJson({ model, train: { objective: "mlm", whole_word_mask: true } }).train.objective,
    "mlm",
  );
  assert.throws(
    () => pretrainConfigFromJson({ model, train: { objective: "bert" } }),
    /train\.objective must be "electra" or "mlm", got "bert"/,
  );
  assert.throws(
    () => pretrainConfigFromJson({ model, train: { whole_word_mask: 1 } }),
    /train\.whole_word_mask must be true or false, got 1/,
  );
});
