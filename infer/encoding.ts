/**
 * The shape every tokenizer returns and every aligner, window splitter and decoder reads.
 * @module
 */

/** One tokenized text: parallel arrays, one entry per token (special tokens included). */
export interface Encoding {
  /** Vocabulary ids. */
  ids: number[];
  /** Token strings as in the vocabulary (`##` continuations kept). */
  tokens: string[];
  /**
   * `[start, end)` offsets of each token in the original input, in JavaScript string indices
   * (UTF-16 code units), never splitting a surrogate pair. Special tokens get `[0, 0]`.
   */
  offsets: [number, number][];
  /** Index of the pre-tokenized word (whitespace/punctuation split) each token belongs to; `null` for special tokens. */
  wordIds: (number | null)[];
  /** 1 for special tokens ([CLS], [SEP], [PAD]), else 0. */
  specialTokensMask: number[];
}
