/**
 * The default model's committed configs (configs/default/) parse with the same checks the commands run, and the
 * from-scratch start (model.json) has the architecture of the pretraining configs, so that the recipe's two starts
 * (INIT=random, INIT=pretrained) train the same model shape.
 */
import assert from "node:assert/strict";
import { configFromHf } from "../onnx/electra/config.ts";
import { finetuneConfigFromJson } from "../train/finetune/finetune_config.ts";
import { parseSpec } from "../train/release/model_card_files.ts";
import { pretrainConfigFromJson } from "../train/pretrain/pretrain_config.ts";

const read = async (name: string) =>
  JSON.parse(await Deno.readTextFile(new URL(`../configs/default/${name}`, import.meta.url)));

Deno.test("configs/default: every file parses, and model.json is the pretraining configs' architecture", async () => {
  const model = configFromHf(await read("model.json"), "model.json");
  for (const name of ["pretrain.json", "pretrain-10k.json"]) {
    const pre = pretrainConfigFromJson(await read(name), name);
    assert.deepEqual(pre.model, model, `${name}'s model section differs from model.json`);
  }
  for (const name of ["finetune.json", "finetune-20.json", "adapt.json"]) {
    const c = finetuneConfigFromJson(await read(name), name);
    assert.deepEqual(c.types, ["PS", "LC", "OG", "DT", "TI", "QT"], `${name} learns KLUE's six types`);
  }
  const card = parseSpec(await read("card.json"), "card.json");
  assert.ok(card.evals.some((e) => e.name === "KLUE test"), "the card reports the KLUE test split");
});
