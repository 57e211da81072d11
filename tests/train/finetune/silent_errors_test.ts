// Problems that used to pass silently are reported with file and line (issue 22, item 5).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";
import { finetune, type FinetuneOptions } from "../../../train/finetune/finetune.ts";
import { main as finetuneCli } from "../../../cli/finetune.ts";
import { FINETUNE_DEFAULTS } from "../../../train/finetune/finetune_config.ts";
import { listCheckpoints } from "../../../train/run/checkpoints.ts";
import { withTempDir } from "../temp_dir.ts";

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../fixtures/finetune/${name}`, import.meta.url));

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir("nersota-silent-", fn);

Deno.test("training readers: invalid UTF-8 is an error naming the line; an empty sentence is a warning", async () => {
  await withDir(async (dir) => {
    const enc = new TextEncoder();
    const bad = join(dir, "bad.tsv");
    await Deno.writeFile(
      bad,
      new Uint8Array([
        ...enc.encode("## s1\t<민수:PS>\n민\tB-PS\n수\tI-PS\n\n## s2\tx\n"),
        0xff,
        0x09,
        0x4f,
        0x0a,
      ]),
    );
    await assert.rejects(
      () => readDataset(bad, "klue"),
      /Cannot parse line 6 of ".*bad\.tsv": not valid UTF-8/,
    );
    const empty = join(dir, "empty.tsv");
    await Deno.writeTextFile(empty, "## 주석 : comment\n## s1\t\n\n## s2\t가\n가\tO\n");
    const { examples, warnings } = await readDataset(empty, "klue");
    assert.equal(examples.length, 1);
    assert.deepEqual(warnings.map((w) => [w.line, w.code]), [[2, "empty-sentence"]]);
  });
});

Deno.test("finetune --train-config, --data and --config: JSON errors name the file", async () => {
  await withDir(async (dir) => {
    const broken = join(dir, "broken.json");
    await Deno.writeTextFile(broken, "{ not json");
    const base = ["--train", `klue:${fixture("train.tsv")}`, "--out", join(dir, "out"), "--quiet"];
    const model = ["--init", "random", "--config", fixture("config.json"), "--vocab", fixture("vocab.txt")];
    await assert.rejects(
      () => finetuneCli([...model, ...base, "--train-config", broken]),
      /broken\.json:1:3: not valid JSON \(--train-config\): expected a '"'-quoted key or '}', found 'n'/,
    );
    await assert.rejects(
      () => finetuneCli([...model, "--data", broken, "--out", join(dir, "out")]),
      /broken\.json:1:3: not valid JSON \(--data\): expected a '"'-quoted key or '}', found 'n'/,
    );
    await assert.rejects(
      () => finetuneCli(["--init", "random", "--config", broken, "--vocab", fixture("vocab.txt"), ...base]),
      /broken\.json:1:3: not valid JSON \(--config\): expected a '"'-quoted key or '}', found 'n'/,
    );
  });
});

Deno.test("finetune --train-config and --config: a bad value or an unknown key names FILE:LINE", async () => {
  await withDir(async (dir) => {
    const ft = join(dir, "ft.json");
    const base = ["--train", `klue:${fixture("train.tsv")}`, "--out", join(dir, "out"), "--quiet"];
    const model = ["--init", "random", "--config", fixture("config.json"), "--vocab", fixture("vocab.txt")];
    await Deno.writeTextFile(ft, '{\n  "num_train_epochs": 2,\n  "learning_rate": "fast"\n}\n');
    await assert.rejects(() => finetuneCli([...model, ...base, "--train-config", ft]), {
      message: `${ft}:3: learning_rate must be a positive number, got "fast"`,
    });
    await Deno.writeTextFile(ft, '{\n  "num_train_epochs": 2,\n\n  "batchsize": 8\n}\n');
    await assert.rejects(() => finetuneCli([...model, ...base, "--train-config", ft]), {
      message: `${ft}:4: unknown key "batchsize" (did you mean "batch_size"?)`,
    });
    const config = join(dir, "config.json");
    const text = (await Deno.readTextFile(fixture("config.json"))).replace(
      /"num_hidden_layers": \d+/,
      '"num_hidden_layers": -1',
    );
    await Deno.writeTextFile(config, text);
    const line = text.split("\n").findIndex((l) => l.includes('"num_hidden_layers"')) + 1;
    const random = ["--init", "random", "--config", config, "--vocab", fixture("vocab.txt")];
    await assert.rejects(() => finetuneCli([...random, ...base]), {
      message: new RegExp(`^${config}:${line}: num_hidden_layers must be`),
    });
  });
});

Deno.test("finetune --quiet still reports a corrupt checkpoint it falls back from", async () => {
  await withDir(async (dir) => {
    const out = join(dir, "run");
    const options: FinetuneOptions = {
      config: { ...FINETUNE_DEFAULTS, batchSize: 8, maxSeqLength: 64, maxSteps: 6, evalEvery: 2, types: [] },
      model: { kind: "random", config: fixture("config.json"), vocab: fixture("vocab.txt") },
      train: [{ path: fixture("train.tsv"), format: "klue" }],
      out,
      threads: 1,
      quiet: true,
    };
    await finetune({ ...options, stopAfter: 5 });
    const ckpts = await listCheckpoints(join(out, "checkpoints"));
    const newest = ckpts[ckpts.length - 1].path;
    const bytes = await Deno.readFile(newest);
    bytes[bytes.length - 10] ^= 0xff;
    await Deno.writeFile(newest, bytes);
    const errors: string[] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(" "));
    try {
      await finetune({ ...options, resume: true });
    } finally {
      console.error = orig;
    }
    assert.ok(errors.some((e) => /warning: .*corrupt.*falling back/.test(e)), errors.join("\n"));
  });
});
