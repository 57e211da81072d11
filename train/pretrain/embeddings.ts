/**
 * Word-piece embeddings trained on the corpora by skip-gram with negative sampling (word2vec's SGNS, Mikolov et
 * al. 2013), the cheapest pretrained part of issue 25: an encoder whose word embeddings are these vectors and
 * whose other weights are random (`embeddingEncoder`), probed like any pretraining checkpoint.
 *
 * Plain TypeScript over Float32Arrays, one thread, seeded: for each token (after word2vec's frequent-token
 * subsampling) and each context token within a random window of up to `window` on either side, one positive
 * and `negatives` negative logistic updates, negatives drawn from the unigram distribution to the power 0.75,
 * learning rate decaying linearly to 0 over the planned tokens. Sequences are pretraining examples
 * (`deno task build-data` shards); special tokens ([CLS], [SEP], …) are skipped, so contexts never cross them.
 * @module
 */
import type { ElectraConfig } from "../../onnx/electra/config.ts";
import { hfTensorShapes, isLinearWeight } from "../../onnx/electra/hf.ts";
import { initParams } from "../../onnx/electra/init.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { Rng } from "../util/rng.ts";

/** Skip-gram hyperparameters (word2vec's defaults where it has them). */
export interface SkipGramOptions {
  /** Vector width (the model's embedding_size). */
  dim: number;
  /** Largest context distance on either side; each centre draws its window from 1..window (5). */
  window?: number;
  /** Negative samples per positive (5). */
  negatives?: number;
  /** Initial learning rate, decaying linearly to 0 (0.025). */
  learningRate?: number;
  /** Subsampling threshold t: a token of frequency f is kept with probability √(t/f) + t/f (1e-4; 0: off). */
  subsample?: number;
  /** Passes over the sequences (1). */
  epochs?: number;
  seed?: number;
  /** Token ids never trained as centre or context (special tokens). */
  skip?: ReadonlySet<number>;
  /** Called every `progressEvery` tokens with the tokens done and planned. */
  onProgress?: (done: number, total: number) => void;
}

/** Token counts of `sequences` over a vocabulary of `vocabSize` ids. */
export function countTokens(sequences: Iterable<ArrayLike<number>>, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const s of sequences) for (let i = 0; i < s.length; i++) counts[s[i]]++;
  return counts;
}

const sigmoid = (x: number) => (x > 8 ? 1 : x < -8 ? 0 : 1 / (1 + Math.exp(-x)));

/**
 * Trains input vectors (V × dim, row-major) on `sequences` (called once per epoch; each call must yield the
 * same sequences) with `counts` from `countTokens`. Ids absent from the data keep their random start.
 */
export function trainSkipGram(
  sequences: () => Iterable<ArrayLike<number>>,
  counts: Float64Array,
  o: SkipGramOptions,
): Float32Array {
  const V = counts.length, D = o.dim;
  const window = o.window ?? 5, K = o.negatives ?? 5, lr0 = o.learningRate ?? 0.025, epochs = o.epochs ?? 1;
  const t = o.subsample ?? 1e-4;
  const skip = o.skip ?? new Set<number>();
  const rng = new Rng(o.seed ?? 0, "skip-gram");
  // word2vec's start: input vectors uniform in ±0.5/D, output vectors 0.
  const vin = new Float32Array(V * D), vout = new Float32Array(V * D);
  for (let i = 0; i < vin.length; i++) vin[i] = (rng.next() - 0.5) / D;

  let total = 0;
  for (let v = 0; v < V; v++) if (!skip.has(v)) total += counts[v];
  if (!total) throw new Error("trainSkipGram(): the sequences hold no trainable token");
  // Negative-sampling table: ids in proportion to count^0.75 (word2vec's 1e8-entry table, smaller here).
  const tableSize = Math.min(1 << 22, Math.max(1 << 16, 16 * V));
  const table = new Int32Array(tableSize);
  let z = 0;
  for (let v = 0; v < V; v++) if (!skip.has(v)) z += Math.pow(counts[v], 0.75);
  for (let v = 0, i = 0, acc = 0; v < V; v++) {
    if (skip.has(v) || !counts[v]) continue;
    acc += Math.pow(counts[v], 0.75) / z;
    const end = Math.min(tableSize, Math.round(acc * tableSize));
    for (; i < end; i++) table[i] = v;
  }
  const keep = new Float64Array(V).fill(1);
  if (t > 0) {
    for (let v = 0; v < V; v++) {
      const f = counts[v] / total;
      if (f > 0) keep[v] = Math.min(1, Math.sqrt(t / f) + t / f);
    }
  }

  const planned = total * epochs;
  const grad = new Float32Array(D);
  let done = 0, nextReport = 1e6;
  const ids: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const s of sequences()) {
      ids.length = 0;
      for (let i = 0; i < s.length; i++) {
        const v = s[i];
        if (skip.has(v)) continue;
        done++;
        if (keep[v] >= 1 || rng.next() < keep[v]) ids.push(v);
      }
      const lr = Math.max(lr0 * 1e-4, lr0 * (1 - done / planned));
      for (let c = 0; c < ids.length; c++) {
        const b = 1 + rng.int(window);
        const inRow = ids[c] * D;
        for (let j = Math.max(0, c - b); j <= Math.min(ids.length - 1, c + b); j++) {
          if (j === c) continue;
          grad.fill(0);
          // One positive (the context token) and K negatives, each a logistic update of both vectors.
          for (let k = 0; k <= K; k++) {
            const target = k === 0 ? ids[j] : table[rng.int(tableSize)];
            if (k > 0 && target === ids[j]) continue;
            const outRow = target * D;
            let dot = 0;
            for (let d = 0; d < D; d++) dot += vin[inRow + d] * vout[outRow + d];
            const g = lr * ((k === 0 ? 1 : 0) - sigmoid(dot));
            for (let d = 0; d < D; d++) {
              grad[d] += g * vout[outRow + d];
              vout[outRow + d] += g * vin[inRow + d];
            }
          }
          for (let d = 0; d < D; d++) vin[inRow + d] += grad[d];
        }
      }
      if (o.onProgress && done >= nextReport) {
        o.onProgress(done, planned);
        nextReport = done + 1e6;
      }
    }
  }
  return vin;
}

/** Cosine similarity of rows `a` and `b` of a (V × dim) table. */
export function cosine(vectors: Float32Array, dim: number, a: number, b: number): number {
  let ab = 0, aa = 0, bb = 0;
  for (let d = 0; d < dim; d++) {
    const x = vectors[a * dim + d], y = vectors[b * dim + d];
    ab += x * y, aa += x * x, bb += y * y;
  }
  return ab / Math.sqrt(aa * bb || 1);
}

/**
 * The encoder weights of `config` (graph layout, HF names) drawn as a fresh model's with `seed`, except the word
 * embeddings: the trained vectors, rescaled so that their elements have the standard deviation of the init
 * (`initializer_range`), so that they enter the embedding LayerNorm at the scale of the position and type
 * embeddings they are added to. The padding row stays zero.
 */
export function embeddingEncoder(
  config: ElectraConfig,
  vectors: Float32Array,
  seed: number,
): Record<string, Tensor> {
  const V = config.vocabSize, E = config.embeddingSize;
  if (vectors.length !== V * E) {
    throw new Error(
      `embeddingEncoder(): ${vectors.length} values, expected vocab_size × embedding_size = ${V * E}`,
    );
  }
  let sum = 0, sq = 0;
  for (const x of vectors) sum += x, sq += x * x;
  const mean = sum / vectors.length, std = Math.sqrt(Math.max(sq / vectors.length - mean * mean, 1e-30));
  const word = new Float32Array(V * E);
  for (let i = 0; i < word.length; i++) word[i] = ((vectors[i] - mean) / std) * config.initializerRange;
  if (config.padTokenId !== undefined && config.padTokenId >= 0) {
    word.fill(0, config.padTokenId * E, (config.padTokenId + 1) * E);
  }
  const init = initParams({ seed, std: config.initializerRange, padTokenId: config.padTokenId });
  const out: Record<string, Tensor> = {};
  for (const [name, hfDims] of hfTensorShapes(config, "ElectraModel")) {
    // Graph layout: linear weights (in, out), the transpose of HF's; init kinds as the builders declare them.
    const dims = isLinearWeight(name, hfDims) ? [hfDims[1], hfDims[0]] : hfDims;
    const kind = /_embeddings\.weight$/.test(name)
      ? "embedding"
      : name.endsWith(".bias")
      ? "zeros"
      : name.includes("LayerNorm")
      ? "ones"
      : "normal";
    out[name] = name === "electra.embeddings.word_embeddings.weight"
      ? { dtype: "float32", dims: [V, E], data: word }
      : init(name, dims, kind);
  }
  return out;
}
