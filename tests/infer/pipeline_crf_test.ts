// CRF models in the inference pipeline: a folder whose nersota.json names crf.safetensors decodes with
// Viterbi, exactly as `deno task eval` (train/evaluate/evaluate.ts) does. Built from the fixture model plus
// hand-made transitions, so nothing is trained.
import assert from "node:assert/strict";
import type { Decoding } from "../../infer/window_labels.ts";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { readModelFolder, urlSource } from "../../infer/model_folder.ts";
import { encodeSafetensors } from "../../onnx/safetensors.ts";
import { tensor } from "../../onnx/tensor.ts";
import { evaluateModelFolder } from "../../train/evaluate/evaluate.ts";
import { assertSameEntities, checkSpans, FIXTURE, SENTENCES } from "./ner_fixture.ts";

const LABELS = [
  "O",
  "B-PS",
  "I-PS",
  "B-LC",
  "I-LC",
  "B-OG",
  "I-OG",
  "B-DT",
  "I-DT",
  "B-TI",
  "I-TI",
  "B-QT",
  "I-QT",
];
const L = LABELS.length;
const at = (l: string) => LABELS.indexOf(l);
// Short windows, so that long texts are split and merged (the CRF runs per window).
const META = { maxLength: 16, stride: 4 };
const TEXTS = [...SENTENCES, SENTENCES.join(" ")];

type Edit = {
  transitions?: [string, string, number][];
  start?: [string, number][];
  end?: [string, number][];
};

/** A CRF model folder: the fixture's files, nersota.json naming crf.safetensors, and the given scores. */
async function crfFolder(
  edit: Edit,
  crfFile = true,
  metaExtra: Record<string, unknown> = {},
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nersota-crf-" });
  for (const f of ["config.json", "vocab.txt", "inference.onnx"]) {
    await Deno.copyFile(new URL(f, FIXTURE), `${dir}/${f}`);
  }
  const meta = JSON.parse(await Deno.readTextFile(new URL("nersota.json", FIXTURE)));
  await Deno.writeTextFile(
    `${dir}/nersota.json`,
    JSON.stringify({ ...meta, ...META, crf: "crf.safetensors", ...metaExtra }),
  );
  const tr = new Float32Array(L * L), start = new Float32Array(L), end = new Float32Array(L);
  for (const [i, j, v] of edit.transitions ?? []) tr[at(i) * L + at(j)] = v;
  for (const [j, v] of edit.start ?? []) start[at(j)] = v;
  for (const [j, v] of edit.end ?? []) end[at(j)] = v;
  if (crfFile) {
    await Deno.writeFile(
      `${dir}/crf.safetensors`,
      encodeSafetensors({
        "crf.transitions": tensor("float32", [L, L], tr),
        "crf.start_transitions": tensor("float32", [L], start),
        "crf.end_transitions": tensor("float32", [L], end),
      }),
    );
  }
  return dir;
}

/** The same folder without the CRF: argmax decoding (or `metaExtra.decoding`). */
async function argmaxFolder(metaExtra: Record<string, unknown> = {}): Promise<string> {
  const dir = await crfFolder({}, false, metaExtra);
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/nersota.json`));
  delete meta.crf;
  await Deno.writeTextFile(`${dir}/nersota.json`, JSON.stringify(meta));
  return dir;
}

/** Pipeline output and `deno task eval`'s decoding of the same texts. */
async function decodeBoth(dir: string, decoding?: Decoding) {
  const ner = await loadRecognizer(dir, { provider: "cpu", threads: 1, decoding });
  try {
    const got = await ner.recognize(TEXTS);
    const examples = TEXTS.map((text, i) => ({ id: `t${i}`, text, entities: [] }));
    const ev = await evaluateModelFolder(dir, examples, { threads: 1, decoding });
    const evaluated = ev.predictions.map((p, i) =>
      p.map(({ type, start, end, score }) => ({ type, text: TEXTS[i].slice(start, end), start, end, score }))
    );
    return { got, evaluated, crf: ev.crf, decoding: ner.info.decoding };
  } finally {
    await ner.release();
  }
}

const dirs: string[] = [];
let argmax: Awaited<ReturnType<typeof decodeBoth>>;

Deno.test("CRF setup: the argmax folder predicts PS entities, and the pipeline agrees with eval", async () => {
  const dir = await argmaxFolder();
  dirs.push(dir);
  argmax = await decodeBoth(dir);
  assert.equal(argmax.crf, false);
  assert.equal(argmax.decoding, "argmax");
  assert.ok(argmax.got.flat().some((e) => e.type === "PS"), "the fixture predicts PS somewhere");
  assertSameEntities(argmax.got, argmax.evaluated, 1e-4, "argmax");
});

Deno.test("CRF: a forbidden transition into B-PS removes every PS entity; pipeline equals eval's Viterbi", async () => {
  const dir = await crfFolder({ transitions: LABELS.map((l) => [l, "B-PS", -1e4]), start: [["B-PS", -1e4]] });
  dirs.push(dir);
  const r = await decodeBoth(dir);
  assert.equal(r.crf, true);
  assert.equal(r.decoding, "viterbi");
  TEXTS.forEach((t, i) => checkSpans(t, r.got[i]));
  assert.ok(!r.got.flat().some((e) => e.type === "PS"), "no PS entity under the CRF");
  assert.notDeepEqual(r.got, argmax.got, "the CRF changes the output");
  assertSameEntities(r.got, r.evaluated, 1e-4, "crf vs eval");
});

Deno.test("CRF: start and I-LC bonuses force one LC entity over each whole text (windows merged)", async () => {
  // The start score applies to [CLS] (position 0, labelled O in CRF training), then I-LC runs to the end.
  const dir = await crfFolder({
    transitions: [["B-LC", "I-LC", 1e4], ["I-LC", "I-LC", 1e4]],
    start: [["B-LC", 1e4]],
  });
  dirs.push(dir);
  const r = await decodeBoth(dir);
  assert.deepEqual(
    r.got.map((es) => es.map(({ type, start, end }) => [type, start, end])),
    TEXTS.map((t) => [["LC", 0, t.length]]),
  );
  // Scores are the mean softmax probability of the chosen labels (not the CRF path's probability).
  r.got.flat().forEach((e) => assert.ok(e.score > 0 && e.score < 1));
  assertSameEntities(r.got, r.evaluated, 1e-4, "crf vs eval");
});

Deno.test("bio-viterbi: a softmax folder decodes as a zero-score CRF with [CLS]/[SEP] forced to O; options override", async () => {
  const allSub = { labelMode: "all-subwords" };
  const notO = LABELS.filter((l) => l !== "O").map((l): [string, number] => [l, -1e4]);
  const crfDir = await crfFolder({ start: notO, end: notO }, true, allSub);
  const bioDir = await argmaxFolder({ ...allSub, decoding: "bio-viterbi" });
  dirs.push(crfDir, bioDir);
  const viaCrf = await decodeBoth(crfDir);
  const bio = await decodeBoth(bioDir);
  assert.equal(bio.crf, false);
  assert.equal(bio.decoding, "bio-viterbi");
  TEXTS.forEach((t, i) => checkSpans(t, bio.got[i]));
  assertSameEntities(bio.got, bio.evaluated, 1e-4, "bio-viterbi vs eval");
  assertSameEntities(bio.got, viaCrf.got, 1e-6, "bio-viterbi vs the equivalent CRF");
  // The option overrides nersota.json, in the pipeline and in eval alike.
  const arg = await decodeBoth(bioDir, "argmax");
  assert.equal(arg.decoding, "argmax");
  assertSameEntities(arg.got, arg.evaluated, 1e-4, "argmax override vs eval");
  assert.notDeepEqual(
    arg.got,
    bio.got,
    "on the random fixture, argmax leaves fragments that bio-viterbi does not",
  );
  await assert.rejects(
    () => loadRecognizer(FIXTURE, { decoding: "bio-viterbi" }),
    /needs an all-subwords model/,
  );
});

Deno.test("CRF: a missing or mis-sized crf file named by nersota.json is an error", async () => {
  const missing = await crfFolder({}, false);
  dirs.push(missing);
  await assert.rejects(
    () => readModelFolder(urlSource(missing)),
    /has no crf\.safetensors \(the CRF parameters/,
  );
  const bad = await crfFolder({});
  dirs.push(bad);
  const small = tensor("float32", [2], new Float32Array(2));
  await Deno.writeFile(
    `${bad}/crf.safetensors`,
    encodeSafetensors({
      "crf.transitions": tensor("float32", [2, 2], new Float32Array(4)),
      "crf.start_transitions": small,
      "crf.end_transitions": small,
    }),
  );
  await assert.rejects(() => readModelFolder(urlSource(bad)), /for 2 labels but the model has 13/);
});

Deno.test("CRF: cleanup", async () => {
  for (const d of dirs) await Deno.remove(d, { recursive: true });
});
