import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli/harmonize.ts";
import { writeKlue } from "../../train/ner_data/datasets/klue.ts";
import { ex, REFERENCE } from "../train/ner_data/harmonize_reference.ts";

Deno.test("deno task harmonize: the flags reach the report and the printed line; bad flags exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log, error = console.error;
  let out = "";
  console.log = (m: string) => void (out += m + "\n");
  console.error = () => {};
  try {
    await Deno.writeTextFile(join(dir, "ref.tsv"), writeKlue(REFERENCE));
    await Deno.writeTextFile(
      join(dir, "data.tsv"),
      writeKlue([ex("k1", "그는 이날은 쉬었다"), ex("k2", "이날 오후")]),
    );
    const file = join(dir, "out.tsv"), report = join(dir, "report.json");
    const args = ["--reference", `klue:${join(dir, "ref.tsv")}`, "--data", `klue:${join(dir, "data.tsv")}`];
    const flags = ["--word", "그는:PS", "--heads", "--merge", "--types", "DT,TI"];
    assert.equal(await main([...args, "--out", file, "--report", report, ...flags]), 0);
    assert.match(out, /^\d+ words learnt; 3 entities added \(이날 2, 그는 1, …\)\n$/);
    const r = JSON.parse(await Deno.readTextFile(report));
    assert.deepEqual(r.options, {
      types: ["DT", "TI"],
      minCount: 3,
      minRate: 0.5,
      heads: true,
      merge: true,
      words: [["그는", "PS"]],
    });
    assert.equal(await main(["--reference", "x", "--data", "y", "--out", file, "--min-rate", "2"]), 2);
    assert.equal(await main(["--reference", "x", "--data", "y", "--out", file, "--word", "어제"]), 2);
    assert.equal(await main(["--reference", "x", "--out", file]), 2);
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});
