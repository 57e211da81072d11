import assert from "node:assert/strict";
import { join } from "node:path";
import type { CheckpointState } from "../../../onnx/checkpoint.ts";
import {
  checkpointName,
  listCheckpoints,
  loadLatestCheckpoint,
  saveCheckpoint,
} from "../../../train/run/checkpoints.ts";

function state(step: number): CheckpointState {
  const t = (v: number) => ({ dtype: "float32" as const, dims: [3], data: Float32Array.of(v, v + 1, v + 2) });
  return {
    params: { w: t(step) },
    m: { w: t(0.5) },
    v: { w: t(0.25) },
    step,
    config: { cursor: { epoch: 0, offset: step } },
  };
}

Deno.test("saveCheckpoint() writes step-N files atomically and keeps the newest K", async () => {
  const dir = await Deno.makeTempDir();
  for (const s of [10, 20, 30, 40]) await saveCheckpoint(dir, state(s), 2);
  const files = await listCheckpoints(dir);
  assert.deepEqual(files.map((f) => f.step), [30, 40]);
  assert.equal(files[1].path, join(dir, checkpointName(40)));
  // No temporary files are left behind.
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  assert.deepEqual(names.sort(), ["step-00000030.safetensors", "step-00000040.safetensors"]);
  const loaded = await loadLatestCheckpoint(dir, () => assert.fail("no warning expected"));
  assert.equal(loaded!.state.step, 40);
  assert.deepEqual(loaded!.state.config, { cursor: { epoch: 0, offset: 40 } });
  assert.deepEqual(Array.from(loaded!.state.params.w.data as Float32Array), [40, 41, 42]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadLatestCheckpoint() skips a corrupted or truncated newest checkpoint, with a message", async (t) => {
  const damage: [string, (b: Uint8Array) => Uint8Array][] = [
    ["bit flip", (b) => {
      const c = b.slice();
      c[c.length - 3] ^= 0x10;
      return c;
    }],
    ["truncated", (b) => b.slice(0, b.length - 7)],
    ["empty", () => new Uint8Array()],
  ];
  for (const [what, hurt] of damage) {
    await t.step(what, async () => {
      const dir = await Deno.makeTempDir();
      await saveCheckpoint(dir, state(1), 3);
      await saveCheckpoint(dir, state(2), 3);
      const newest = join(dir, checkpointName(2));
      await Deno.writeFile(newest, hurt(await Deno.readFile(newest)));
      const messages: string[] = [];
      const loaded = await loadLatestCheckpoint(dir, (m) => messages.push(m));
      assert.equal(loaded!.state.step, 1);
      assert.equal(loaded!.skipped.length, 1);
      assert.equal(messages.length, 1);
      assert.match(messages[0], /step-00000002\.safetensors/);
      assert.match(messages[0], /corrupt|Cannot read/);
      assert.match(messages[0], /falling back to the previous checkpoint ".*step-00000001\.safetensors"/);
      await Deno.remove(dir, { recursive: true });
    });
  }
});

Deno.test("loadLatestCheckpoint() returns undefined for no checkpoints and throws when none is usable", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(await loadLatestCheckpoint(join(dir, "absent")), undefined);
  assert.equal(await loadLatestCheckpoint(dir), undefined);
  await Deno.writeFile(join(dir, checkpointName(5)), new Uint8Array([1, 2, 3]));
  await assert.rejects(loadLatestCheckpoint(dir, () => {}), /No usable checkpoint/);
  await Deno.remove(dir, { recursive: true });
});
