import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { TRAIN_SETTINGS } from "../../../train/pretrain/pretrain_config.ts";

Deno.test("deno task pretrain's training flags map to the train section's settings", () => {
  const values = parseArgs({
    args: ["--steps", "4", "--batch-size", "8", "--accumulate", "2", "--eval-every", "0", "--save-every", "2"]
      .concat(["--keep", "3", "--seed", "1"]),
    options: TRAIN_SETTINGS.parseArgsOptions(),
  }).values;
  assert.deepEqual(TRAIN_SETTINGS.fromFlags(values), {
    trainSteps: 4,
    batchSize: 8,
    accumulate: 2,
    seed: 1,
    evalEvery: 0,
    saveEvery: 2,
    keepCheckpoints: 3,
  });
});
