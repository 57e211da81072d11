import assert from "node:assert/strict";
import {
  effectiveStride,
  FINETUNE_DEFAULTS,
  finetuneConfigFromJson,
  finetuneConfigToJson,
  finetuneLr,
  softmaxDecoding,
} from "../../../train/finetune/finetune_config.ts";

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
