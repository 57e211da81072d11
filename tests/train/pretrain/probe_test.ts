/**
 * The fixed fine-tuning probe on the fine-tuning fixture (24 made-up sentences, a 2-layer 64-wide ELECTRA):
 * recipe parsing, the fixed subset, one probe of random weights (per-seed scores equal to scoring the kept
 * models, means of the seeds, a second call reading back instead of training), and a curve over the
 * checkpoints of a tiny pretraining run whose checkpoints are kept by `keep_checkpoint_every`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listCheckpoints } from "../../../train/run/checkpoints.ts";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";
import { evaluateModelFolder } from "../../../train/evaluate/evaluate.ts";
import { fixedSubset } from "../../../train/ner_data/sources.ts";
import { loadCheckpointEncoder } from "../../../train/finetune/start_model.ts";
import { readPretrainConfig } from "../../../train/pretrain/pretrain_config.ts";
import { configFromHf } from "../../../onnx/electra/config.ts";
import {
  curvePoint,
  probeCurve,
  type ProbeRecipe,
  probeRecipeFromJson,
  readProbeRecipe,
  runProbe,
} from "../../../train/pretrain/probe.ts";
import { main } from "../../../cli/probe.ts";
import { tinyPretrainRun } from "./tiny_run.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));

function tinyRecipe(json: Record<string, unknown> = {}): ProbeRecipe {
  return probeRecipeFromJson(
    {
      model: "$RUNS/config.json",
      vocab: "$RUNS/vocab.txt",
      train: [{ path: "$RUNS/train.tsv", format: "klue", take: 20 }],
      dev: {
        train: { path: "$RUNS/train.tsv", format: "klue" },
        dev: { path: "$RUNS/dev.tsv", format: "klue" },
      },
      seeds: [1, 2],
      finetune: {
        learning_rate: 0.002,
        num_train_epochs: 2,
        batch_size: 8,
        max_seq_length: 64,
        patience: 0,
        types: ["PS", "LC", "DT"],
      },
      ...json,
    },
    "tiny recipe",
    fixture(""),
  );
}

Deno.test("probeRecipeFromJson() resolves $RUNS and rejects unknown keys, bad takes and dev selection", () => {
  const r = tinyRecipe();
  assert.equal(r.vocab, join(fixture(""), "vocab.txt"));
  assert.equal(r.train[0].take, 20);
  assert.deepEqual(Object.keys(r.dev), ["train", "dev"]);
  assert.equal(r.finetune.epochs, 2);
  assert.throws(() => tinyRecipe({ epochs: 3 }), /unknown key\(s\) epochs/);
  assert.throws(
    () => tinyRecipe({ train: [{ path: "x", take: 0 }] }),
    /train\[0\]\.take must be a positive integer/,
  );
  assert.throws(
    () => tinyRecipe({ train: [{ path: "x", tkae: 3 }] }),
    /train\[0\] has unknown key\(s\) tkae/,
  );
  assert.throws(() => tinyRecipe({ seeds: [] }), /seeds must be a non-empty list/);
  assert.throws(() => tinyRecipe({ finetune: { patience: 2 } }), /patience must be 0/);
  assert.throws(() => tinyRecipe({ dev: {} }), /dev must be an object/);
});

Deno.test("readProbeRecipe(): errors about a key of the file name FILE:LINE, in its finetune section too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-probe-" });
  try {
    const file = join(dir, "recipe.json");
    const recipe = {
      model: "$RUNS/config.json",
      vocab: "$RUNS/vocab.txt",
      train: [{ path: "$RUNS/train.tsv", format: "klue", take: 20 }],
      dev: { dev: { path: "$RUNS/dev.tsv", format: "klue" } },
      seeds: [1],
      finetune: { num_train_epochs: 2, patience: 0 },
    };
    const cases: [unknown, string, string][] = [
      [
        { ...recipe, finetune: { num_train_epochs: 0, patience: 0 } },
        '"num_train_epochs"',
        "num_train_epochs must be",
      ],
      [
        { ...recipe, finetune: { num_train_epoch: 2, patience: 0 } },
        '"num_train_epoch"',
        'unknown key "num_train_epoch"',
      ],
      [{ ...recipe, train: [{ path: "x", take: 0 }] }, '"take"', "train[0].take must be a positive integer"],
      [{ ...recipe, seeds: [-1] }, '"seeds"', "seeds must be a non-empty list"],
    ];
    for (const [json, bad, message] of cases) {
      const text = JSON.stringify(json, null, 2);
      await Deno.writeTextFile(file, text);
      const line = text.split("\n").findIndex((l) => l.includes(bad)) + 1;
      await assert.rejects(() => readProbeRecipe(file, "/runs"), (e: Error) => {
        assert.ok(
          e.message.startsWith(`${file}:${line}: ${message}`),
          `${e.message} (expected line ${line})`,
        );
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fixedSubset() takes the same n items in their order whatever the caller's seed", () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const a = fixedSubset(items, 10);
  assert.equal(a.length, 10);
  assert.deepEqual(a, fixedSubset(items, 10));
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(fixedSubset(items, 500), items);
  assert.throws(() => fixedSubset(items, -1), /take must be an integer ≥ 0/);
});

Deno.test("runProbe() scores each seed on each dev set as the kept model scores, averages them, and reads back", async () => {
  const out = await Deno.makeTempDir({ prefix: "nersota-probe-" });
  try {
    const recipe = tinyRecipe();
    const opts = {
      recipe,
      recipeJson: {},
      encoder: "random",
      out,
      threads: 1,
      quiet: true,
      keepModels: true,
      log: () => {},
    };
    const r = (await runProbe(opts))!;
    assert.deepEqual(r.seeds.map((s) => s.seed), [1, 2]);
    const dev = (await readDataset(fixture("dev.tsv"), "klue")).examples;
    for (const s of r.seeds) {
      assert.equal(s.steps, 6); // 20 sentences / 8 = 3 steps × 2 epochs
      const { report } = await evaluateModelFolder(join(out, `seed-${s.seed}`), dev, { threads: 1 });
      assert.equal(s.dev.dev.macro_f1, report.macro.f1);
      assert.equal(s.dev.dev.sentences, dev.length);
    }
    for (const name of ["train", "dev"]) {
      assert.equal(
        r.mean[name].macro_f1,
        (r.seeds[0].dev[name].macro_f1 + r.seeds[1].dev[name].macro_f1) / 2,
      );
    }
    // The two seeds start from different weights and batches: their fine-tuning differs.
    const loss = async (
      seed: number,
    ) => (await Deno.readTextFile(join(out, `seed-${seed}`, "metrics.jsonl")));
    assert.notEqual(await loss(1), await loss(2));
    const saved = JSON.parse(await Deno.readTextFile(join(out, "probe.json")));
    assert.deepEqual(saved.mean, r.mean);
    // Again: nothing is trained (seed.json is read back), a dev set added later is scored on the kept model.
    const before = await loss(1);
    recipe.dev.again = recipe.dev.dev;
    const again = (await runProbe({ ...opts, keepModels: false }))!;
    assert.equal(await loss(1), before);
    assert.equal(again.mean.again.macro_f1, again.mean.dev.macro_f1);
    await assert.rejects(Deno.stat(join(out, "seed-1", "inference.onnx")));
    recipe.dev.late = recipe.dev.dev;
    await assert.rejects(runProbe(opts), /has no scores on late and its model was not kept/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("probeCurve() probes kept pretraining checkpoints into curve.jsonl with tokens and CPU hours", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "nersota-curve-" });
  try {
    const run = await tinyPretrainRun(tmp);
    const ckpts = await listCheckpoints(join(run, "checkpoints"));
    assert.deepEqual(ckpts.map((c) => c.step), [2, 4]); // keep 1, but step 2 is a multiple of keep_checkpoint_every
    const enc = await loadCheckpointEncoder(ckpts[0].path, fixture("vocab.txt"));
    assert.ok(
      Object.keys(enc.weights).every((n) => n.startsWith("electra.")),
      Object.keys(enc.weights).join(),
    );

    const recipe = tinyRecipe({
      seeds: [1],
      finetune: { num_train_epochs: 1, batch_size: 8, max_seq_length: 64, patience: 0 },
    });
    const baseline = (await runProbe({
      recipe,
      recipeJson: {},
      encoder: "random",
      out: join(tmp, "random"),
      threads: 1,
      quiet: true,
      log: () => {},
    }))!;
    const probed: number[] = [];
    const log = (m: string) => {
      const step = /^probe: checkpoint step (\d+) /.exec(m);
      if (step) probed.push(Number(step[1]));
    };
    const points = await probeCurve({
      recipe,
      recipeJson: {},
      run,
      out: join(tmp, "curve"),
      baseline: join(tmp, "random", "probe.json"),
      threads: 1,
      quiet: true,
      log,
    });
    assert.deepEqual(probed, [4, 2]); // the run's last checkpoint first
    assert.deepEqual(points.map((p) => p.step), [0, 2, 4]);
    assert.deepEqual(points.map((p) => p.tokens), [0, 2 * 4 * 32, 4 * 4 * 32]);
    assert.equal(points[0].mean.dev.macro_f1, baseline.mean.dev.macro_f1);
    assert.ok(points[1].cpu_hours! > 0 && points[2].cpu_hours! > points[1].cpu_hours!);
    assert.equal(points[2].cpu_hours, points[2].hours); // one thread
    const lines = (await Deno.readTextFile(join(tmp, "curve", "curve.jsonl"))).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(lines.map((l) => l.step), [0, 2, 4]);
    assert.equal(lines[1].macro_f1_by_seed.dev.length, 1);
    // With --every 3 neither step is a multiple, but step 4 ends the run's schedule: its final encoder is probed.
    probed.length = 0;
    const sparse = await probeCurve({
      recipe,
      recipeJson: {},
      run,
      out: join(tmp, "curve-every-3"),
      every: 3,
      threads: 1,
      quiet: true,
      log,
    });
    assert.deepEqual(probed, [4]);
    assert.deepEqual(sparse.map((p) => p.step), [4]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno task probe: usage errors exit 2", async () => {
  assert.equal(await main(["--encoder", "random"]), 2);
  assert.equal(await main(["--encoder", "random", "--curve", "x", "--out", "y"]), 2);
  assert.equal(await main(["--bogus"]), 2);
});

Deno.test("configs/probe/probe.json and configs/pretrain/*.json parse; the pretraining model is the default model's shape", async () => {
  const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
  const probe = await readProbeRecipe(root("configs/probe/probe.json"), "/runs");
  assert.equal(probe.vocab, "/runs/vocab.txt");
  assert.deepEqual(Object.keys(probe.dev), ["klue", "colloquial"]);
  assert.deepEqual(probe.seeds, [1, 2]);
  const model = configFromHf(JSON.parse(await Deno.readTextFile(root("configs/default/model.json"))));
  const objectives: string[] = [];
  for await (const e of Deno.readDir(root("configs/pretrain"))) {
    const c = await readPretrainConfig(root(`configs/pretrain/${e.name}`));
    assert.deepEqual(c.model, model, e.name);
    assert.equal(c.train.batchSize * c.train.accumulate, 128, e.name);
    objectives.push(c.train.objective);
  }
  assert.deepEqual(objectives.sort(), ["electra", "mlm", "mlm"]);
});

Deno.test("curvePoint() takes a checkpoint's CPU seconds where it keeps them, else its seconds × the run's threads", () => {
  const probe = {
    format: "nersota-probe/1" as const,
    encoder: "e",
    recipe: {},
    seeds: [1, 2].map((seed) => ({
      seed,
      seconds: 1,
      steps: 1,
      dev: { klue: { macro_f1: seed / 10, micro_f1: 0, precision: 0, recall: 0, sentences: 1 } },
    })),
    mean: { klue: { macro_f1: 0.15, micro_f1: 0 } },
  };
  const kept = curvePoint(300, { tokensSeen: 10, trainSeconds: 3600, cpuSeconds: 5400 }, 2, probe);
  assert.deepEqual([kept.tokens, kept.hours, kept.cpu_hours], [10, 1, 1.5]);
  assert.deepEqual(kept.macro_f1_by_seed, { klue: [0.1, 0.2] });
  assert.equal(curvePoint(300, { tokensSeen: 10, trainSeconds: 3600 }, 2, probe).cpu_hours, 2);
  assert.equal(curvePoint(300, { tokensSeen: 10, trainSeconds: 3600 }, null, probe).cpu_hours, null);
});
