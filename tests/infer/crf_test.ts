import assert from "node:assert/strict";
import {
  bioConstraints,
  constrainedDecoder,
  labelDecoder,
  pathScore,
  viterbi,
  windowLabels,
} from "../../infer/crf.ts";
import { allPaths, randomCase } from "./crf_cases.ts";

Deno.test("viterbi() finds the best path found by enumerating every path", async (t) => {
  for (const [T, L] of [[1, 3], [2, 2], [3, 3], [4, 3], [4, 2]]) {
    for (let seed = 1; seed <= 5; seed++) {
      await t.step(`T=${T} L=${L} seed=${seed}`, () => {
        const { emissions, params } = randomCase(T, L, seed * 31 + T * 7 + L);
        let best = -Infinity;
        let bestPath: number[] = [];
        for (const p of allPaths(T, L)) {
          const s = pathScore(emissions, params, p);
          if (s > best) [best, bestPath] = [s, p];
        }
        const v = viterbi(emissions, params);
        assert.deepEqual(v.path, bestPath);
        assert.ok(Math.abs(v.score - best) < 1e-12);
      });
    }
  }
});

Deno.test("bioConstraints() forbids I- after O or another type, and I- at the start", () => {
  const labels = ["O", "B-PS", "I-PS", "B-LC", "I-LC"];
  const c = bioConstraints(labels);
  assert.deepEqual(c.start, [true, true, false, true, false]);
  assert.deepEqual(c.transitions.map((r) => r.map((x) => (x ? 1 : 0)).join("")), [
    "11010",
    "11110",
    "11110",
    "11011",
    "11011",
  ]);
  // Emissions that prefer "O I-PS" end up as "O B-PS" (the best allowed path).
  const emissions = [[2, 0, 0, 0, 0], [0, 1, 3, 0, 0]];
  const zero = {
    transitions: labels.map(() => labels.map(() => 0)),
    start: labels.map(() => 0),
    end: labels.map(() => 0),
  };
  assert.deepEqual(viterbi(emissions, zero).path, [0, 2]);
  assert.deepEqual(viterbi(emissions, zero, c).path, [0, 1]);
});

Deno.test("bioConstraints() for BIOES also requires entities to close", () => {
  const labels = ["O", "B-PS", "I-PS", "E-PS", "S-PS"];
  const c = bioConstraints(labels);
  assert.deepEqual(c.end, [true, false, false, true, true]);
  assert.deepEqual(c.transitions.map((r) => r.map((x) => (x ? 1 : 0)).join("")), [
    "11001",
    "00110",
    "00110",
    "11001",
    "11001",
  ]);
  const zero = {
    transitions: labels.map(() => labels.map(() => 0)),
    start: labels.map(() => 0),
    end: labels.map(() => 0),
  };
  // Alone, B-PS then O would win; with constraints it must be B-PS E-PS.
  assert.deepEqual(viterbi([[0, 5, 0, 0, 0], [1, 0, 0, 0.5, 0]], zero, c).path, [1, 3]);
});

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
