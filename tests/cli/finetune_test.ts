/**
 * `deno task finetune --model CHECKPOINT --vocab FILE`: fine-tuning starts from a pretraining checkpoint's encoder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli/finetune.ts";
import { loadCheckpointEncoder } from "../../train/finetune/start_model.ts";
import { readWeightsFolder } from "../../train/release/weights_folder.ts";
import { listCheckpoints } from "../../train/run/checkpoints.ts";
import { finetuneFixture, FROZEN_FINETUNE_FLAGS, tinyPretrainRun } from "../train/pretrain/tiny_run.ts";

Deno.test("finetune CLI --model CHECKPOINT starts from its encoder; without --vocab it is refused", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nersota-ft-ckpt-" });
  try {
    const run = await tinyPretrainRun(tmp);
    const ckpt = (await listCheckpoints(join(run, "checkpoints"))).at(-1)!.path;
    const train = ["--train", `klue:${finetuneFixture("train.tsv")}`, ...FROZEN_FINETUNE_FLAGS];
    assert.equal(await main(["--model", ckpt, ...train, "--out", join(tmp, "refused")]), 2);
    const out = join(tmp, "ft");
    const code = await main([
      "--model",
      ckpt,
      "--vocab",
      finetuneFixture("vocab.txt"),
      ...train,
      "--out",
      out,
    ]);
    assert.equal(code, 0);
    const start = await loadCheckpointEncoder(ckpt, finetuneFixture("vocab.txt"));
    const { model } = await readWeightsFolder(out);
    const names = Object.keys(start.weights);
    assert.ok(names.length > 10 && names.every((n) => n in model.weights), names.join());
    for (const n of names) {
      const a = start.weights[n].data as Float32Array, b = model.weights[n].data as Float32Array;
      assert.equal(a.length, b.length, n);
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i] - b[i]) < 1e-6, `${n}[${i}]: ${a[i]} vs ${b[i]}`);
      }
    }
    const runJson = JSON.parse(await Deno.readTextFile(join(out, "run.json")));
    assert.deepEqual(runJson.model, { kind: "checkpoint", path: ckpt, vocab: finetuneFixture("vocab.txt") });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("finetune CLI --symbol-entities drop is saved in nersota.json (keep by default) and refused when unknown", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nersota-ft-symbols-" });
  try {
    const start = [
      "--init",
      "random",
      "--config",
      finetuneFixture("config.json"),
      "--vocab",
      finetuneFixture("vocab.txt"),
    ];
    const train = [
      "--train",
      `klue:${finetuneFixture("train.tsv")}`,
      ...FROZEN_FINETUNE_FLAGS,
      "--max-steps",
      "1",
    ];
    const meta = async (dir: string) => JSON.parse(await Deno.readTextFile(join(dir, "nersota.json")));
    assert.equal(
      await main([...start, ...train, "--symbol-entities", "drop", "--out", join(tmp, "drop")]),
      0,
    );
    assert.equal((await meta(join(tmp, "drop"))).symbolEntities, "drop");
    assert.equal(await main([...start, ...train, "--out", join(tmp, "keep")]), 0);
    assert.equal((await meta(join(tmp, "keep"))).symbolEntities, undefined);
    await assert.rejects(
      main([...start, ...train, "--symbol-entities", "some", "--out", join(tmp, "bad")]),
      /symbol_entities must be one of "keep", "drop"|symbol.entities/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
