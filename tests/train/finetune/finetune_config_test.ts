import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import {
  effectiveStride,
  FINETUNE_DEFAULTS,
  FINETUNE_SETTINGS,
  finetuneConfigFromJson,
  finetuneConfigToJson,
  finetuneLr,
  readFinetuneConfig,
  softmaxDecoding,
} from "../../../train/finetune/finetune_config.ts";
import { withTempDir } from "../temp_dir.ts";

Deno.test("finetuneConfigFromJson(): snake_case keys over the defaults, unknown keys and bad values named", () => {
  const c = finetuneConfigFromJson(
    { learning_rate: 5e-4, num_train_epochs: 10, decoding: "argmax" },
    "ft.json",
  );
  assert.equal(c.learningRate, 5e-4);
  assert.equal(c.epochs, 10);
  assert.equal(c.decoding, "argmax");
  assert.equal(c.batchSize, FINETUNE_DEFAULTS.batchSize);
  assert.equal(FINETUNE_DEFAULTS.decoding, "bio-viterbi");
  assert.throws(
    () => finetuneConfigFromJson({ learning_rat: 1 }, "ft.json"),
    /ft\.json: unknown key "learning_rat"/,
  );
  assert.throws(() => finetuneConfigFromJson({ decoding: "beam" }, "ft.json"), /decoding/);
  assert.throws(
    () => finetuneConfigFromJson({ num_train_epochs: 3, stop_after_epochs: 4 }, "ft.json"),
    /stop_after_epochs \(4\) must not exceed num_train_epochs \(3\)/,
  );
  assert.throws(
    () => finetuneConfigFromJson({ crf: true, label_mode: "first-subword" }, "ft.json"),
    /all-subwords/,
  );
  // What run.json stores reads back as the same config (resume), with every key present.
  assert.deepEqual(finetuneConfigFromJson(finetuneConfigToJson(c)), c);
  assert.equal(finetuneConfigToJson(c).decoding, "argmax");
});

Deno.test("softmaxDecoding(): bio-viterbi for all-subwords models only", () => {
  assert.equal(softmaxDecoding({ decoding: "bio-viterbi", labelMode: "all-subwords" }), "bio-viterbi");
  assert.equal(softmaxDecoding({ decoding: "bio-viterbi", labelMode: "first-subword" }), "argmax");
  assert.equal(softmaxDecoding({ decoding: "argmax", labelMode: "all-subwords" }), "argmax");
});

Deno.test("finetuneLr() and effectiveStride() match hand-computed values", () => {
  const c = { learningRate: 1e-3, warmupSteps: 10 };
  assert.equal(finetuneLr(0, 110, c), 0);
  assert.equal(finetuneLr(5, 110, c), 5e-4);
  assert.equal(finetuneLr(10, 110, c), 1e-3);
  assert.ok(Math.abs(finetuneLr(60, 110, c) - 5e-4) < 1e-15); // (110 − 60) / (110 − 10)
  assert.equal(finetuneLr(110, 110, c), 0);
  assert.equal(effectiveStride({ ...FINETUNE_DEFAULTS, stride: -1, maxSeqLength: 128 }), 31); // ⌊126 / 4⌋
  assert.equal(effectiveStride({ ...FINETUNE_DEFAULTS, stride: 8, maxSeqLength: 128 }), 8);
});

Deno.test("deno task finetune's training flags map to their settings (every flag of the hand-written mapping)", () => {
  const flags = (args: string[]) =>
    FINETUNE_SETTINGS.toJson(
      FINETUNE_SETTINGS.fromFlags(parseArgs({ args, options: FINETUNE_SETTINGS.parseArgsOptions() }).values),
    );
  const args = [
    ["--epochs", "3"],
    ["--batch-size", "8"],
    ["--lr", "1e-3"],
    ["--max-seq-len", "64"],
    ["--stride", "4"],
    ["--max-steps", "100"],
    ["--stop-after-epochs", "2"],
    ["--warmup", "10"],
    ["--weight-decay", "0.01"],
    ["--adam-epsilon", "1e-6"],
    ["--max-grad-norm", "0.5"],
    ["--eval-every", "20"],
    ["--patience", "2"],
    ["--seed", "7"],
    ["--metric", "macro_f1"],
    ["--scheme", "bioes"],
    ["--label-mode", "first-subword"],
    ["--decoding", "argmax"],
    ["--no-bucketing"],
    ["--types", "PS,LC"],
  ].flat();
  const json = flags(args);
  assert.deepEqual(json, {
    learning_rate: 1e-3,
    batch_size: 8,
    max_seq_length: 64,
    stride: 4,
    num_train_epochs: 3,
    max_steps: 100,
    stop_after_epochs: 2,
    warmup_steps: 10,
    adam_epsilon: 1e-6,
    weight_decay: 0.01,
    max_grad_norm: 0.5,
    eval_every: 20,
    patience: 2,
    metric: "macro_f1",
    bucket_batches: 0,
    seed: 7,
    scheme: "BIOES",
    label_mode: "first-subword",
    types: ["PS", "LC"],
    decoding: "argmax",
  });
  assert.deepEqual(flags(["--crf"]), { crf: true });
  // Flags override a config over the defaults, through the same checks.
  const c = finetuneConfigFromJson(flags(["--crf"]), "command-line options", FINETUNE_DEFAULTS);
  assert.equal(c.crf, true);
  assert.throws(() => flags(["--epochs", "two"]), /--epochs must be a positive integer, got "two"/);
  assert.throws(
    () => finetuneConfigFromJson(flags(["--crf", "--label-mode", "first-subword"]), "command-line options"),
    /command-line options: crf needs label_mode "all-subwords"/,
  );
});

Deno.test("readFinetuneConfig(): the file's object and config; errors about a key name FILE:LINE", async () => {
  await withTempDir("nersota-ftc-", async (dir) => {
    const file = `${dir}/ft.json`;
    await Deno.writeTextFile(file, '{\n  "$comment": "x",\n  "num_train_epochs": 3\n}\n');
    const { json, config } = await readFinetuneConfig(file);
    assert.deepEqual(json, { $comment: "x", num_train_epochs: 3 });
    assert.equal(config.epochs, 3);
    await Deno.writeTextFile(file, '{\n  "num_train_epochs": 3,\n  "scheme": "BIOX"\n}\n');
    await assert.rejects(() => readFinetuneConfig(file), {
      message: new RegExp(`^${file}:3: scheme must be`),
    });
    await Deno.writeTextFile(file, '{"num_train_epochs": 3, "optimiser": "sgd"}');
    await assert.rejects(() => readFinetuneConfig(file), {
      message: new RegExp(`^${file}:1: unknown key "optimiser"`),
    });
  });
});
