// A run folder belongs to one run (issue 22, item 2).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { finetune, type FinetuneOptions } from "../../../train/finetune/finetune.ts";
import { main as finetuneCli } from "../../../cli/finetune.ts";
import { FINETUNE_DEFAULTS } from "../../../train/finetune/finetune_config.ts";
import { listCheckpoints } from "../../../train/run/checkpoints.ts";
import { prepareRunFolder } from "../../../train/run/run_folder.ts";
import { withTempDir } from "../temp_dir.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));

function options(out: string, train: string, extra: Partial<FinetuneOptions> = {}): FinetuneOptions {
  return {
    config: { ...FINETUNE_DEFAULTS, batchSize: 8, maxSeqLength: 64, maxSteps: 6, patience: 0, types: [] },
    model: { kind: "random", config: fixture("config.json"), vocab: fixture("vocab.txt") },
    train: [{ path: train, format: "klue" }],
    out,
    threads: 1,
    quiet: true,
    ...extra,
  };
}

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("nersota-run-", fn);

Deno.test("finetune(): a new run refuses a folder holding another run; --clear empties it first", async () => {
  await withDir(async (dir) => {
    const out = join(dir, "run");
    await finetune(
      options(out, fixture("train.tsv"), { config: { ...options("", "").config, maxSteps: 9 } }),
    );
    const old = await listCheckpoints(join(out, "checkpoints"));
    assert.ok(old.length > 0);
    await assert.rejects(
      () => finetune(options(out, fixture("train.tsv"))),
      /is not empty .*Pass --resume to continue that run, --clear to delete it/,
    );
    const fresh = await finetune(options(out, fixture("train.tsv"), { clear: true }));
    assert.equal(fresh.step, 6);
    // The model folder it writes carries its files' checksums (checked at load).
    const meta = JSON.parse(await Deno.readTextFile(join(out, "nersota.json")));
    assert.match(meta.sha256["inference.onnx"], /^[0-9a-f]{64}$/);
    const steps = (await listCheckpoints(join(out, "checkpoints"))).map((c) => c.step);
    assert.ok(steps.every((s) => s <= 6), `only the new run's checkpoints: ${steps}`);
  });
});

Deno.test("prepareRunFolder(): --clear only empties run folders", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "notes.txt"), "mine");
    await assert.rejects(() => prepareRunFolder(dir, true), /holds no training run/);
    assert.equal(await Deno.readTextFile(join(dir, "notes.txt")), "mine");
    await prepareRunFolder(join(dir, "absent"));
  });
});

Deno.test("finetune(): a resume on changed data or changed settings says what changed", async () => {
  await withDir(async (dir) => {
    const data = join(dir, "train.tsv"), out = join(dir, "run");
    await Deno.copyFile(fixture("train.tsv"), data);
    const killed = await finetune(options(out, data, { stopAfter: 4 }));
    assert.equal(killed.finished, false);
    await assert.rejects(
      () => finetune(options(out, data, { resume: true, given: { learning_rate: 1e-3, batch_size: 8 } })),
      /Cannot resume the run in .*learning_rate was 0\.00005 \(run\.json\), now 0\.001/,
    );
    // Half the sentences: today's code crashed with a TypeError on the saved data order.
    const text = await Deno.readTextFile(data);
    const blocks = text.split(/\n\n+/);
    await Deno.writeTextFile(data, blocks.slice(0, Math.floor(blocks.length / 2)).join("\n\n") + "\n");
    await assert.rejects(
      () => finetune(options(out, data, { resume: true })),
      /Cannot resume the run in .*the training sentences was \d+ \(run\.json\), now \d+/,
    );
    await assert.rejects(
      () => finetune(options(out, fixture("train.tsv"), { resume: true })),
      /the training data was .*train\.tsv/,
    );
  });
});

Deno.test("finetune --resume without --train or --model continues from what run.json recorded", async () => {
  await withDir(async (dir) => {
    const out = join(dir, "run");
    const common = ["--out", out, "--quiet"];
    const log = console.log;
    console.log = () => {};
    try {
      assert.equal(await finetuneCli(["--resume", ...common]), 2, "no run.json yet: a usage error");
      const first = [
        "--init",
        "random",
        "--config",
        fixture("config.json"),
        "--vocab",
        fixture("vocab.txt"),
        "--train",
        `klue:${fixture("train.tsv")}`,
        "--max-steps",
        "3",
        "--batch-size",
        "8",
        "--max-seq-len",
        "64",
        "--threads",
        "1",
      ];
      assert.equal(await finetuneCli([...first, ...common]), 0);
      assert.equal(await finetuneCli(["--resume", ...common]), 0);
      await assert.rejects(() => finetuneCli(["--resume", "--lr", "0.5", ...common]), /learning_rate was/);
    } finally {
      console.log = log;
    }
  });
});
