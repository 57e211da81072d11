/**
 * `evaluateFiles()` (`deno task eval`) end to end on a model whose predictions are known by construction: its
 * `inference.onnx` looks each token's logits up in a table (character → label), so the entities it
 * predicts, and every number of the report, are worked out by hand below.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Graph } from "../../../onnx/graph.ts";
import { gather } from "../../../onnx/ops.ts";
import { tensor } from "../../../onnx/tensor.ts";
import { formatReport } from "../../../train/evaluate/evaluate.ts";
import { evaluateFiles, formatSweep } from "../../../train/evaluate/evaluate_files.ts";
import { writeConll } from "../../../train/ner_data/datasets/conll.ts";
import { readDataset } from "../../../train/ner_data/datasets/mod.ts";

const LABELS = ["O", "B-DT", "I-DT", "B-LC", "I-LC", "B-PS", "I-PS"];
// Character → predicted label; every other token (specials, other characters) is O.
const RULE: Record<string, string> = {
  민: "B-PS",
  수: "I-PS",
  서: "B-LC",
  울: "I-LC",
  어: "B-DT",
  제: "I-DT",
};
const DATA = `## t-1-nsmc\t<민수:PS>랑 <어제:DT> 봤어
## t-2-wikitree\t<서울:LC> <민지:PS>
## t-3-nsmc\t<수원:LC> 가자
`;

/** Writes the lookup model; characters in `weak` get their label by a logit of 1 instead of 10 (a low score). */
async function makeModel(dir: string, weak = ""): Promise<void> {
  const chars = [..."민수랑어제봤서울지원가자"];
  const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...chars, ...chars.map((c) => `##${c}`)];
  const table: number[] = [];
  for (const tok of vocab) {
    const label = RULE[tok.replace(/^##/, "")] ?? "O";
    const margin = weak.includes(tok.replace(/^##/, "")) ? 1 : 10;
    for (const l of LABELS) table.push(l === label ? margin : 0);
  }
  const g = new Graph("lookup_tagger");
  const ids = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  g.input("attention_mask", "int64", ["batch_size", "sequence_length"]);
  g.input("token_type_ids", "int64", ["batch_size", "sequence_length"]);
  g.output(gather(g.constant(tensor("float32", [vocab.length, LABELS.length], table)), ids, 0), "logits");
  const config = {
    architectures: ["ElectraForTokenClassification"],
    model_type: "electra",
    embedding_size: 8,
    hidden_size: 8,
    intermediate_size: 16,
    num_attention_heads: 1,
    num_hidden_layers: 1,
    max_position_embeddings: 64,
    vocab_size: vocab.length,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(LABELS.map((l, i) => [l, i])),
  };
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  await Deno.writeTextFile(join(dir, "vocab.txt"), vocab.join("\n") + "\n");
  await Deno.writeFile(join(dir, "inference.onnx"), g.toBytes());
  await Deno.writeTextFile(
    join(dir, "nersota.json"),
    JSON.stringify({
      format: "nersota-inference",
      version: 1,
      labelMode: "all-subwords",
      scheme: "BIO",
      maxLength: 32,
      stride: 8,
    }),
  );
}

/**
 * Writes `dir/gold.tsv`: e-1 has a PS; e-2 (봤어: 어 → DT) and e-4 (서 → LC) are gold-empty and get an entity
 * from the lookup model; e-3 is gold-empty and gets none. Subsets `a` (e-1, e-2) and `b` (e-3, e-4).
 */
async function fourSentences(dir: string): Promise<string> {
  const path = join(dir, "gold.tsv");
  await Deno.writeTextFile(
    path,
    klueTsv(`## e-1-a\t<민수:PS>랑 가자\n## e-2-a\t가자 봤어\n## e-3-b\t지원 가자\n## e-4-b\t서 가자\n`),
  );
  return path;
}

/** Rows of the KLUE fixture: character lines generated from the markup headers. */
function klueTsv(headers: string): string {
  const out: string[] = [];
  for (const line of headers.trim().split("\n")) {
    out.push(line);
    const marked = line.split("\t")[1];
    for (let i = 0; i < marked.length; i++) {
      const ch = marked[i];
      if (ch === "<") {
        const m = /^<([^:>]+):([A-Z]+)>/.exec(marked.slice(i))!;
        [...m[1]].forEach((c, k) => out.push(`${c}\t${k === 0 ? "B" : "I"}-${m[2]}`));
        i += m[0].length - 1;
        continue;
      }
      out.push(`${ch}\tO`);
    }
    out.push("");
  }
  return out.join("\n") + "\n";
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

Deno.test("evaluateFiles() reports hand-computed seqeval scores, subsets, confusion and errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-eval-" });
  try {
    await makeModel(dir);
    const data = join(dir, "gold.tsv");
    await Deno.writeTextFile(data, klueTsv(DATA));
    const reportPath = join(dir, "report.json"), errorsPath = join(dir, "errors.jsonl");
    const got = await evaluateFiles({
      model: dir,
      data: [`klue:${data}`],
      report: reportPath,
      errors: errorsPath,
      log: () => {},
    });
    const r = JSON.parse(await Deno.readTextFile(reportPath));
    assert.deepEqual(
      r,
      JSON.parse(JSON.stringify({
        model: dir,
        data: [{ format: "klue", path: data }],
        decoding: got.decoding,
        ...got.report,
      })),
    );
    // Predicted: s1 민수 PS ✓, 어제 DT ✓, 어 (of 봤어) DT ✗; s2 서울 LC ✓, 민 PS ✗ (gold 민지);
    // s3 수 PS ✗ (an I-PS after O starts a chunk in seqeval's default mode; gold 수원 LC missed).
    assert.equal(r.gold, 5);
    assert.equal(r.predicted, 6);
    close(r.perType.PS.precision, 1 / 3, "PS P");
    close(r.perType.PS.recall, 1 / 2, "PS R");
    close(r.perType.PS.f1, 0.4, "PS F1");
    close(r.perType.DT.f1, 2 / 3, "DT F1");
    close(r.perType.LC.precision, 1, "LC P");
    close(r.perType.LC.recall, 1 / 2, "LC R");
    close(r.micro.precision, 3 / 6, "micro P");
    close(r.micro.recall, 3 / 5, "micro R");
    close(r.micro.f1, 6 / 11, "micro F1");
    close(r.macro.precision, (1 / 3 + 1 / 2 + 1) / 3, "macro P");
    close(r.macro.recall, (1 / 2 + 1 + 1 / 2) / 3, "macro R");
    close(r.macro.f1, (0.4 + 2 / 3 + 2 / 3) / 3, "macro F1");
    // KLUE-style ids: subsets found without --split-by.
    close(r.subsets.nsmc.micro.f1, 2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3), "nsmc micro F1");
    close(r.subsets.wikitree.micro.f1, 0.5, "wikitree micro F1");
    assert.deepEqual(r.confusion.types, ["DT", "LC", "PS", "O"]);
    assert.equal(r.confusion.counts.PS.PS, 2);
    assert.equal(r.confusion.counts.LC.PS, 1);
    assert.equal(r.confusion.counts.LC.LC, 1);
    assert.equal(r.confusion.counts.O.DT, 1);
    const errors = (await Deno.readTextFile(errorsPath)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(errors.map((e) => e.id), ["t-1-nsmc", "t-2-wikitree", "t-3-nsmc"]);
    assert.deepEqual(errors[0].spurious, [{ type: "DT", start: 8, end: 9, text: "어" }]);
    assert.deepEqual(errors[2].missed, [{ type: "LC", start: 0, end: 2, text: "수원" }]);
    // The printed report is seqeval's classification_report layout.
    const text = formatReport(got.report);
    assert.match(text, /\n {10}PS {5}0\.3333 {4}0\.5000 {4}0\.4000 {9}2\n/);
    assert.match(text, /micro avg {5}0\.5000 {4}0\.6000 {4}0\.5455 {9}5/);
    assert.match(text, /subset nsmc \(2 sentences\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluateFiles() reports the no-entity rate with its count, overall and per subset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-eval-" });
  try {
    await makeModel(dir);
    // e-2 (봤어: 어 → DT) and e-4 (서 → LC) are gold-empty and get an entity; e-3 gets none; e-1 has gold.
    const data = await fourSentences(dir);
    const reportPath = join(dir, "report.json");
    const got = await evaluateFiles({
      model: dir,
      data: [`klue:${data}`],
      report: reportPath,
      splitBy: "-([a-z])$",
      log: () => {},
    });
    const r = JSON.parse(await Deno.readTextFile(reportPath));
    assert.deepEqual(r.noEntity, { sentences: 3, flagged: 2, rate: 2 / 3 });
    assert.deepEqual(r.subsets.a.noEntity, { sentences: 1, flagged: 1, rate: 1 });
    assert.deepEqual(r.subsets.b.noEntity, { sentences: 2, flagged: 1, rate: 0.5 });
    const text = formatReport(got.report);
    assert.match(text, /no-entity rate 0\.6667 \(2 of 3 gold-empty sentences given an entity\)/);
    assert.match(text, /subset b \(2 sentences\).*no-entity rate 0\.5000 \(1 of 2 /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluateFiles() minScoreSweep: hand-computed scores at each floor, equal to runs with minScore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-eval-" });
  try {
    // 서 and 울 label LC by a logit of 1 over six zeros: score e/(e+6) ≈ 0.312; the others e¹⁰/(e¹⁰+6) ≈ 0.9997.
    await makeModel(dir, "서울");
    const data = await fourSentences(dir);
    const weak = Math.E / (Math.E + 6), strong = Math.exp(10) / (Math.exp(10) + 6);
    const reportPath = join(dir, "report.json");
    const got = await evaluateFiles({
      model: dir,
      data: [`klue:${data}`],
      report: reportPath,
      minScore: 0.9, // ignored by a sweep: the pass runs with no floor
      minScoreSweep: [0, 0.5, strong - 1e-5, 1], // ORT's float32 softmax: `strong` to about 1e-7
      log: () => {},
    });
    // Floor 0: 민수 (right), 어 of 봤어 (DT, spurious), 서 (LC, spurious, score `weak`); one gold entity.
    // Floor 0.5 and just under `strong`: 서 goes. Floor 1: nothing is left.
    const rows = got.sweep!.map((
      r,
    ) => [r.minScore, r.predicted, r.micro.precision, r.micro.f1, r.noEntity!.flagged]);
    const f1 = (p: number) => (2 * p) / (p + 1);
    assert.deepEqual(rows, [
      [0, 3, 1 / 3, f1(1 / 3), 2],
      [0.5, 2, 1 / 2, f1(1 / 2), 1],
      [strong - 1e-5, 2, 1 / 2, f1(1 / 2), 1],
      [1, 0, 0, 0, 0],
    ]);
    assert.ok(weak < 0.5);
    assert.equal(got.report.predicted, 3); // the main report is the pass with no floor
    const r = JSON.parse(await Deno.readTextFile(reportPath));
    assert.deepEqual(r.sweep, got.sweep);
    assert.equal(r.minScore, undefined);
    const at = await evaluateFiles({ model: dir, data: [`klue:${data}`], minScore: 0.5, log: () => {} });
    assert.deepEqual([at.report.micro, at.report.macro, at.report.noEntity], [
      got.sweep![1].micro,
      got.sweep![1].macro,
      got.sweep![1].noEntity,
    ]);
    const table = formatSweep(got.sweep!);
    assert.match(table, /^min score\tmicro F1\tmacro F1\tentities\tno-entity rate\n0\.00\t50\.00\t/);
    assert.match(table, /\n0\.50\t66\.67\t[\d.]+\t2\t33\.33 % \(1\/3\)\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluateFiles() warns on word-level gold, not on KLUE TSV", async () => {
  const KLUE = fileURLToPath(new URL("../../../fixtures/finetune/train.tsv", import.meta.url));
  const TINY = fileURLToPath(new URL("../../../fixtures/ner-tiny/", import.meta.url));
  const dir = await Deno.makeTempDir({ prefix: "nersota-gold-" });
  try {
    const { examples } = await readDataset(KLUE, "klue");
    await Deno.writeTextFile(join(dir, "words.conll"), writeConll(examples));
    const run = async (data: string) => {
      const lines: string[] = [];
      await evaluateFiles({ model: TINY, data: [data], log: (m) => lines.push(m) });
      return lines.join("\n");
    };
    assert.match(await run(`conll:${join(dir, "words.conll")}`), /warning: the gold labels look word-level/);
    assert.doesNotMatch(await run(`klue:${KLUE}`), /word-level/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("evaluateFiles() compare: the second folder scored by its own nersota.json, hand-computed, in the report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-eval-" });
  try {
    const a = join(dir, "a"), b = join(dir, "b");
    await Deno.mkdir(a);
    await Deno.mkdir(b);
    await makeModel(a, "서울");
    await makeModel(b, "서울");
    // B is A with a floor of 0.5 in its own nersota.json: it leaves out 서 (score ≈ 0.312).
    const meta = JSON.parse(await Deno.readTextFile(join(b, "nersota.json")));
    await Deno.writeTextFile(join(b, "nersota.json"), JSON.stringify({ ...meta, minScore: 0.5 }));
    const data = await fourSentences(dir);
    const reportPath = join(dir, "report.json");
    const got = await evaluateFiles({
      model: a,
      compare: b,
      bootstrap: { samples: 400, seed: 2 },
      data: [`klue:${data}`],
      report: reportPath,
      log: () => {},
    });
    // A: 민수 (right), 어 (DT, spurious), 서 (LC, spurious): micro 2·1/(3 + 1) = 1/2, macro (1 + 0 + 0)/3,
    // no-entity 2 of 3. B: 민수 and 어: micro 2/3, macro (1 + 0)/2, no-entity 1 of 3.
    const c = got.comparison!;
    assert.equal(c.model, b);
    assert.deepEqual([got.report.micro.f1, c.micro.f1, c.noEntity!.flagged], [1 / 2, 2 / 3, 1]);
    const boot = c.bootstrap;
    assert.deepEqual([boot.micro.a, boot.micro.b, boot.macro.a, boot.macro.b], [1 / 2, 2 / 3, 1 / 3, 1 / 2]);
    assert.ok(Math.abs(boot.micro.diff - 1 / 6) < 1e-12);
    assert.ok(Math.abs(boot.noEntityRate.diff + 1 / 3) < 1e-12);
    // B never scores below A in a draw (it only drops a spurious entity): the interval starts at 0 or above.
    assert.ok(boot.micro.low >= 0 && boot.noEntityRate.high <= 0);
    assert.equal(boot.samples, 400);
    const r = JSON.parse(await Deno.readTextFile(reportPath));
    assert.deepEqual(r.comparison, JSON.parse(JSON.stringify(c)));
    await assert.rejects(
      evaluateFiles({ model: a, compare: b, minScoreSweep: [0], data: [`klue:${data}`], log: () => {} }),
      /a comparison and a score-floor sweep exclude each other/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
