import assert from "node:assert/strict";
import { join } from "node:path";
import { countedSources, parseSpec, writeModelCard } from "../../../train/release/model_card_files.ts";
import { report } from "./card_report.ts";

Deno.test("parseSpec() rejects unknown keys and wrong types, naming them", () => {
  const ok = {
    title: "t",
    hardware: "h",
    evals: [{ name: "n", description: "d", report: "r.json" }],
    recipe: ["x"],
  };
  assert.equal(parseSpec(ok, "card.json").title, "t");
  assert.throws(
    () => parseSpec({ ...ok, titel: "t" }, "card.json"),
    /card\.json: "titel" must be absent \(unknown key\)/,
  );
  assert.throws(
    () => parseSpec({ ...ok, evals: [{ name: "n" }] }, "card.json"),
    /"evals\[0\]\.description" must be a string/,
  );
  assert.throws(() => parseSpec({ ...ok, recipe: "x" }, "card.json"), /"recipe" must be an array of strings/);
  assert.deepEqual(parseSpec({ ...ok, data_notes: ["a", "b"] }, "card.json").dataNotes, ["a", "b"]);
  assert.throws(
    () => parseSpec({ ...ok, data_notes: [1] }, "card.json"),
    /"data_notes" must be an array of strings/,
  );
  assert.throws(() => parseSpec({ ...ok, licence: 1 }, "card.json"), /"licence" must be a string/);
  assert.throws(
    () => parseSpec({ ...ok, data: [{ data: "x" }] }, "card.json"),
    /"data\[0\]\.use" must be a string/,
  );
  assert.throws(
    () => parseSpec({ ...ok, training_notes: "x" }, "card.json"),
    /"training_notes" must be an array/,
  );
});

Deno.test("countedSources() counts an oversampled source once with its multiplicity", () => {
  const s = (path: string, map: string | null = null) => ({ path, format: "klue", map });
  assert.deepEqual(
    countedSources([s("/r/klue/train.tsv"), s("/r/klue/train.tsv"), s("/r/kmou/train.tsv", "kmou-klue")]),
    [
      "klue klue/train.tsv ×2",
      "klue kmou/train.tsv (types mapped kmou-klue)",
    ],
  );
});

Deno.test("writeModelCard() writes README.md into the model folder from the runs' files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = join(dir, "model"), pre = join(dir, "pre"), ft = join(dir, "ft");
    for (const d of [model, pre, ft]) await Deno.mkdir(d);
    for (const f of ["config.json", "inference.onnx", "nersota.json", "vocab.txt"]) {
      await Deno.copyFile(`fixtures/ner-tiny/${f}`, join(model, f));
    }
    await Deno.writeTextFile(
      join(pre, "run.json"),
      JSON.stringify({
        model: { num_hidden_layers: 2, hidden_size: 32 },
        train: { learning_rate: 0.001, num_train_steps: 20 },
      }),
    );
    await Deno.writeTextFile(
      join(pre, "metrics.jsonl"),
      `{"type":"train","step":10,"tokens":1000,"tokens_per_s":100}\n{"type":"eval","step":11,"discriminator_auc":0.5}\n`,
    );
    await Deno.writeTextFile(
      join(ft, "report.json"),
      JSON.stringify({ config: { epochs: 1 }, trainSentences: 9, best: { step: 3 } }),
    );
    await Deno.writeTextFile(
      join(ft, "metrics.jsonl"),
      `{"type":"train","step":3,"window_tokens":90,"tokens_per_s":9,"seconds":10}\n`,
    );
    await Deno.writeTextFile(join(dir, "eval.json"), JSON.stringify(report));
    const spec = {
      title: "Tiny",
      hardware: "cpu",
      evals: [{ name: "Test", description: "six sentences", report: "eval.json" }],
      recipe: ["run it"],
    };
    await Deno.writeTextFile(join(dir, "card.json"), JSON.stringify(spec));
    const files = { spec: join(dir, "card.json"), pretrain: pre, finetune: [ft], model };
    assert.equal(await writeModelCard(files), join(model, "README.md"));
    const card = await Deno.readTextFile(join(model, "README.md"));
    assert.match(card, /^# Tiny\n/);
    assert.match(card, /\| pretraining \| 10 \| 1,000 \| 0\.00 \| cpu \|/);
    assert.match(card, /Pretraining \(the encoder of update 11, before the end of this 20-update schedule\)/);
    assert.match(card, /\| fine-tuning \| 3 \| 90 \| 0\.00 \| cpu \|/);
    assert.match(card, /\| \*\*Test\*\* \| 6 \| 14 \| 80\.00 \| 70\.00 \|/);
    assert.match(
      card,
      /ELECTRA discriminator, 2 layers, hidden 32,/,
      "architecture from the pretraining run",
    );
    // Without --pretrain: no pretraining row, the architecture from the model's config.json, random start said.
    await writeModelCard({ ...files, pretrain: undefined });
    const scratch = await Deno.readTextFile(join(model, "README.md"));
    const shipped = JSON.parse(await Deno.readTextFile(join(model, "config.json")));
    assert.ok(!scratch.includes("| pretraining |"), "no pretraining compute row");
    assert.match(scratch, /No pretraining: the encoder starts from random weights/);
    assert.match(scratch, /fine-tuning of an ELECTRA encoder from random weights/);
    assert.ok(!scratch.includes("pretraining text"), "the data table does not claim a pretraining use");
    assert.match(
      scratch,
      new RegExp(
        `ELECTRA encoder, ${shipped.num_hidden_layers} layers, hidden ${shipped.hidden_size},`,
      ),
    );
    assert.match(scratch, /\| fine-tuning \| 3 \| 90 \| 0\.00 \| cpu \|/);
    await Deno.writeTextFile(
      join(dir, "card.json"),
      JSON.stringify({ ...spec, evals: [{ ...spec.evals[0], report: "missing.json" }] }),
    );
    await assert.rejects(
      writeModelCard(files),
      /Cannot read evaluation report ".*missing\.json"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
