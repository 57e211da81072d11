/**
 * ELECTRA's input masking (google-research/electra `pretrain_helpers.mask`), in TypeScript and seeded,
 * producing the feeds of the pretraining graph.
 *
 * What ELECTRA does, per sequence of `n` real tokens (input_mask = 1), with N = max_predictions_per_seq:
 * - candidates are real tokens other than [CLS], [SEP] and [MASK];
 * - it predicts k = max(1, min(N, round(n · mask_prob))) positions, padded to N with weight 0;
 * - 85% of the chosen positions become [MASK]; the other 15% keep their original token (ELECTRA has no
 *   BERT-style 10% random replacement: the generator's samples already supply replaced tokens);
 * - N = int((mask_prob + 0.005) · max_seq_length), i.e. 19 for 0.15 × 128.
 * One deliberate difference: ELECTRA draws positions with `tf.random.categorical`, i.e. with replacement,
 * so a position can repeat; here positions are distinct (a partial Fisher–Yates over the candidates, as
 * BERT's `create_pretraining_data` does), which the joint graph requires, and k is also capped at the
 * number of candidates. Positions are sorted ascending (deterministic and easy to read in tests).
 * @module
 */
import type { Tensor } from "../../onnx/tensor.ts";
import type { Rng } from "../util/rng.ts";

/** Token ids the masking needs. */
export interface SpecialIds {
  pad: number;
  cls: number;
  sep: number;
  mask: number;
}

/** The project's vocabulary layout ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, infer/tokenizer.ts). */
export const DEFAULT_SPECIAL_IDS: Readonly<SpecialIds> = Object.freeze({ pad: 0, cls: 2, sep: 3, mask: 4 });

/** Special ids looked up in a vocabulary (token → id), failing with the token's name when one is missing. */
export function specialIdsFromVocab(vocab: Map<string, number>, source = "vocab.txt"): SpecialIds {
  const get = (t: string) => {
    const id = vocab.get(t);
    if (id === undefined) throw new Error(`"${source}" has no ${t} token, which pretraining needs`);
    return id;
  };
  return { pad: get("[PAD]"), cls: get("[CLS]"), sep: get("[SEP]"), mask: get("[MASK]") };
}

/** ELECTRA's max_predictions_per_seq: int((mask_prob + 0.005) · max_seq_length). */
export function maxPredictions(maskProb: number, seqLength: number): number {
  return Math.max(1, Math.floor((maskProb + 0.005) * seqLength));
}

/** A padded batch as `train/pretrain_data/shards.ts` makes it: row-major (batch, seqLength). */
export interface TokenBatch {
  inputIds: Int32Array;
  segmentIds: Int32Array;
  attentionMask: Int32Array;
  batchSize: number;
  seqLength: number;
}

/** A masked batch: the inputs with masks applied and the (B, P) prediction targets. */
export interface MaskedBatch extends TokenBatch {
  /** (B, P) distinct positions, 0 where the weight is 0. */
  positions: Int32Array;
  /** (B, P) the original tokens at `positions`, 0 where the weight is 0. */
  labels: Int32Array;
  /** (B, P) 1 for a real prediction, 0 for padding. */
  weights: Float32Array;
  numPredictions: number;
}

/** Options of `maskBatch`. */
export interface MaskOptions {
  maskProb: number;
  /** N (default: `maxPredictions(maskProb, seqLength)`). */
  numPredictions?: number;
  special?: SpecialIds;
  /** Probability that a chosen position becomes [MASK] (ELECTRA: 0.85); otherwise it is left unchanged. */
  replaceWithMask?: number;
  /**
   * Whole-word masking: by token id, 1 for a word-internal piece (`##…`), 0 for a word start. Then whole words
   * (a start and the pieces after it) are chosen in random order, as BERT's whole-word masking: a word that would
   * take the count past k is skipped, so k is an upper bound.
   */
  continuation?: Uint8Array;
}

/** Word-internal flags by token id (1 for `##` pieces) from vocab.txt lines: the table of `continuation`. */
export function continuationTable(tokens: readonly string[]): Uint8Array {
  return Uint8Array.from(tokens, (t) => (t.startsWith("##") ? 1 : 0));
}

/** Masks a batch as ELECTRA does (see the module doc); `rng` supplies every random choice. */
export function maskBatch(batch: TokenBatch, options: MaskOptions, rng: Rng): MaskedBatch {
  const { batchSize: B, seqLength: T } = batch;
  const P = options.numPredictions ?? maxPredictions(options.maskProb, T);
  const sp = options.special ?? DEFAULT_SPECIAL_IDS;
  const toMask = options.replaceWithMask ?? 0.85;
  const inputIds = batch.inputIds.slice();
  const positions = new Int32Array(B * P), labels = new Int32Array(B * P), weights = new Float32Array(B * P);
  const candidates = new Int32Array(T);
  for (let b = 0; b < B; b++) {
    const row = b * T;
    let n = 0, c = 0;
    for (let t = 0; t < T; t++) {
      if (!batch.attentionMask[row + t]) continue;
      n++;
      const id = batch.inputIds[row + t];
      if (id !== sp.cls && id !== sp.sep && id !== sp.mask && id !== sp.pad) candidates[c++] = t;
    }
    const k = Math.min(c, Math.max(1, Math.min(P, Math.round(n * options.maskProb))));
    let chosen: number[];
    if (options.continuation) {
      chosen = chooseWords(
        candidates.subarray(0, c),
        batch.inputIds.subarray(row, row + T),
        options.continuation,
        k,
        rng,
      );
    } else {
      // Partial Fisher–Yates: the first k slots become a uniform sample without replacement.
      for (let i = 0; i < k; i++) {
        const j = i + rng.int(c - i);
        const t = candidates[i];
        candidates[i] = candidates[j];
        candidates[j] = t;
      }
      chosen = Array.from(candidates.subarray(0, k));
    }
    chosen.sort((x, y) => x - y);
    chosen.forEach((t, i) => {
      positions[b * P + i] = t;
      labels[b * P + i] = batch.inputIds[row + t];
      weights[b * P + i] = 1;
      if (rng.next() < toMask) inputIds[row + t] = sp.mask;
    });
  }
  return { ...batch, inputIds, positions, labels, weights, numPredictions: P };
}

/** Positions of whole words (candidates grouped at word starts) chosen in random order up to `k` positions. */
function chooseWords(
  candidates: Int32Array,
  ids: Int32Array,
  continuation: Uint8Array,
  k: number,
  rng: Rng,
): number[] {
  const words: number[][] = [];
  let prev = -2;
  for (const t of candidates) {
    // A `##` piece right after the previous candidate continues its word; anything else starts one.
    if (continuation[ids[t]] && t === prev + 1 && words.length) words[words.length - 1].push(t);
    else words.push([t]);
    prev = t;
  }
  const order = rng.permutation(words.length);
  const chosen: number[] = [];
  for (const w of order) {
    if (chosen.length + words[w].length > k) continue;
    chosen.push(...words[w]);
    if (chosen.length === k) break;
  }
  return chosen;
}

/** One uniform draw per prediction, for the graph's inverse-CDF sampler (`sample_uniform`, (B, P)). */
export function sampleUniform(batchSize: number, numPredictions: number, rng: Rng): Float32Array {
  const u = new Float32Array(batchSize * numPredictions);
  // Float32 rounding can turn a draw just below 1 into 1.0; the graph clamps the sampled id, so that is harmless.
  for (let i = 0; i < u.length; i++) u[i] = rng.next();
  return u;
}

/** Gumbel noise −log(−log u) for the graph's Gumbel-max sampler (`gumbel_noise`, (B, P, V)). */
export function gumbelNoise(
  batchSize: number,
  numPredictions: number,
  vocabSize: number,
  rng: Rng,
): Float32Array {
  const g = new Float32Array(batchSize * numPredictions * vocabSize);
  for (let i = 0; i < g.length; i++) g[i] = -Math.log(-Math.log((rng.nextUint32() + 0.5) / 4294967296));
  return g;
}

const int64 = (dims: number[], src: Int32Array): Tensor => ({
  dtype: "int64",
  dims,
  data: BigInt64Array.from(src, (x) => BigInt(x)),
});

/**
 * The pretraining graph's feeds for a masked batch (`noise` is `sample_uniform` or `gumbel_noise`; the masked-LM
 * graph takes none).
 */
export function pretrainFeeds(
  m: MaskedBatch,
  noise?: { name: "sample_uniform" | "gumbel_noise"; data: Float32Array },
): Record<string, Tensor> {
  const B = m.batchSize, T = m.seqLength, P = m.numPredictions;
  const feeds: Record<string, Tensor> = {
    input_ids: int64([B, T], m.inputIds),
    attention_mask: int64([B, T], m.attentionMask),
    token_type_ids: int64([B, T], m.segmentIds),
    masked_lm_positions: int64([B, P], m.positions),
    masked_lm_ids: int64([B, P], m.labels),
    masked_lm_weights: { dtype: "float32", dims: [B, P], data: m.weights },
  };
  if (noise) {
    const dims = noise.name === "sample_uniform" ? [B, P] : [B, P, noise.data.length / (B * P)];
    feeds[noise.name] = { dtype: "float32", dims, data: noise.data };
  }
  return feeds;
}
