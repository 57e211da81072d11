import assert from "node:assert/strict";
import { join } from "node:path";
import {
  defaultReportPath,
  outputClash,
  type PseudoLabelFilesOptions,
} from "../../../train/ner_data/pseudo_label_files.ts";

Deno.test("defaultReportPath(): FILE.tsv → FILE.report.json", () => {
  assert.equal(defaultReportPath("runs/silver.tsv"), "runs/silver.report.json");
  assert.equal(defaultReportPath("runs/silver.TSV"), "runs/silver.report.json");
  assert.equal(defaultReportPath("runs/silver"), "runs/silver.report.json");
});

Deno.test("outputClash(): the silver file, its report, partial and state files never land on an input", () => {
  const run = (o: Partial<PseudoLabelFilesOptions>) =>
    outputClash({
      models: ["/m/teacher"],
      files: ["/c/a.txt", "/c/b.tsv"],
      exclude: ["klue:/d/test.tsv", "lines:/d/list.txt"],
      out: "/o/silver.tsv",
      ...o,
    } as PseudoLabelFilesOptions);
  assert.equal(run({}), undefined);
  assert.equal(
    run({ out: "/c/a.txt" }),
    '--out "/c/a.txt" would overwrite an input (corpus, exclusion list or model folder)',
  );
  assert.match(run({ out: "/m/teacher/silver.tsv" })!, /^--out "\/m\/teacher\/silver\.tsv" would overwrite/);
  assert.match(run({ report: "/d/list.txt" })!, /^--report "\/d\/list\.txt" would overwrite/);
  assert.match(run({ out: "/d/test.tsv" })!, /^--out "\/d\/test\.tsv" would overwrite/);
  // Beside the output: FILE.partial and FILE.state.json are written too.
  assert.match(run({ out: "/c/b.tsv", files: ["/c/b.tsv.partial"] })!, /^--out "\/c\/b\.tsv\.partial" would/);
  assert.match(
    run({ files: [join("/o", "silver.tsv.state.json")] })!,
    /^--out "\/o\/silver\.tsv\.state\.json" would overwrite/,
  );
  assert.equal(run({ report: "/o/silver.tsv" }), "--report must differ from --out");
});
