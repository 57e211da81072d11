/**
 * A pretraining checkpoint as a model folder (`deno task export --from-checkpoint`), float32 and float16, and
 * fine-tuning from that folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main as exportMain } from "../../../cli/export.ts";
import { main as finetuneMain } from "../../../cli/finetune.ts";
import { float16Bits, float16Value } from "../../../onnx/quantize.ts";
import { readPretrainCheckpoint } from "../../../train/pretrain/checkpoint_folder.ts";
import { readWeightsFolder } from "../../../train/release/weights_folder.ts";
import { listCheckpoints } from "../../../train/run/checkpoints.ts";
import { finetuneFixture, FROZEN_FINETUNE_FLAGS, tinyPretrainRun } from "./tiny_run.ts";

const half = (a: Float32Array) => Float32Array.from(a, (v) => float16Value(float16Bits(v)));

Deno.test("export --from-checkpoint writes the checkpoint's model (float32 exact, --float16 rounded) and fine-tuning starts from it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nersota-ckpt-folder-" });
  try {
    const run = await tinyPretrainRun(tmp);
    const ckptPath = (await listCheckpoints(join(run, "checkpoints"))).at(-1)!.path;
    const ckpt = await readPretrainCheckpoint(ckptPath);
    assert.equal(ckpt.step, 4);
    const vocab = finetuneFixture("vocab.txt");
    const f32 = join(tmp, "f32"), f16 = join(tmp, "f16");
    assert.equal(
      await exportMain([
        "--from-checkpoint",
        ckptPath,
        "--vocab",
        vocab,
        "--out",
        f32,
        "--hf",
        join(tmp, "hf"),
      ]),
      0,
    );
    assert.equal(
      await exportMain(["--from-checkpoint", ckptPath, "--vocab", vocab, "--out", f16, "--float16"]),
      0,
    );
    const a = await readWeightsFolder(f32), b = await readWeightsFolder(f16);
    assert.equal(a.model.kind, "pretraining"); // the tiny run's objective is ELECTRA's: discriminator + generator
    assert.equal(a.vocab, await Deno.readTextFile(vocab));
    assert.deepEqual(Object.keys(a.model.weights).sort(), Object.keys(ckpt.params).sort());
    for (const [n, t] of Object.entries(ckpt.params)) {
      assert.deepEqual(a.model.weights[n].data, t.data, n);
      assert.deepEqual(b.model.weights[n].data, half(t.data as Float32Array), n);
    }
    const size = async (d: string) => (await Deno.stat(join(d, "model.safetensors"))).size;
    assert.ok(await size(f16) < 0.6 * await size(f32));
    const hf = JSON.parse(await Deno.readTextFile(join(tmp, "hf", "config.json")));
    assert.deepEqual(hf.architectures, ["ElectraForPreTraining"]);

    // Fine-tuning that keeps the encoder: it starts from the float16 values, widened.
    const out = join(tmp, "ft");
    const train = ["--train", `klue:${finetuneFixture("train.tsv")}`, ...FROZEN_FINETUNE_FLAGS];
    const code = await finetuneMain(["--model", f16, ...train, "--out", out]);
    assert.equal(code, 0);
    const tuned = (await readWeightsFolder(out)).model.weights;
    const name = "electra.embeddings.word_embeddings.weight";
    const want = half(ckpt.params[name].data as Float32Array), got = tuned[name].data as Float32Array;
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(want[i] - got[i]) < 1e-6, `${i}`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("export --from-checkpoint refuses a file that is not a pretraining checkpoint, and a call without --vocab", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nersota-ckpt-folder-" });
  try {
    const notCkpt = join(tmp, "model.safetensors");
    await Deno.copyFile(finetuneFixture("../electra/tiny/model.safetensors"), notCkpt);
    await assert.rejects(readPretrainCheckpoint(notCkpt), /model\.safetensors/);
    const vocab = finetuneFixture("vocab.txt");
    assert.equal(await exportMain(["--from-checkpoint", notCkpt, "--out", join(tmp, "x")]), 2);
    assert.equal(
      await exportMain([
        "--from-checkpoint",
        notCkpt,
        "--vocab",
        vocab,
        "--from-hf",
        tmp,
        "--out",
        join(tmp, "x"),
      ]),
      2,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
