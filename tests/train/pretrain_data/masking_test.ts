import assert from "node:assert/strict";
import {
  continuationTable,
  gumbelNoise,
  maskBatch,
  maxPredictions,
  pretrainFeeds,
  sampleUniform,
  specialIdsFromVocab,
  type TokenBatch,
} from "../../../train/pretrain_data/masking.ts";
import { Rng } from "../../../train/util/rng.ts";

const PAD = 0, CLS = 2, SEP = 3, MASK = 4;

/** Rows `[CLS] w… [SEP] w… [SEP]` of the given real lengths, padded to T. */
function makeBatch(lengths: number[], T: number): TokenBatch {
  const B = lengths.length;
  const inputIds = new Int32Array(B * T),
    segmentIds = new Int32Array(B * T),
    attentionMask = new Int32Array(B * T);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      attentionMask[b * T + t] = 1;
      inputIds[b * T + t] = t === 0
        ? CLS
        : t === n - 1 || t === Math.floor(n / 2)
        ? SEP
        : 10 + ((t * 7 + b) % 50);
      segmentIds[b * T + t] = t > n / 2 ? 1 : 0;
    }
  });
  return { inputIds, segmentIds, attentionMask, batchSize: B, seqLength: T };
}

Deno.test("maxPredictions() is ELECTRA's int((mask_prob + 0.005) · length)", () => {
  assert.equal(maxPredictions(0.15, 128), 19);
  assert.equal(maxPredictions(0.15, 512), 79);
  assert.equal(maxPredictions(0.15, 32), 4);
});

Deno.test("maskBatch() picks round(0.15·n) distinct, sorted, maskable positions and pads with weight 0", () => {
  const T = 128, lengths = [128, 60, 7, 3];
  const batch = makeBatch(lengths, T);
  const m = maskBatch(batch, { maskProb: 0.15 }, new Rng(1));
  const P = m.numPredictions;
  assert.equal(P, 19);
  lengths.forEach((n, b) => {
    const maskable = n - 1 - 2; // minus [CLS] and two [SEP]
    const k = Math.min(maskable, Math.max(1, Math.min(P, Math.round(n * 0.15))));
    const w = Array.from(m.weights.subarray(b * P, b * P + P));
    assert.deepEqual(w, [...new Array(k).fill(1), ...new Array(P - k).fill(0)], `row ${b}`);
    const pos = Array.from(m.positions.subarray(b * P, b * P + k));
    assert.deepEqual(pos, [...new Set(pos)].sort((x, y) => x - y), "distinct and sorted");
    for (let i = 0; i < P; i++) {
      const p: number = m.positions[b * P + i];
      if (i >= k) {
        assert.equal(p, 0);
        assert.equal(m.labels[b * P + i], 0);
        continue;
      }
      const original = batch.inputIds[b * T + p];
      assert.ok(p < n, "inside the real tokens");
      assert.ok(![CLS, SEP, PAD].includes(original), "never a special token");
      assert.equal(m.labels[b * P + i], original);
      assert.ok([MASK, original].includes(m.inputIds[b * T + p]), "[MASK] or unchanged, never random");
    }
  });
  // Everything not chosen is untouched, and the input batch is not modified.
  assert.deepEqual(makeBatch(lengths, T).inputIds, batch.inputIds);
  let changed = 0;
  for (let i = 0; i < batch.inputIds.length; i++) if (m.inputIds[i] !== batch.inputIds[i]) changed++;
  assert.ok(changed <= m.weights.reduce((s, x) => s + x, 0));
});

Deno.test("maskBatch() replaces about 85% of the chosen tokens with [MASK]", () => {
  const batch = makeBatch(new Array(64).fill(128), 128);
  let chosen = 0, masked = 0;
  for (let s = 0; s < 5; s++) {
    const m = maskBatch(batch, { maskProb: 0.15 }, new Rng(s));
    for (let i = 0; i < m.weights.length; i++) {
      if (!m.weights[i]) continue;
      chosen++;
      const b = Math.floor(i / m.numPredictions);
      if (m.inputIds[b * 128 + m.positions[i]] === MASK) masked++;
    }
  }
  const rate = masked / chosen;
  assert.ok(Math.abs(rate - 0.85) < 0.03, `mask rate ${rate} over ${chosen}`);
});

Deno.test("maskBatch() is deterministic in the RNG stream", () => {
  const batch = makeBatch([40, 32, 20], 48);
  const a = maskBatch(batch, { maskProb: 0.15 }, new Rng(9, "mask", 0));
  const b = maskBatch(batch, { maskProb: 0.15 }, new Rng(9, "mask", 0));
  const c = maskBatch(batch, { maskProb: 0.15 }, new Rng(9, "mask", 1));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.positions, c.positions);
});

Deno.test("pretrainFeeds() makes the graph's int64 feeds and noise shapes", () => {
  const m = maskBatch(makeBatch([10, 16], 16), { maskProb: 0.15 }, new Rng(2));
  const P = m.numPredictions;
  const f = pretrainFeeds(m, { name: "sample_uniform", data: sampleUniform(2, P, new Rng(3)) });
  assert.deepEqual(Object.keys(f).sort(), [
    "attention_mask",
    "input_ids",
    "masked_lm_ids",
    "masked_lm_positions",
    "masked_lm_weights",
    "sample_uniform",
    "token_type_ids",
  ]);
  assert.equal(f.input_ids.dtype, "int64");
  assert.deepEqual(f.input_ids.dims, [2, 16]);
  assert.deepEqual(f.masked_lm_positions.dims, [2, P]);
  assert.deepEqual(f.sample_uniform.dims, [2, P]);
  const g = pretrainFeeds(m, { name: "gumbel_noise", data: gumbelNoise(2, P, 30, new Rng(3)) });
  assert.deepEqual(g.gumbel_noise.dims, [2, P, 30]);
  assert.ok((g.gumbel_noise.data as Float32Array).every(Number.isFinite));
});

Deno.test("specialIdsFromVocab() finds the ids and names a missing token", () => {
  const vocab = new Map([["[PAD]", 0], ["[UNK]", 1], ["[CLS]", 2], ["[SEP]", 3], ["[MASK]", 4]]);
  assert.deepEqual(specialIdsFromVocab(vocab), { pad: 0, cls: 2, sep: 3, mask: 4 });
  vocab.delete("[MASK]");
  assert.throws(() => specialIdsFromVocab(vocab, "v.txt"), /"v\.txt" has no \[MASK\] token/);
});

Deno.test("maskBatch() with whole-word masking chooses every piece of a word or none, at most k positions", () => {
  // Ids 10–29 start words, 30–59 are `##` pieces: rows mix one-, two- and three-piece words.
  const tokens = Array.from({ length: 60 }, (_, i) => (i >= 30 ? `##p${i}` : `w${i}`));
  const continuation = continuationTable(tokens);
  assert.equal(continuation[31], 1);
  assert.equal(continuation[12], 0);
  const T = 40, B = 3;
  const inputIds = new Int32Array(B * T), attentionMask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      attentionMask[b * T + t] = 1;
      inputIds[b * T + t] = t === 0
        ? CLS
        : t === T - 1
        ? SEP
        : t % 3 === 1
        ? 10 + t % 20
        : 30 + ((t + b) % 30);
    }
  }
  const batch = { inputIds, segmentIds: new Int32Array(B * T), attentionMask, batchSize: B, seqLength: T };
  const wordOf = (ids: Int32Array, t: number) => {
    let s = t;
    while (continuation[ids[s]]) s--;
    let e = t + 1;
    while (e < T - 1 && continuation[ids[e]]) e++;
    return Array.from({ length: e - s }, (_, i) => s + i);
  };
  for (let seed = 0; seed < 20; seed++) {
    const m = maskBatch(batch, { maskProb: 0.3, continuation }, new Rng(seed));
    const P = m.numPredictions, k = Math.round(T * 0.3);
    for (let b = 0; b < B; b++) {
      const chosen = new Set<number>();
      for (let i = 0; i < P; i++) if (m.weights[b * P + i]) chosen.add(m.positions[b * P + i]);
      assert.ok(chosen.size <= k && chosen.size >= k - 2, `${chosen.size} chosen, k ${k}`);
      for (const t of chosen) {
        for (const u of wordOf(inputIds.subarray(b * T, (b + 1) * T), t)) {
          assert.ok(chosen.has(u), `seed ${seed} row ${b}: ${t} chosen without ${u} of its word`);
        }
        assert.equal(m.labels[b * P + [...chosen].sort((x, y) => x - y).indexOf(t)], inputIds[b * T + t]);
      }
    }
  }
});

Deno.test("pretrainFeeds() without noise makes the masked-LM graph's feeds only", () => {
  const m = maskBatch(makeBatch([10], 12), { maskProb: 0.15 }, new Rng(1));
  assert.deepEqual(Object.keys(pretrainFeeds(m)).sort(), [
    "attention_mask",
    "input_ids",
    "masked_lm_ids",
    "masked_lm_positions",
    "masked_lm_weights",
    "token_type_ids",
  ]);
});
