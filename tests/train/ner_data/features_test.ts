import assert from "node:assert/strict";
import { WordPieceTokenizer } from "../../../infer/tokenizer.ts";
import { labelsFor } from "../../../train/ner_data/align.ts";
import {
  batchTensors,
  makeBatches,
  makeFeatures,
  makeInputs,
  paddingStats,
} from "../../../train/ner_data/features.ts";
import { Rng } from "../../../train/util/rng.ts";

const chars = [..."민수랑어제봤서울가자오늘"];
const tok = WordPieceTokenizer.fromVocab(
  ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...chars, ...chars.map((c) => `##${c}`)].join("\n"),
);
const labels = labelsFor(["DT", "PS"], "BIO"); // O B-DT I-DT B-PS I-PS
const ex = {
  id: "a",
  text: "민수랑 어제 봤어",
  entities: [{ start: 0, end: 2, type: "PS" }, { start: 4, end: 6, type: "DT" }],
};

Deno.test("makeFeatures() aligns labels on the whole sentence, then windows keep them (−100 on [CLS]/[SEP])", () => {
  // 7 content tokens: 민 ##수 ##랑 어 ##제 봤 ##어; windows of 4 content tokens, overlap 1.
  const { features, split } = makeFeatures([ex], tok, {
    labels,
    scheme: "BIO",
    mode: "all-subwords",
    maxLength: 6,
    stride: 1,
  });
  assert.equal(split, 1);
  assert.deepEqual(features.map((f) => f.labels), [
    [-100, 3, 4, 0, 1, -100], // [CLS] 민 수 랑 어 [SEP]
    [-100, 1, 2, 0, 0, -100], // [CLS] 어 제 봤 어 [SEP]: the last window is pulled back to end at the text's end
  ]);
  assert.deepEqual(features.map((f) => [f.example, f.window]), [[0, 0], [0, 1]]);
});

Deno.test("makeFeatures() in CRF mode labels [CLS]/[SEP] O and refuses first-subword", () => {
  const { features } = makeFeatures([ex], tok, {
    labels,
    scheme: "BIO",
    mode: "all-subwords",
    maxLength: 16,
    stride: 2,
    crf: true,
  });
  assert.deepEqual(features[0].labels, [0, 3, 4, 0, 1, 2, 0, 0, 0]);
  assert.throws(
    () =>
      makeFeatures([ex], tok, {
        labels,
        scheme: "BIO",
        mode: "first-subword",
        maxLength: 16,
        stride: 2,
        crf: true,
      }),
    /all-subwords/,
  );
});

Deno.test("batchTensors() pads to the longest window rounded up to 8, with pad id, mask 0 and label −100", () => {
  const { features } = makeInputs(["민수", "민수랑 어제 봤어 오늘 서울 가자"], tok, {
    maxLength: 64,
    stride: 8,
  });
  const t = batchTensors(features, [0, 1], { padId: 0, maxLength: 64 });
  assert.deepEqual(t.input_ids.dims, [2, 16]); // 14 tokens → 16
  assert.deepEqual([...t.attention_mask.data.slice(0, 16)].map(Number), [
    1,
    1,
    1,
    1,
    ...new Array(12).fill(0),
  ]);
  assert.deepEqual([...t.labels.data].map(Number), new Array(32).fill(-100));
  assert.deepEqual(batchTensors(features, [0], { padId: 0, maxLength: 64, length: 64 }).input_ids.dims, [
    1,
    64,
  ]);
});

Deno.test("makeBatches() uses every window once, buckets by length, and is a function of the seed", () => {
  const texts = Array.from({ length: 100 }, (_, i) => "민수랑 ".repeat(1 + (i * 7) % 13).trim());
  const { features } = makeInputs(texts, tok, { maxLength: 128, stride: 8 });
  const a = makeBatches(features, { batchSize: 8, rng: new Rng(1, "epoch", 0), bucketBatches: 4 });
  const b = makeBatches(features, { batchSize: 8, rng: new Rng(1, "epoch", 0), bucketBatches: 4 });
  assert.deepEqual(a, b);
  assert.deepEqual(a.flat().sort((x, y) => x - y), features.map((_, i) => i));
  const bucketed = paddingStats(features, a, 8, 128);
  const random = paddingStats(
    features,
    makeBatches(features, { batchSize: 8, rng: new Rng(1, "epoch", 0), bucketBatches: false }),
    8,
    128,
  );
  assert.ok(bucketed.padded < random.padded, `${bucketed.padded} vs ${random.padded}`);
  assert.ok(random.padded < random.fixed);
  // Evaluation order: longest first.
  const evalOrder = makeBatches(features, { batchSize: 8 }).flat();
  for (let i = 1; i < evalOrder.length; i++) {
    assert.ok(features[evalOrder[i - 1]].ids.length >= features[evalOrder[i]].ids.length);
  }
});
