import assert from "node:assert/strict";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readPretrainConfig, TRAIN_SETTINGS } from "../../../train/pretrain/pretrain_config.ts";
import { withTempDir } from "../temp_dir.ts";

const TINY = await Deno.readTextFile(new URL("../../../configs/tiny_config.json", import.meta.url));

/** The 1-based line of the first line of `text` that contains `part`. */
function lineOf(text: string, part: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(part));
  assert.ok(i >= 0, part);
  return i + 1;
}

Deno.test("deno task pretrain's training flags map to the train section's settings", () => {
  const values = parseArgs({
    args: ["--steps", "4", "--batch-size", "8", "--accumulate", "2", "--eval-every", "0", "--save-every", "2"]
      .concat(["--keep", "3", "--seed", "1", "--lr", "1e-3"]),
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
    learningRate: 1e-3,
  });
  const bad = parseArgs({ args: ["--lr=-1"], options: TRAIN_SETTINGS.parseArgsOptions() }).values;
  assert.throws(() => TRAIN_SETTINGS.fromFlags(bad), /--lr must be a positive number, got "-1"/);
});

Deno.test("readPretrainConfig(): an error about a key of the file names FILE:LINE (model and train sections)", async () => {
  await withTempDir("nersota-cfgline-", async (dir) => {
    const file = join(dir, "c.json");
    // Each edit of configs/tiny_config.json, the text that ends up on the bad line, and the message.
    const cases: [string, string, string, string][] = [
      [
        '"learning_rate": 0.001',
        '"learning_rate": -1',
        '"learning_rate": -1',
        "train.learning_rate must be a positive number, got -1",
      ],
      ['"seed": 42', '"sed": 42', '"sed"', 'unknown key "train.sed" (did you mean "train.seed"?)'],
      [
        '"num_hidden_layers": 1',
        '"num_hidden_layers": 0',
        '"num_hidden_layers"',
        "num_hidden_layers must be",
      ],
      [
        '"hidden_act": "gelu"',
        '"hiden_act": "gelu"',
        '"hiden_act"',
        'unknown key "hiden_act" (did you mean "hidden_act"?)',
      ],
      [
        '"model_type": "electra"',
        '"model_type": "bert"',
        '"model_type"',
        'model_type is "bert", expected "electra"',
      ],
      ['"model": {', '"modle": 1, "model": {', '"modle"', 'unknown top-level key "modle"'],
    ];
    for (const [from, to, bad, message] of cases) {
      const text = TINY.replace(from, to);
      assert.notEqual(text, TINY, from);
      await Deno.writeTextFile(file, text);
      const line = lineOf(text, bad);
      await assert.rejects(() => readPretrainConfig(file), (e: Error) => {
        assert.ok(
          e.message.startsWith(`${file}:${line}: ${message}`),
          `${e.message} (expected line ${line})`,
        );
        return true;
      });
    }
    // Minified: every key is on line 1.
    await Deno.writeTextFile(file, JSON.stringify(JSON.parse(TINY.replace('"seed": 42', '"seed": -4'))));
    await assert.rejects(() => readPretrainConfig(file), {
      message: new RegExp(`^${file}:1: train\\.seed must`),
    });
    // A relation between settings is not one key's: the file without a line.
    await Deno.writeTextFile(file, TINY.replace('"num_attention_heads": 2', '"num_attention_heads": 3'));
    await assert.rejects(() => readPretrainConfig(file), {
      message: `"${file}: model": hidden_size 64 is not a multiple of num_attention_heads 3`,
    });
    // JSON syntax: line and column.
    const broken = TINY.replace('"seed": 42,', '"seed": 42');
    await Deno.writeTextFile(file, broken);
    await assert.rejects(() => readPretrainConfig(file), {
      message: `${file}:${
        lineOf(broken, '"seed"') + 1
      }:5: not valid JSON (config): expected ',' or '}', found '"'`,
    });
  });
});
