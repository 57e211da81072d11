/**
 * Every settings file in configs/ parses with the parser its command uses ($comment keys allowed), and a few of
 * their values are pinned: what main's hand-written parsers read from them, checked file by file when the
 * settings tables replaced those parsers, so that a change to a table that changes a config shows here.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { configFromHf } from "../onnx/electra/config.ts";
import { finetuneConfigFromJson } from "../train/finetune/finetune_config.ts";
import { presetConfig, PRESETS, readPretrainConfig } from "../train/pretrain/pretrain_config.ts";

const root = new URL("../configs/", import.meta.url);

/** Every .json file under configs/, relative to it. */
function configFiles(dir = root, prefix = ""): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory
      ? configFiles(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`)
      : e.name.endsWith(".json")
      ? [`${prefix}${e.name}`]
      : []
  ).sort();
}

Deno.test("configs/: every settings file parses; pinned values", async () => {
  const read = (name: string) => JSON.parse(Deno.readTextFileSync(new URL(name, root)));
  const parsed: Record<string, unknown> = {};
  for (const name of configFiles()) {
    const json = read(name);
    if (json.model && json.train && !json.finetune) {
      parsed[name] = await readPretrainConfig(fileURLToPath(new URL(name, root)));
    } else if ("vocab_size" in json) parsed[name] = configFromHf(json, name);
    else if ("num_train_epochs" in json) parsed[name] = finetuneConfigFromJson(json, name);
    else if (json.finetune) parsed[name] = finetuneConfigFromJson(json.finetune, `${name}: finetune`);
  }
  // Every file is one of the kinds (a file no parser takes would otherwise go unchecked); card.json is the
  // model card's spec (tests/default_configs_test.ts).
  assert.deepEqual(configFiles().filter((f) => !(f in parsed)), ["default/card.json"]);
  const get = (name: string) => parsed[name] as Record<string, Record<string, unknown>>;
  const ft = parsed["default/finetune.json"] as Record<string, unknown>;
  assert.deepEqual(
    [
      ft.learningRate,
      ft.epochs,
      ft.warmupSteps,
      ft.weightDecay,
      ft.metric,
      ft.patience,
      ft.batchSize,
      ft.stride,
    ],
    [5e-4, 10, 500, 0.01, "macro_f1", 0, 32, -1],
  );
  const model = parsed["default/model.json"] as Record<string, unknown>;
  assert.deepEqual(
    [model.vocabSize, model.hiddenSize, model.numHiddenLayers, model.classifierDropout, model.extras],
    [8000, 256, 4, null, { model_type: "electra" }],
  );
  const mlm = get("pretrain/mlm40-wwm.json");
  assert.deepEqual([mlm.train.objective, mlm.train.wholeWordMask, mlm.train.maskProb], ["mlm", true, 0.4]);
  const small = get("small_config.json");
  assert.deepEqual(
    [
      small.model.numHiddenLayers,
      small.generator.hiddenSize,
      small.train.learningRate,
      small.train.batchSize,
    ],
    [12, 64, 5e-4, 64],
  );
  const tiny = get("tiny_config.json");
  assert.deepEqual(
    [tiny.model.vocabSize, tiny.model.hiddenSize, tiny.generator.hiddenSize, tiny.train.trainSteps],
    [128, 64, 32, 300],
  );
  const probe = parsed["probe/probe.json"] as Record<string, unknown>;
  assert.equal(probe.patience, 0);
});

Deno.test("presets are configs/ files: tiny (and debug, its old name) is configs/tiny_config.json", async () => {
  const tiny = await readPretrainConfig(fileURLToPath(new URL("tiny_config.json", root)));
  assert.deepEqual(await presetConfig("tiny"), tiny);
  assert.deepEqual(await presetConfig("debug", { trainSteps: 4 }), {
    ...tiny,
    train: { ...tiny.train, trainSteps: 4 },
  });
  for (const name of Object.keys(PRESETS)) await presetConfig(name);
  await assert.rejects(presetConfig("huge"), /Unknown preset "huge" \(known: tiny, debug, small\)/);
});
