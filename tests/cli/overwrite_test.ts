// Outputs never overwrite inputs; killed writes leave no temporary files behind (issue 22, item 4).
import assert from "node:assert/strict";
import { main as plot } from "../../cli/plot.ts";
import { main as augment } from "../../cli/augment.ts";
import { main as harmonize } from "../../cli/harmonize.ts";
import { main as evalCli } from "../../cli/eval.ts";
import { main as finetune } from "../../cli/finetune.ts";
import { main as split } from "../../cli/split.ts";
import { main as vocab } from "../../cli/vocab.ts";
import { main as buildData } from "../../cli/build_data.ts";
import { main as exportCli } from "../../cli/export.ts";
import { refuseOverwrite, writeFileAtomic } from "../../train/util/fs.ts";
import { copyFolderFiles } from "../train/temp_dir.ts";

const KLUE = new URL("../../fixtures/datasets/klue_sample.tsv", import.meta.url).pathname;
const MODEL = new URL("../../fixtures/ner-tiny/", import.meta.url).pathname;

/** Runs `fn` on a copy of the KLUE fixture and checks that it is refused and the copy left as it was. */
async function refused(fn: (data: string, dir: string) => Promise<unknown>, message: RegExp): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const data = `${dir}/data.tsv`;
    await Deno.copyFile(KLUE, data);
    const before = await Deno.readFile(data);
    await assert.rejects(() => fn(data, dir) as Promise<unknown>, message);
    assert.deepEqual(await Deno.readFile(data), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("plot, augment, harmonize, eval, split, vocab, build-data, export and finetune refuse an output that is one of their inputs", async (t) => {
  await t.step(
    "plot --out = --metrics",
    () => refused((f) => plot(["--metrics", f, "--out", f]), /--out ".*data\.tsv" is the input --metrics/),
  );
  await t.step(
    "augment --out = --data",
    () => refused((f) => augment(["--data", `klue:${f}`, "--out", f]), /--out ".*" is the input --data/),
  );
  await t.step("augment --report = --data (through another spelling of the path)", () =>
    refused(
      (f, dir) => augment(["--data", `klue:${f}`, "--out", `${dir}/o.tsv`, "--report", `${dir}/./data.tsv`]),
      /--report ".*" is the input --data/,
    ));
  await t.step("harmonize --out = --reference", () =>
    refused(
      (f, dir) =>
        harmonize(["--reference", `klue:${f}`, "--data", `klue:${KLUE}`, "--out", f, "--report", `${dir}/r`]),
      /--out ".*" is the input --reference/,
    ));
  await t.step("eval --errors = --data, --report = --data", async () => {
    await refused(
      (f) => evalCli(["--model", MODEL, "--data", `klue:${f}`, "--errors", f]),
      /--errors ".*" is the input --data/,
    );
    await refused(
      (f) => evalCli(["--model", MODEL, "--data", `klue:${f}`, "--report", f]),
      /--report ".*" is the input --data/,
    );
  });
  await t.step("split --out D where D/train.tsv is --data", () =>
    refused(async (f, dir) => {
      await Deno.copyFile(f, `${dir}/train.tsv`);
      return split(["--data", `klue:${dir}/train.tsv`, "--out", dir]);
    }, /--out's train\.tsv ".*" is the input --data/));
  await t.step(
    "vocab --out = --corpus file",
    () =>
      refused(
        (f) => vocab(["--corpus", f, "--out", f, "--size", "50", "--quiet"]),
        /--out ".*" is the input --corpus/,
      ),
  );
  await t.step("build-data --out holding --corpus", () =>
    refused(
      (f, dir) => buildData(["--corpus", f, "--vocab", f, "--out", dir, "--quiet"]),
      /--out ".*" holds the input --corpus/,
    ));
  await t.step(
    "export --to-hf D --out D",
    () => refused((_, dir) => exportCli(["--to-hf", dir, "--out", dir]), /--out ".*" is the input --to-hf/),
  );
  await t.step("finetune --model D --out D", () =>
    refused(async (f, dir) => {
      await Deno.copyFile(f, `${dir}/vocab.txt`);
      return finetune(["--model", dir, "--out", dir, "--train", `klue:${f}`, "--quiet"]);
    }, /--out ".*" is the input --model/));
});

Deno.test("refuseOverwrite(): a folder holding an input, two outputs on one path, symlinks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/in.txt`, "x");
    await Deno.symlink(`${dir}/in.txt`, `${dir}/link.txt`);
    await assert.rejects(
      () => refuseOverwrite({ "--out": dir }, { "--data": `${dir}/in.txt` }),
      /holds the input/,
    );
    await assert.rejects(
      () => refuseOverwrite({ "--out": `${dir}/link.txt` }, { "--data": `${dir}/in.txt` }),
      /is the input/,
    );
    await assert.rejects(
      () => refuseOverwrite({ "--out": `${dir}/a`, "--report": `${dir}/a` }, {}),
      /--out and --report are the same file/,
    );
    await refuseOverwrite({ "--out": `${dir}/new/out.txt` }, { "--data": `${dir}/in.txt` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() removes temporary files of writers that were killed, keeps live ones'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A pid with no process: the highest in /proc plus a margin that no process reaches in this test.
    let dead = 4_000_000;
    while (await Deno.stat(`/proc/${dead}`).then(() => true, () => false)) dead++;
    const orphan = `${dir}/out.json.tmp-${dead}-0123abcd`;
    const live = `${dir}/out.json.tmp-${Deno.pid}-89abcdef`;
    const other = `${dir}/other.json.tmp-${dead}-0123abcd`;
    for (const f of [orphan, live, other]) await Deno.writeTextFile(f, "half");
    await writeFileAtomic(`${dir}/out.json`, "{}");
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    assert.deepEqual(names, [
      "other.json.tmp-" + dead + "-0123abcd",
      "out.json",
      `out.json.tmp-${Deno.pid}-89abcdef`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval refuses a report or error list over a file of its --model or --compare folder, and allows a new file there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const model = `${dir}/model`;
    await Deno.mkdir(model);
    await copyFolderFiles(MODEL, model);
    const before = await Deno.readFile(`${model}/nersota.json`);
    const args = ["--data", `klue:${KLUE}`];
    await assert.rejects(
      () => evalCli(["--model", model, ...args, "--report", `${model}/nersota.json`]),
      /--report ".*nersota\.json" is the file "nersota\.json" of the input model folder --model/,
    );
    await assert.rejects(
      () => evalCli(["--model", MODEL, "--compare", model, ...args, "--errors", `${model}/./vocab.txt`]),
      /--errors ".*vocab\.txt" is the file "vocab\.txt" of the input model folder --compare/,
    );
    assert.deepEqual(await Deno.readFile(`${model}/nersota.json`), before);
    const log = console.log, error = console.error;
    console.log = console.error = () => {};
    try {
      assert.equal(await evalCli(["--model", model, ...args, "--report", `${model}/eval.json`]), 0);
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.ok(JSON.parse(await Deno.readTextFile(`${model}/eval.json`)).micro);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
