/**
 * Checkpoints: after 3 steps of the MLP (with dropout) `snapshot()` → `encodeCheckpoint` → file →
 * `decodeCheckpoint` → a new runner opened on it: the next step's loss and updated parameters are
 * bit-identical to continuing without the round trip (CPU, 1 thread).
 * Corrupted and truncated files are rejected; the artifact folder is written atomically and complete.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildTrainingArtifacts } from "../../onnx/artifacts.ts";
import { decodeCheckpoint, encodeCheckpoint, initialState } from "../../onnx/checkpoint.ts";
import { electraAdam } from "../../onnx/optimizer.ts";
import { TrainRunner } from "../../onnx/trainer.ts";
import { writeArtifacts, writeFileAtomic } from "../../train/run/artifacts_io.ts";
import { mlp, mlpBatch } from "./training_models.ts";

Deno.test("resume from checkpoint reproduces the next-step loss bit for bit", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = buildTrainingArtifacts(mlp("float32", 0.1), { optimizer: electraAdam() });
    const opts = { threads: 1 };
    const r1 = await TrainRunner.open(a.trainStep, initialState(a.params), opts);
    for (let s = 0; s < 3; s++) await r1.step(mlpBatch(32, s), 1e-2);
    const path = join(dir, "ckpt.safetensors");
    await writeFileAtomic(path, await encodeCheckpoint({ ...r1.snapshot(), config: { model: "mlp" } }));
    const expected = await r1.step(mlpBatch(32, 3), 1e-2);
    const expectedParams = r1.parameters();

    const r2 = await TrainRunner.open(
      a.trainStep,
      await decodeCheckpoint(await Deno.readFile(path), path),
      opts,
    );
    assert.equal(r2.updates, 3);
    const resumed = await r2.step(mlpBatch(32, 3), 1e-2);
    assert.ok(Object.is(resumed, expected), `resumed loss ${resumed} vs ${expected}`);
    for (const [n, t] of Object.entries(r2.parameters())) {
      assert.deepEqual(
        new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        new Uint8Array(
          expectedParams[n].data.buffer,
          expectedParams[n].data.byteOffset,
          expectedParams[n].data.byteLength,
        ),
        n,
      );
    }
    const state = await decodeCheckpoint(await Deno.readFile(path), path);
    assert.deepEqual(state.config, { model: "mlp" });
    assert.equal(state.step, 3);
    await Promise.all([r1.release(), r2.release()]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeCheckpoint() detects a flipped bit, a truncated file and a foreign file", async () => {
  const a = buildTrainingArtifacts(mlp("float32"));
  const bytes = await encodeCheckpoint(initialState(a.params));
  await decodeCheckpoint(bytes.slice()); // intact: fine
  const flipped = bytes.slice();
  flipped[flipped.length - 5] ^= 0x10;
  await assert.rejects(
    decodeCheckpoint(flipped, "ckpt.safetensors"),
    /Checkpoint "ckpt.safetensors" is corrupt: SHA-256/,
  );
  await assert.rejects(
    decodeCheckpoint(bytes.slice(0, bytes.length - 100), "cut.safetensors"),
    /cut\.safetensors/,
  );
  const { encodeSafetensors } = await import("../../onnx/safetensors.ts");
  await assert.rejects(
    decodeCheckpoint(encodeSafetensors(a.params), "hf.safetensors"),
    /format is "undefined"/,
  );
});

Deno.test("writeArtifacts() writes the graphs, a step-0 checkpoint and a manifest, leaving no temp files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = buildTrainingArtifacts(mlp("float32", 0.1), { accumulation: true });
    await writeArtifacts(dir, a, { model: "mlp" });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "artifacts.json",
      "checkpoint.safetensors",
      "eval.onnx",
      "grad_accum.onnx",
      "inference.onnx",
      "train_step.onnx",
      "train_step_accum.onnx",
    ]);
    const ck = await decodeCheckpoint(await Deno.readFile(join(dir, "checkpoint.safetensors")));
    assert.equal(ck.step, 0);
    assert.deepEqual(Object.keys(ck.params).sort(), Object.keys(a.params).sort());
    // The folder is usable as is: open the runner from the written files.
    const r = await TrainRunner.open(join(dir, "train_step.onnx"), ck, { threads: 1 });
    assert.ok(Number.isFinite(await r.step(mlpBatch(8, 1), 1e-3)));
    await r.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
