/**
 * Training artifacts end to end on onnxruntime-node CPU: an MLP and a tiny transformer block (embedding
 * Gather, attention with Softmax, LayerNorm, Gelu, dropout) learn synthetic tasks through train_step.onnx
 * driven by `TrainRunner`; eval/inference graphs agree with training; gradient accumulation over two
 * micro-batches equals one step on the whole batch (float64, to 1e-12).
 */
import assert from "node:assert/strict";
import { buildTrainingArtifacts, NAMES } from "../../onnx/artifacts.ts";
import { initialState } from "../../onnx/checkpoint.ts";
import { adamw } from "../../onnx/optimizer.ts";
import { openSession } from "../../onnx/runtime.ts";
import { TrainRunner } from "../../onnx/trainer.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { mlp, mlpBatch, tinyBatch, tinyTransformer } from "./training_models.ts";

Deno.test("MLP trained through train_step.onnx drops its loss by 8× in 150 steps", async () => {
  const a = buildTrainingArtifacts(mlp("float32", 0.1), { optimizer: adamw({ weightDecay: 0.01 }) });
  assert.equal(a.dropout, true);
  const runner = await TrainRunner.open(a.trainStep, initialState(a.params), { threads: 1 });
  const first = await runner.step(mlpBatch(64, 1), 1e-2);
  let last = first;
  for (let s = 1; s < 150; s++) last = await runner.step(mlpBatch(64, 1 + (s % 8)), 1e-2);
  // Held-out batch through eval.onnx (no dropout), with the runner's current parameters.
  const ev = await openSession(a.eval);
  const held = await ev.run({ ...mlpBatch(256, 999), ...runner.parameters() });
  const heldLoss = Number(held.loss.data[0]);
  console.log(`MLP: loss ${first.toFixed(3)} → ${last.toFixed(3)} (held-out ${heldLoss.toFixed(3)})`);
  assert.ok(last < first / 8, `train loss ${first} → ${last}`);
  assert.ok(heldLoss < first / 8, `held-out loss ${heldLoss} vs initial ${first}`);
  assert.equal(runner.updates, 150);
  await ev.release();
  await runner.release();
});

Deno.test("tiny transformer block (embedding, attention, LayerNorm, Gelu, dropout) drops its loss by 10× in 200 steps", async () => {
  const a = buildTrainingArtifacts(tinyTransformer(0.1), { optimizer: adamw({ weightDecay: 0.01 }) });
  const runner = await TrainRunner.open(a.trainStep, initialState(a.params), { threads: 2 });
  const batches = Array.from({ length: 16 }, (_, i) => tinyBatch(32, i + 1));
  const first = await runner.step(batches[0], 3e-3);
  const losses: number[] = [first];
  const t0 = performance.now();
  for (let s = 1; s < 200; s++) losses.push(await runner.step(batches[s % 16], 3e-3));
  const stepsPerSecond = 199 / ((performance.now() - t0) / 1000);
  const tail = losses.slice(-10).reduce((p, q) => p + q, 0) / 10;
  console.log(
    `tiny transformer: loss ${first.toFixed(3)} → ${tail.toFixed(3)}, ${
      stepsPerSecond.toFixed(0)
    } train steps/s (batch 32×8)`,
  );
  assert.ok(tail < first / 10, `loss ${first} → ${tail}`);
  // eval.onnx (no dropout) on a fresh batch; inference.onnx serves logits of the right shape.
  const ev = await openSession(a.eval);
  const held = await ev.run({ ...tinyBatch(64, 777), ...runner.parameters() });
  assert.ok(Number(held.loss.data[0]) < first / 10, `held-out loss ${held.loss.data[0]}`);
  const inf = await openSession(a.inference);
  assert.deepEqual(inf.inputNames, ["input_ids"]);
  const { logits } = await inf.run({ input_ids: tinyBatch(2, 5).input_ids });
  assert.deepEqual(logits.dims, [2, 8, 4]);
  await Promise.all([ev.release(), inf.release(), runner.release()]);
});

Deno.test("train_step.onnx follows the documented I/O names", async () => {
  const a = buildTrainingArtifacts(mlp("float32", 0.1));
  const s = await openSession(a.trainStep);
  const p = Object.keys(a.params);
  assert.deepEqual(p, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
  assert.deepEqual(
    [...s.inputNames],
    ["x", "dropout_seed", "labels", ...p, ...p.flatMap((n) => [`${n}.m`, `${n}.v`]), "step", "lr"],
  );
  assert.deepEqual([...s.outputNames], [
    "loss",
    "grad_norm",
    ...p.flatMap((n) => [`${n}.new`, `${n}.m.new`, `${n}.v.new`]),
  ]);
  assert.deepEqual(a.batchInputs.map((i) => i.name), ["x", "labels"]);
  await s.release();
});

Deno.test("gradient accumulation over two micro-batches equals one step on the whole batch (float64, 1e-12)", async () => {
  const opt = adamw({ weightDecay: 0.1, maxGradNorm: 0.5 });
  const a = buildTrainingArtifacts(mlp("float64"), { accumulation: true, optimizer: opt });
  const names = Object.keys(a.params);
  const full = mlpBatch(16, 3, "float64");
  const half = (t: Tensor, lo: number): Tensor => {
    const row = t.dims.length > 1 ? t.dims[1] : 1;
    return {
      dtype: t.dtype,
      dims: [8, ...t.dims.slice(1)],
      data: t.data.slice(lo * row, (lo + 8) * row),
    } as Tensor;
  };
  const mb1 = { x: half(full.x, 0), labels: half(full.labels, 0) };
  const mb2 = { x: half(full.x, 8), labels: half(full.labels, 8) };
  const state = initialState(a.params);
  const scalar = (v: number): Tensor => ({ dtype: "float64", dims: [], data: new Float64Array([v]) });
  const feedsOf = (batch: Record<string, Tensor>) => {
    const f: Record<string, Tensor> = { ...batch, step: scalar(1), lr: scalar(0.01) };
    for (const n of names) {
      Object.assign(f, { [n]: state.params[n], [`${n}.m`]: state.m[n], [`${n}.v`]: state.v[n] });
    }
    return f;
  };
  const step = await openSession(a.trainStep);
  const whole = await step.run(feedsOf(full));
  const acc = await openSession(a.accumulate!);
  const zeros = Object.fromEntries(
    names.map((n) => [NAMES.grad(n), { ...a.params[n], data: new Float64Array(a.params[n].data.length) }]),
  );
  const r1 = await acc.run({ ...mb1, ...Object.fromEntries(names.map((n) => [n, a.params[n]])), ...zeros });
  const fin = await openSession(a.trainStepAccum!);
  const grads = Object.fromEntries(names.map((n) => [NAMES.grad(n), r1[NAMES.newGrad(n)]]));
  const r2 = await fin.run({ ...feedsOf(mb2), ...grads, grad_scale: scalar(0.5) });
  for (const n of names) {
    const x = whole[NAMES.newParam(n)].data as Float64Array, y = r2[NAMES.newParam(n)].data as Float64Array;
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(x[i] - y[i]) <= 1e-12, `${n}[${i}]: ${x[i]} vs ${y[i]}`);
    }
  }
  assert.ok(Math.abs(Number(whole.grad_norm.data[0]) - Number(r2.grad_norm.data[0])) < 1e-12);
  await Promise.all([step.release(), acc.release(), fin.release()]);
});

Deno.test("TrainRunner double buffering matches fresh outputs bit for bit and never writes the caller's tensors", async () => {
  const a = buildTrainingArtifacts(mlp("float32", 0.1));
  const before = Object.fromEntries(
    Object.entries(a.params).map(([n, t]) => [n, Array.from(t.data as Float32Array)]),
  );
  const runners = await Promise.all(
    [true, false].map((preallocateOutputs) =>
      TrainRunner.open(a.trainStep, initialState(a.params), { threads: 1, preallocateOutputs })
    ),
  );
  for (let s = 0; s < 5; s++) {
    const [x, y] = await Promise.all(runners.map((r) => r.step(mlpBatch(16, s), 1e-2)));
    assert.ok(Object.is(x, y), `step ${s}: ${x} vs ${y}`);
  }
  const [p, q] = runners.map((r) => r.parameters());
  for (const n of Object.keys(p)) {
    assert.deepEqual(Array.from(p[n].data as Float32Array), Array.from(q[n].data as Float32Array));
  }
  for (const [n, t] of Object.entries(a.params)) {
    assert.deepEqual(Array.from(t.data as Float32Array), before[n], n);
  }
  await Promise.all(runners.map((r) => r.release()));
});

Deno.test("TrainRunner on wasm (onnxruntime-web) trains as on cpu: the same losses and parameters after 5 steps", async () => {
  // onnxruntime-web returns pre-allocated CPU outputs unwritten: the runner must not double-buffer there.
  const a = buildTrainingArtifacts(mlp("float32", 0.1));
  const runners = [
    await TrainRunner.open(a.trainStep, initialState(a.params), { provider: "cpu", threads: 1 }),
    await TrainRunner.open(a.trainStep, initialState(a.params), {
      provider: "wasm",
      preallocateOutputs: true,
    }),
  ];
  const losses: number[][] = [[], []];
  for (let s = 0; s < 5; s++) {
    for (const [i, r] of runners.entries()) losses[i].push(await r.step(mlpBatch(16, 0), 1e-2));
  }
  losses[0].forEach((x, s) =>
    assert.ok(Math.abs(x - losses[1][s]) < 1e-4, `step ${s}: ${x} vs ${losses[1][s]}`)
  );
  assert.ok(losses[1][4] < losses[1][0], `the wasm loss falls: ${losses[1]}`);
  const [p, q] = runners.map((r) => r.parameters());
  for (const n of Object.keys(p)) {
    const x = p[n].data as Float32Array, y = q[n].data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(x[i] - y[i]) < 1e-4, `${n}[${i}]: ${x[i]} vs ${y[i]}`);
    }
  }
  for (const r of runners) await r.release();
});
