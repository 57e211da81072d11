import assert from "node:assert/strict";
import { main } from "../../cli/model_card.ts";

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

Deno.test("deno task model-card: --help, the required flags, --readme-table of the shipped model", async () => {
  assert.match((await run(["--help"])).out, /^Usage: deno task model-card --spec FILE/);
  const missing = await run(["--spec", "configs/default/card.json"]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^error: --spec, --finetune and --model are required\n\nUsage:/);
  // The results table reads only the spec's reports and the model's labels (no run folders).
  const table = await run([
    "--spec",
    "configs/default/card.json",
    "--runs",
    "models/default",
    "--finetune",
    "none",
    "--model",
    "models/default",
    "--readme-table",
  ]);
  assert.equal(table.code, 0, table.err);
  assert.match(
    table.out,
    /^\| test split \| sentences \| entities \| micro F1 \| macro F1 \| DT \| LC \| OG \| PS \|/,
  );
  assert.match(table.out, /\n\| \*\*KLUE test\*\* \| 465 \|/);
  await assert.rejects(main(["--bogus"]), /Unknown option '--bogus'/);
});
