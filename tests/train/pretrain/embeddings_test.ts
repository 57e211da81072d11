/**
 * Skip-gram embeddings: tokens that share their contexts end up with similar vectors, the encoder built from
 * them has the init's scale and otherwise random weights.
 */
import assert from "node:assert/strict";
import { configFromHf } from "../../../onnx/electra/config.ts";
import { initParams } from "../../../onnx/electra/init.ts";
import { cosine, countTokens, embeddingEncoder, trainSkipGram } from "../../../train/pretrain/embeddings.ts";
import { Rng } from "../../../train/util/rng.ts";

Deno.test("trainSkipGram() makes tokens that share contexts closer than tokens that do not", () => {
  // Five classes; class k has members k and k + 5, always between its own two context tokens 20 + 2k, 21 + 2k.
  const rng = new Rng(3);
  const sentences: Int32Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const s: number[] = [];
    for (let j = 0; j < 4; j++) {
      const k = rng.int(5);
      s.push(20 + 2 * k, k + 5 * rng.int(2), 21 + 2 * k);
    }
    sentences.push(Int32Array.from(s));
  }
  const counts = countTokens(sentences, 40);
  assert.equal(counts[20] + counts[22] + counts[24] + counts[26] + counts[28], 12000);
  const vectors = trainSkipGram(() => sentences, counts, {
    dim: 16,
    window: 1,
    epochs: 3,
    subsample: 0,
    seed: 1,
  });
  for (let k = 0; k < 5; k++) {
    const same = cosine(vectors, 16, k, k + 5);
    for (let j = 0; j < 5; j++) {
      if (j === k) continue;
      assert.ok(
        same > cosine(vectors, 16, k, j) + 0.2,
        `class ${k}: ${same} vs class ${j}: ${cosine(vectors, 16, k, j)}`,
      );
    }
  }
  // The same seed gives the same vectors.
  assert.deepEqual(
    trainSkipGram(() => sentences, counts, { dim: 16, window: 1, subsample: 0, seed: 1 }).slice(0, 16),
    trainSkipGram(() => sentences, counts, { dim: 16, window: 1, subsample: 0, seed: 1 }).slice(0, 16),
  );
  assert.throws(
    () =>
      trainSkipGram(() => sentences, counts, {
        dim: 4,
        skip: new Set(Array.from({ length: 40 }, (_, i) => i)),
      }),
    /no trainable token/,
  );
});

Deno.test("embeddingEncoder() puts the vectors at the init's scale, pads with zeros, draws the rest as a fresh model", () => {
  const config = configFromHf({
    model_type: "electra",
    vocab_size: 30,
    embedding_size: 8,
    hidden_size: 16,
    num_attention_heads: 2,
    intermediate_size: 32,
    num_hidden_layers: 1,
    max_position_embeddings: 16,
  });
  const vectors = Float32Array.from({ length: 30 * 8 }, (_, i) => Math.sin(i) * 3 + 1);
  const w = embeddingEncoder(config, vectors, 7);
  const word = w["electra.embeddings.word_embeddings.weight"].data as Float32Array;
  let sum = 0, sq = 0;
  for (const x of vectors) sum += x, sq += x * x;
  const mean = sum / vectors.length, std = Math.sqrt(sq / vectors.length - mean * mean);
  for (let i = 8; i < word.length; i += 13) {
    assert.ok(Math.abs(word[i] - ((vectors[i] - mean) / std) * 0.02) < 1e-6);
  }
  assert.deepEqual(Array.from(word.slice(0, 8)), new Array(8).fill(0)); // [PAD] = 0
  const init = initParams({ seed: 7, std: 0.02, padTokenId: 0 });
  const q = w["electra.encoder.layer.0.attention.self.query.weight"];
  assert.deepEqual(q.dims, [16, 16]);
  assert.deepEqual(
    q.data,
    init("electra.encoder.layer.0.attention.self.query.weight", [16, 16], "normal").data,
  );
  assert.deepEqual(w["electra.embeddings_project.weight"].dims, [8, 16]); // graph layout (in, out)
  assert.ok((w["electra.embeddings.LayerNorm.weight"].data as Float32Array).every((x) => x === 1));
  assert.throws(
    () => embeddingEncoder(config, new Float32Array(5), 0),
    /expected vocab_size × embedding_size = 240/,
  );
});
