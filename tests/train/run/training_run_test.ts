// The training-run skeleton both loops share (train/run/training_run.ts): statistics windows, the stop request,
// resume, and the sessions released however a loop ends, a loop that throws mid-run included.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { finetune } from "../../../train/finetune/finetune.ts";
import { FINETUNE_DEFAULTS } from "../../../train/finetune/finetune_config.ts";
import { pretrain } from "../../../train/pretrain/pretrain.ts";
import { readPretrainConfig, withGenerator } from "../../../train/pretrain/pretrain_config.ts";
import { buildPretrainingData } from "../../../train/pretrain_data/build_data.ts";
import { saveCheckpoint } from "../../../train/run/checkpoints.ts";
import { readMetrics } from "../../../train/run/metrics_log.ts";
import { type RunKind, type RunState, StatsWindow, TrainingRun } from "../../../train/run/training_run.ts";
import { withTempDir } from "../temp_dir.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));
const pretrainFixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/pretrain/${name}`, import.meta.url));
const TINY = fileURLToPath(new URL("../../../configs/tiny_config.json", import.meta.url));

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("nersota-training-run-", fn);

interface TestState extends RunState {
  cursor: number;
}

const KIND: RunKind<TestState, { lr: number }> = {
  format: "test/1",
  what: "test",
  resumedConfig: (saved) => saved.config as { lr: number },
};

/** A resource that records its release in `log` (and fails it when asked). */
function resource(name: string, log: string[], fail = false) {
  return {
    release() {
      log.push(name);
      return fail ? Promise.reject(new Error(`${name} failed`)) : Promise.resolve();
    },
  };
}

/** An AbortSignal whose `aborted` throws from its `n`-th read on: a failure injected into a loop mid-run. */
function failingSignal(n: number): AbortSignal {
  let reads = 0;
  return {
    get aborted() {
      if (++reads >= n) throw new Error("injected failure");
      return false;
    },
  } as AbortSignal;
}

/** Counts the ONNX Runtime sessions opened and released while `fn` runs (a spy on onnxruntime-node). */
async function countSessions(fn: () => Promise<void>): Promise<{ opened: number; released: number }> {
  const module = await import("npm:onnxruntime-node@1.30.0");
  // deno-lint-ignore no-explicit-any
  const Session: any = (module.default?.InferenceSession ? module.default : module).InferenceSession;
  const create = Session.create;
  const counts = { opened: 0, released: 0 };
  // deno-lint-ignore no-explicit-any
  Session.create = async (...args: any[]) => {
    const session = await create.apply(Session, args);
    counts.opened++;
    const release = session.release.bind(session);
    session.release = async () => {
      counts.released++;
      await release();
    };
    return session;
  };
  try {
    await fn();
  } finally {
    Session.create = create;
  }
  return counts;
}

Deno.test("StatsWindow: means of the updates since the last take, tokens per second, then a fresh window", () => {
  const w = new StatsWindow(1000);
  w.add(2, 1, 100);
  w.add(4, 3, 300);
  assert.deepEqual(w.take(3000), { loss: 3, gradNorm: 2, tokens: 400, seconds: 2, tokensPerSecond: 200 });
  w.add(1, 5, 50);
  assert.deepEqual(w.take(3500), { loss: 1, gradNorm: 5, tokens: 50, seconds: 0.5, tokensPerSecond: 100 });
});

Deno.test("TrainingRun: a fresh run writes run.json and metrics; stopAfter and the signal stop it", async () => {
  await withDir(async (dir) => {
    const out = join(dir, "run");
    const abort = new AbortController();
    {
      await using run = await TrainingRun.open({ config: { lr: 1 }, out, quiet: true, stopAfter: 2 }, KIND);
      assert.equal(run.resumed, undefined);
      assert.equal(await run.recorded(), undefined);
      await run.begin({ lr: 1 });
      await run.write({ type: "train", step: 1 });
      assert.equal(run.stopRequested(1), false);
      assert.equal(run.stopRequested(2), true);
    }
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(out, "run.json"))), { lr: 1 });
    assert.deepEqual(await readMetrics(join(out, "metrics.jsonl")), [{ type: "train", step: 1 }]);
    await using again = await TrainingRun.open(
      { config: { lr: 1 }, out: join(dir, "other"), quiet: true, signal: abort.signal },
      KIND,
    );
    assert.equal(again.stopRequested(100), false);
    abort.abort();
    assert.equal(again.stopRequested(100), true);
  });
});

Deno.test("TrainingRun: a resume continues the newest checkpoint under its recorded config and cuts the metrics back", async () => {
  await withDir(async (dir) => {
    const out = join(dir, "run");
    const t = () => ({ dtype: "float32" as const, dims: [1], data: Float32Array.of(1) });
    const saved: TestState = { format: "test/1", config: { lr: 0.5 }, cursor: 7 };
    await saveCheckpoint(join(out, "checkpoints"), {
      params: { w: t() },
      m: { w: t() },
      v: { w: t() },
      step: 3,
      config: saved,
    }, 2);
    await Deno.writeTextFile(join(out, "run.json"), JSON.stringify({ lr: 0.5 }));
    await Deno.writeTextFile(
      join(out, "metrics.jsonl"),
      [2, 3, 4].map((step) => JSON.stringify({ type: "train", step }) + "\n").join(""),
    );
    {
      await using run = await TrainingRun.open({ config: { lr: 1 }, out, quiet: true, resume: true }, KIND);
      assert.deepEqual(run.config, { lr: 0.5 });
      assert.equal(run.firstStep, 3);
      assert.deepEqual(run.resumed?.saved, saved);
      assert.deepEqual(await run.recorded(), { lr: 0.5 });
      await run.begin({ lr: 0.5 });
    }
    assert.deepEqual((await readMetrics(join(out, "metrics.jsonl"))).map((m) => m.step), [2, 3]);
    const other: RunKind<TestState, { lr: number }> = { ...KIND, format: "other/1", what: "other" };
    await assert.rejects(
      () => TrainingRun.open({ config: { lr: 1 }, out, quiet: true, resume: true }, other),
      /step-00000003\.safetensors" is not a other checkpoint/,
    );
  });
});

Deno.test("stopOnSignal(): the first SIGINT aborts the signal and says so, the second exits with 130", async () => {
  const module = new URL("../../../train/run/training_run.ts", import.meta.url).href;
  const script = `import { stopOnSignal } from "${module}";
    const signal = stopOnSignal("test");
    Deno.kill(Deno.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 300));
    console.log("aborted", signal.aborted);
    Deno.kill(Deno.pid, "SIGINT");
    await new Promise((r) => setTimeout(r, 10000));
    console.log("still running");`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: fileURLToPath(new URL("../../../", import.meta.url)),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout), "aborted true\n");
  assert.match(new TextDecoder().decode(out.stderr), /test: SIGINT: stopping after this step/);
  assert.equal(out.code, 130);
});

Deno.test("TrainingRun: disposal releases every resource in order, even when one release fails", async () => {
  await withDir(async (dir) => {
    const log: string[] = [];
    const use = async () => {
      await using run = await TrainingRun.open(
        { config: { lr: 1 }, out: join(dir, "run"), quiet: true },
        KIND,
      );
      run.own(resource("runner", log));
      run.own(resource("evaluator", log, true));
      run.own(resource("accumulate", log));
    };
    await assert.rejects(use, /evaluator failed/);
    assert.deepEqual(log, ["runner", "evaluator", "accumulate"]);
  });
});

Deno.test("finetune() that throws mid-run releases every session it opened and closes metrics.jsonl", async () => {
  await withDir(async (dir) => {
    const counts = await countSessions(async () => {
      await assert.rejects(
        () =>
          finetune({
            config: {
              ...FINETUNE_DEFAULTS,
              batchSize: 8,
              maxSeqLength: 64,
              maxSteps: 6,
              patience: 0,
              types: [],
            },
            model: { kind: "random", config: fixture("config.json"), vocab: fixture("vocab.txt") },
            train: [{ path: fixture("train.tsv"), format: "klue" }],
            dev: [{ path: fixture("dev.tsv"), format: "klue" }],
            out: join(dir, "run"),
            threads: 1,
            quiet: true,
            signal: failingSignal(3),
          }),
        /injected failure/,
      );
    });
    // The train step and the dev evaluation; the test's resource sanitizer also fails on a file left open.
    assert.equal(counts.opened, 2);
    assert.equal(counts.released, counts.opened);
    // Two updates ran before the failure (the third read of the signal); no line is due before step 3.
    assert.deepEqual(await readMetrics(join(dir, "run", "metrics.jsonl")), []);
  });
});

Deno.test("pretrain() that throws mid-run releases every session it opened and closes metrics.jsonl", async () => {
  await withDir(async (dir) => {
    const data = join(dir, "shards");
    await buildPretrainingData({
      corpus: [pretrainFixture("corpus.txt")],
      vocabText: await Deno.readTextFile(pretrainFixture("vocab.txt")),
      outDir: data,
      maxSeqLength: 32,
      seed: 1,
    });
    const tiny = await readPretrainConfig(TINY);
    // With accumulation: the accumulation step is a session of its own.
    const config = withGenerator(tiny.model, {
      ...tiny.train,
      batchSize: 8,
      accumulate: 2,
      evalExamples: 16,
      logEvery: 1,
    });
    const counts = await countSessions(async () => {
      await assert.rejects(
        () =>
          pretrain({
            config,
            data,
            out: join(dir, "run"),
            threads: 1,
            quiet: true,
            signal: failingSignal(3),
          }),
        /injected failure/,
      );
    });
    // The provider probe, the train step, the accumulation step and the held-out evaluation.
    assert.equal(counts.opened, 4);
    assert.equal(counts.released, counts.opened);
    const metrics = await readMetrics(join(dir, "run", "metrics.jsonl"));
    assert.deepEqual(metrics.map((m) => [m.type, m.step]), [["eval", 0], ["train", 1], ["train", 2]]);
  });
});
