import assert from "node:assert/strict";
import { constrainedDecoder, labelDecoder, windowLabels } from "../../infer/window_labels.ts";

Deno.test("windowLabels() with constrainedDecoder(): the most probable valid BIO path, [CLS]/[SEP] pinned to O", () => {
  const labels = ["O", "B-PS", "I-PS", "B-LC", "I-LC"];
  const L = labels.length;
  // Rows: [CLS], 민, 수, 랑, [SEP]. Argmax reads [CLS] as B-PS and 민 as I-PS (a fragment after O), 수 as I-LC.
  const rows = [
    [0, 3, 0, 0, 0], // [CLS]: B-PS, ignored in training
    [0, 1.5, 2, 0, 0], // 민
    [0, 0, 2, 0, 2.5], // 수
    [2, 0, 0, 0, 0], // 랑
    [0, 0, 0, 0, 3], // [SEP]: I-LC
  ];
  const logits = Float32Array.from(rows.flat());
  assert.deepEqual(windowLabels(logits, L).map((x) => labels[x.id]), ["B-PS", "I-PS", "I-LC", "O", "I-LC"]);
  // Valid paths through 민 수: B-PS I-PS scores 1.5 + 2 = 3.5, beating B-LC I-LC (0 + 2.5), O I-… (invalid),
  // O O (0), B-PS O (1.5) and O B-LC (0); 랑 is O; the ends are O whatever their logits say.
  const got = windowLabels(logits, L, constrainedDecoder(labels));
  assert.deepEqual(got.map((x) => labels[x.id]), ["O", "B-PS", "I-PS", "O", "O"]);
  // Scores stay the softmax probabilities of the chosen labels.
  const p = (row: number[], k: number) => Math.exp(row[k]) / row.reduce((s, v) => s + Math.exp(v), 0);
  got.forEach((x, t) => assert.ok(Math.abs(x.p - p(rows[t], x.id)) < 1e-6));
});

Deno.test("labelDecoder(): a CRF wins, else bio-viterbi is constrained, else argmax (undefined)", () => {
  const labels = ["O", "B-PS", "I-PS"];
  const crf = { transitions: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], start: [0, 0, 0], end: [0, 0, 0] };
  assert.equal(labelDecoder(labels, crf, "bio-viterbi")!.params, crf);
  assert.equal(labelDecoder(labels, crf, "bio-viterbi")!.pinEnds, undefined);
  assert.equal(labelDecoder(labels, undefined, "bio-viterbi")!.pinEnds, 0);
  assert.equal(labelDecoder(labels, undefined, "argmax"), undefined);
  assert.equal(labelDecoder(labels, undefined), undefined);
  assert.throws(() => constrainedDecoder(["B-PS", "I-PS"]), /no "O"/);
});
