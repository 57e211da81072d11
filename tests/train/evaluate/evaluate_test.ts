import assert from "node:assert/strict";
import { WordPieceTokenizer } from "../../../infer/tokenizer.ts";
import type { Tensor } from "../../../onnx/tensor.ts";
import {
  buildReport,
  defaultSubsets,
  evaluateModelFolder,
  predict,
  subsetByRegex,
} from "../../../train/evaluate/evaluate.ts";
import { loadRecognizer, type PipelineOptions } from "../../../infer/pipeline.ts";
import { makeInputs } from "../../../train/ner_data/features.ts";

const chars = [..."민수랑어제봤"];
const vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...chars, ...chars.map((c) => `##${c}`)];
const tok = WordPieceTokenizer.fromVocab(vocab.join("\n"));
const labels = ["O", "B-DT", "I-DT", "B-PS", "I-PS"];

Deno.test("buildReport() scores character spans as seqeval, by subset, with errors", () => {
  const examples = [
    {
      id: "x-1-nsmc",
      text: "민수랑 어제",
      entities: [{ start: 0, end: 2, type: "PS" }, { start: 4, end: 6, type: "DT" }],
    },
    { id: "x-2-wikitree", text: "어제", entities: [{ start: 0, end: 2, type: "DT" }] },
  ];
  const pred = [[{ start: 0, end: 2, type: "PS" }, { start: 4, end: 5, type: "DT" }], [{
    start: 0,
    end: 2,
    type: "DT",
  }]];
  const { report, errors } = buildReport(examples, pred, { subsetOf: defaultSubsets(examples) });
  // PS 1/1/1; DT: 1 correct of 2 predicted, 2 gold → P R F1 0.5; micro 2/3 each.
  assert.equal(report.perType.DT.f1, 0.5);
  assert.ok(Math.abs(report.micro.f1 - 2 / 3) < 1e-12);
  assert.equal(report.macro.f1, 0.75);
  assert.equal(report.subsets!.nsmc.micro.f1, 0.5);
  assert.equal(report.subsets!.wikitree.micro.f1, 1);
  assert.deepEqual(errors.map((e) => e.id), ["x-1-nsmc"]);
  assert.equal(defaultSubsets([{ id: "plain", text: "", entities: [] }]), undefined);
  assert.equal(subsetByRegex(/^([a-z]+)_/)("news_001"), "news");
});

Deno.test("predict() merges windows and decodes argmax, or Viterbi with BIO constraints for a CRF", async () => {
  const text = "민수랑 어제 봤";
  // Windows of 3 content tokens: the logits say B-PS for 민, I-PS for ##수, else O — except that the
  // argmax for ##제 is I-PS (an ill-formed jump) and its second best is I-DT.
  const { features, encoded } = makeInputs([text], tok, { maxLength: 5, stride: 1 });
  assert.ok(encoded[0].windows.length > 1);
  const want: Record<string, number[]> = {
    "민": [0, 0, 0, 9, 0],
    "##수": [0, 0, 0, 0, 9],
    "어": [0, 9, 0, 0, 0],
    "##제": [0, 0, 5, 0, 6],
  };
  const run = (feeds: Record<string, Tensor>) => {
    const [B, T] = feeds.input_ids.dims;
    const data = new Float32Array(B * T * labels.length);
    const ids = feeds.input_ids.data as BigInt64Array;
    for (let i = 0; i < B * T; i++) {
      const row = want[vocab[Number(ids[i])]] ?? [9, 0, 0, 0, 0];
      data.set(row, i * labels.length);
    }
    return Promise.resolve({ logits: { dtype: "float32", dims: [B, T, labels.length], data } as Tensor });
  };
  const opts = { labels, labelMode: "all-subwords" as const, batchSize: 2, padId: 0, maxLength: 5 };
  const argmax = await predict([text], encoded, features, run, opts);
  // Argmax: 민수 PS, 어 DT, then ##제 I-PS starts a PS chunk (seqeval default mode).
  assert.deepEqual(argmax.spans[0].map((e) => [e.type, e.text]), [["PS", "민수"], ["DT", "어"], [
    "PS",
    "제",
  ]]);
  const zeros = (n: number) => new Array(n).fill(0);
  const crf = {
    transitions: labels.map(() => zeros(labels.length)),
    start: zeros(labels.length),
    end: zeros(labels.length),
  };
  const viterbi = await predict([text], encoded, features, run, { ...opts, crf });
  assert.deepEqual(viterbi.spans[0].map((e) => [e.type, e.text]), [["PS", "민수"], ["DT", "어제"]]);
});

/** Each text's entities as [type, start, end]. */
const spans = (all: readonly (readonly { type: string; start: number; end: number }[])[]) =>
  all.map((es) => es.map((e) => [e.type, e.start, e.end]));

/** The pipeline's entities of `texts` on the CPU with `options`, as `spans` gives them. */
async function pipelineSpans(fixture: string, texts: string[], options: PipelineOptions) {
  const pipeline = await loadRecognizer(fixture, { provider: "cpu", ...options });
  try {
    return spans(await pipeline.recognize(texts));
  } finally {
    await pipeline.release();
  }
}

Deno.test("evaluateModelFolder() with symbolEntities drop scores the pipeline's entities: symbol-only spans left out", async () => {
  const fixture = new URL("../../../fixtures/ner-tiny/", import.meta.url).pathname;
  const texts = ["😂😂 어제 강남역에서", "ㅎㅎ 어제 ^^ 만났어 ㅠㅠ", "ㅋㅋㅋㅋ", "!!! ??? 어제"];
  const examples = texts.map((text, i) => ({ id: `r-${i}`, text, entities: [] }));
  const keep = await evaluateModelFolder(fixture, examples);
  const drop = await evaluateModelFolder(fixture, examples, { symbolEntities: "drop" });
  assert.deepEqual(spans(drop.predictions), await pipelineSpans(fixture, texts, { symbolEntities: "drop" }));
  assert.ok(keep.predictions.flat().length > drop.predictions.flat().length);
  assert.equal(drop.predictions[2].length, 0);
  assert.ok(drop.report.noEntity!.flagged < keep.report.noEntity!.flagged);
});

Deno.test("evaluateModelFolder() with minScore scores the pipeline's entities at the same floor", async () => {
  const fixture = new URL("../../../fixtures/ner-tiny/", import.meta.url).pathname;
  const texts = ["어제 강남역에서 민수랑 만났어", "ㅋㅋ 지수 왔어", "내일 3시에 서울대 앞에서 봐"];
  const examples = texts.map((text, i) => ({ id: `r-${i}`, text, entities: [] }));
  const all = await evaluateModelFolder(fixture, examples);
  const scores = all.predictions.flat().map((e) => e.score).sort((a, b) => a - b);
  const floor = scores[Math.floor(scores.length / 2)];
  const cut = await evaluateModelFolder(fixture, examples, { minScore: floor });
  assert.deepEqual(cut.predictions, all.predictions.map((es) => es.filter((e) => e.score >= floor)));
  assert.ok(cut.predictions.flat().length < all.predictions.flat().length);
  assert.deepEqual(spans(cut.predictions), await pipelineSpans(fixture, texts, { minScore: floor }));
});
