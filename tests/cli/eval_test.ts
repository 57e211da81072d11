import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli/eval.ts";

/** Runs the CLI with console output captured. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log, error = console.error;
  let out = "", err = "";
  console.log = (m: string) => void (out += m + "\n");
  console.error = (m: string) => void (err += m + "\n");
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("eval CLI refuses a call without --model or --data", async () => {
  assert.equal((await run(["--data", "x.tsv"])).code, 2);
  const bad = await run(["--model", "m", "--data", "x.tsv", "--decoding", "beam"]);
  assert.deepEqual([bad.code, bad.err], [
    2,
    'eval: --decoding must be "argmax" or "bio-viterbi", got "beam"\n',
  ]);
  const floor = await run(["--model", "m", "--data", "x.tsv", "--min-score", "x"]);
  assert.deepEqual([floor.code, floor.err], [2, 'eval: --min-score must be a number from 0 to 1, got "x"\n']);
  assert.match((await run(["--help"])).out, /^Usage: deno task eval --model DIR --data SRC/);
});

Deno.test("eval CLI prints the report and says what it decoded and wrote", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-eval-" });
  try {
    const report = join(dir, "r.json"), errors = join(dir, "e.jsonl");
    const args = [
      "--model",
      "fixtures/ner-tiny",
      "--data",
      "klue:fixtures/finetune/dev.tsv",
      "--digits",
      "2",
    ];
    const r = await run([...args, "--report", report, "--errors", errors]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /micro avg +0\.\d\d +0\.\d\d +0\.\d\d +\d+\n/);
    assert.match(
      r.err,
      /\nDecoding: argmax\nWrote \d+ sentences with errors to ".*e\.jsonl"\nWrote ".*r\.json"\n$/,
    );
    assert.equal(JSON.parse(await Deno.readTextFile(report)).model, "fixtures/ner-tiny");
    // A floor of 1 leaves the fixture no entity (its scores are below 1): every gold one is missed.
    const r1 = await run([...args, "--min-score", "1", "--report", join(dir, "r1.json")]);
    assert.equal(r1.code, 0, r1.err);
    const r1json = JSON.parse(await Deno.readTextFile(join(dir, "r1.json")));
    assert.equal(r1json.minScore, 1);
    assert.equal(r1json.micro.recall, 0);
    const sw = await run([...args, "--min-score-sweep", "0,1"]);
    assert.equal(sw.code, 0, sw.err);
    assert.match(
      sw.out,
      /\nEntity score floors \(one pass with no floor\):\nmin score\tmicro F1.*\n0\.00\t.*\n1\.00\t0\.00\t0\.00\t0\t/,
    );
    const both = await run([...args, "--min-score", "0.5", "--min-score-sweep", "0,1"]);
    assert.deepEqual([both.code, both.err], [
      2,
      "eval: --min-score and --min-score-sweep exclude each other\n",
    ]);
    assert.ok(r1json.support > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval CLI --compare prints the paired bootstrap and refuses its flags alone or with a sweep", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-eval-" });
  try {
    const args = ["--model", "fixtures/ner-tiny", "--data", "klue:fixtures/finetune/dev.tsv"];
    const report = join(dir, "r.json");
    const r = await run([...args, "--compare", "fixtures/ner-tiny", "--bootstrap", "50", "--report", report]);
    assert.equal(r.code, 0, r.err);
    // The model against itself: every difference is 0 and B is never better.
    assert.match(
      r.out,
      /\nPaired bootstrap, \d+ sentences, 50 draws \(seed 1\): A = fixtures\/ner-tiny, B = fixtures\/ner-tiny\n/,
    );
    assert.match(r.out, /\nmicro F1\t([\d.]+)\t\1\t\+0\.00\t\[\+0\.00, \+0\.00\]\t0\.000\n/);
    const json = JSON.parse(await Deno.readTextFile(report));
    assert.deepEqual([json.comparison.model, json.comparison.bootstrap.samples], ["fixtures/ner-tiny", 50]);
    assert.equal(json.comparison.micro.f1, json.micro.f1);
    const alone = await run([...args, "--bootstrap", "50"]);
    assert.deepEqual([alone.code, alone.err], [2, "eval: --bootstrap and --bootstrap-seed need --compare\n"]);
    const zero = await run([...args, "--compare", "fixtures/ner-tiny", "--bootstrap", "0"]);
    assert.deepEqual([zero.code, zero.err], [2, 'eval: --bootstrap must be a whole number ≥ 1, got "0"\n']);
    const seed = await run([...args, "--compare", "fixtures/ner-tiny", "--bootstrap-seed", "x"]);
    assert.deepEqual([seed.code, seed.err], [2, 'eval: --bootstrap-seed must be a whole number, got "x"\n']);
    const sweep = await run([...args, "--compare", "fixtures/ner-tiny", "--min-score-sweep", "0,1"]);
    assert.deepEqual([sweep.code, sweep.err], [
      2,
      "eval: --compare and --min-score-sweep exclude each other\n",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
