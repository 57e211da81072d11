/**
 * WordPiece vocabulary trainer, built like Hugging Face's `BertWordPieceTokenizer.train` (a BPE trainer
 * with `##` continuations whose merges become the WordPiece vocabulary), the way KoELECTRA/KcBERT made
 * theirs: count words after BERT basic tokenization, keep the `limitAlphabet` most frequent characters,
 * then merge the most frequent adjacent pair until the vocabulary is full.
 *
 * Layout of the result (our decision, matching KoELECTRA): `[PAD] [UNK] [CLS] [SEP] [MASK]` at ids 0–4,
 * then `unused` placeholders `[unused0]…` (default none; reserve some to add domain tokens later without
 * resizing the embeddings), then single characters by code point, then `##` characters, then merges in
 * the order they were learned. Everything counts towards `vocabSize`. Deterministic: ties between equally
 * frequent pairs go to the pair of smaller ids, never to hash order.
 * @module
 */

import { BasicTokenizer } from "../../infer/basic_tokenizer.ts";
import { SPECIAL_TOKENS } from "../../infer/tokenizer.ts";

/** Options of `trainWordPiece` / `WordCounter`. */
export interface VocabOptions {
  /** Total vocabulary size, special and unused tokens included (default 35000). */
  vocabSize?: number;
  /** Pairs seen fewer times are never merged (default 2). */
  minFrequency?: number;
  /** Keep only this many most frequent characters (default 6000: all Hangul syllables in real use). */
  limitAlphabet?: number;
  /** Number of `[unusedN]` placeholders after the special tokens (default 0). */
  unused?: number;
  /** Continuation prefix (default `##`). */
  prefix?: string;
  /** Words longer than this (code points) are not counted: the tokenizer makes them `[UNK]` (default 100). */
  maxWordChars?: number;
  /** Called now and then during merging with (merges done, merges wanted). */
  onMergeProgress?: (done: number, total: number) => void;
}

/**
 * Counts words (BERT basic tokenization) with bounded memory: past `maxWords` distinct words, the rarest
 * are dropped (count ≤ 1, then ≤ 2, …), which only loses words that could never win a merge anyway.
 */
export class WordCounter {
  readonly counts = new Map<string, number>();
  readonly maxWords: number;
  /** Words dropped by pruning so far, and the count at or below which they were dropped. */
  pruned = 0;
  pruneFloor = 0;
  #basic = new BasicTokenizer();

  constructor(maxWords = 4_000_000) {
    this.maxWords = maxWords;
  }

  /** Adds the words of one line of text. */
  add(text: string): void {
    const counts = this.counts;
    this.#basic.split(text, (word) => {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    });
    if (counts.size > this.maxWords) this.#prune();
  }

  #prune(): void {
    while (this.counts.size > this.maxWords * 0.75) {
      this.pruneFloor++;
      for (const [w, c] of this.counts) {
        if (c <= this.pruneFloor) {
          this.counts.delete(w);
          this.pruned++;
        }
      }
    }
  }
}

/** A min-max heap of merge candidates ordered by count (desc), then pair key (asc). */
class PairHeap {
  #counts: number[] = [];
  #keys: number[] = [];

  get size(): number {
    return this.#keys.length;
  }

  #before(i: number, j: number): boolean {
    const ci = this.#counts[i], cj = this.#counts[j];
    return ci > cj || (ci === cj && this.#keys[i] < this.#keys[j]);
  }

  #swap(i: number, j: number): void {
    const c = this.#counts[i], k = this.#keys[i];
    this.#counts[i] = this.#counts[j];
    this.#keys[i] = this.#keys[j];
    this.#counts[j] = c;
    this.#keys[j] = k;
  }

  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    let i = this.#keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.#counts[0], this.#keys[0]];
    const lastC = this.#counts.pop()!, lastK = this.#keys.pop()!;
    if (this.#keys.length > 0) {
      this.#counts[0] = lastC;
      this.#keys[0] = lastK;
      let i = 0;
      const n = this.#keys.length;
      while (true) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < n && this.#before(l, m)) m = l;
        if (r < n && this.#before(r, m)) m = r;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

// Pair keys pack two ids below 2^21 into one safe integer.
const SHIFT = 2 ** 21;

/** The alphabet: the most frequent characters (by word counts) that fit, and those that continue a word. */
function chooseAlphabet(
  counts: Map<string, number>,
  room: number,
  limitAlphabet: number,
): { alphabet: number[]; continues: Set<number> } {
  const charCounts = new Map<number, number>();
  for (const [word, c] of counts) {
    for (const ch of word) {
      const cp = ch.codePointAt(0)!;
      charCounts.set(cp, (charCounts.get(cp) ?? 0) + c);
    }
  }
  // Continuation forms only for characters that occur after the start of some word.
  const continues = new Set<number>();
  for (const word of counts.keys()) {
    let first = true;
    for (const ch of word) {
      if (!first) continues.add(ch.codePointAt(0)!);
      first = false;
    }
  }
  // Most frequent first, and never more character forms than the vocabulary has room for.
  const alphabet: number[] = [];
  for (const [cp] of [...charCounts].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    const forms = continues.has(cp) ? 2 : 1;
    if (alphabet.length >= limitAlphabet || forms > room) break;
    alphabet.push(cp);
    room -= forms;
  }
  alphabet.sort((a, b) => a - b);
  return { alphabet, continues };
}

/** Words as symbol sequences in one flat array: word w is `flat[starts[w] .. starts[w] + lens[w])`. */
interface SymbolWords {
  flat: Int32Array;
  starts: number[];
  lens: number[];
  weights: number[];
}

/**
 * The words as symbol ids; an unknown character cuts a word into segments (no merge may cross it), and
 * segments after the first use continuation forms.
 */
function symbolWords(
  counts: Map<string, number>,
  startId: Map<number, number>,
  contId: Map<number, number>,
  maxWordChars: number,
): SymbolWords {
  let flat = new Int32Array(1 << 20);
  let used = 0;
  const starts: number[] = [];
  const lens: number[] = [];
  const weights: number[] = [];
  const push = (id: number) => {
    if (used === flat.length) {
      const bigger = new Int32Array(flat.length * 2);
      bigger.set(flat);
      flat = bigger;
    }
    flat[used++] = id;
  };
  for (const [word, c] of counts) {
    const chars = [...word];
    if (chars.length > maxWordChars) continue;
    let segStart = used;
    const close = () => {
      if (used - segStart >= 2) {
        starts.push(segStart);
        lens.push(used - segStart);
        weights.push(c);
      } else used = segStart; // a one-symbol segment can take part in no pair
      segStart = used;
    };
    for (let i = 0; i < chars.length; i++) {
      const cp = chars[i].codePointAt(0)!;
      const id = i === 0 ? startId.get(cp) : contId.get(cp);
      if (id === undefined) close();
      else push(id);
    }
    close();
  }
  return { flat, starts, lens, weights };
}

/** Pair counts and where each pair occurs (word indices; may hold stale entries, checked on use). */
function pairIndex(words: SymbolWords): { pairCounts: Map<number, number>; where: Map<number, number[]> } {
  const { flat, starts, lens, weights } = words;
  const pairCounts = new Map<number, number>();
  const where = new Map<number, number[]>();
  for (let w = 0; w < starts.length; w++) {
    const s = starts[w], c = weights[w];
    for (let i = s; i < s + lens[w] - 1; i++) {
      const key = flat[i] * SHIFT + flat[i + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + c);
      const list = where.get(key);
      if (list === undefined) where.set(key, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  return { pairCounts, where };
}

/**
 * Merges pair (a, b) into m in word w, in place, left to right: the word's old pairs leave the counts, its
 * new ones join them, and every pair whose count moved is added to `changed`. False if the pair is absent.
 */
function mergeWord(
  words: SymbolWords,
  w: number,
  a: number,
  b: number,
  m: number,
  index: { pairCounts: Map<number, number>; where: Map<number, number[]> },
  changed: Set<number>,
): boolean {
  const { flat, starts, lens, weights } = words;
  const { pairCounts, where } = index;
  const s = starts[w], n = lens[w], c = weights[w];
  let found = false;
  for (let i = s; i < s + n - 1; i++) {
    if (flat[i] === a && flat[i + 1] === b) {
      found = true;
      break;
    }
  }
  if (!found) return false;
  for (let i = s; i < s + n - 1; i++) {
    const k = flat[i] * SHIFT + flat[i + 1];
    pairCounts.set(k, pairCounts.get(k)! - c);
    changed.add(k);
  }
  let out = s;
  for (let i = s; i < s + n; i++) {
    if (i < s + n - 1 && flat[i] === a && flat[i + 1] === b) {
      flat[out++] = m;
      i++;
    } else flat[out++] = flat[i];
  }
  lens[w] = out - s;
  for (let i = s; i < out - 1; i++) {
    const k = flat[i] * SHIFT + flat[i + 1];
    pairCounts.set(k, (pairCounts.get(k) ?? 0) + c);
    if (flat[i] === m || flat[i + 1] === m) {
      changed.add(k);
      const list = where.get(k);
      if (list === undefined) where.set(k, [w]);
      else if (list[list.length - 1] !== w) list.push(w);
    }
  }
  return true;
}

/** Trains a WordPiece vocabulary (token strings in id order) from word counts. */
export function trainWordPiece(counts: Map<string, number>, options: VocabOptions = {}): string[] {
  const vocabSize = options.vocabSize ?? 35000;
  const minFrequency = options.minFrequency ?? 2;
  const limitAlphabet = options.limitAlphabet ?? 6000;
  const prefix = options.prefix ?? "##";
  const maxWordChars = options.maxWordChars ?? 100;
  const tokens: string[] = [...SPECIAL_TOKENS];
  for (let i = 0; i < (options.unused ?? 0); i++) tokens.push(`[unused${i}]`);
  if (vocabSize >= SHIFT) throw new Error(`vocabSize must be below ${SHIFT}`);

  // 1. The alphabet, start forms first, then continuation forms.
  const { alphabet, continues } = chooseAlphabet(counts, vocabSize - tokens.length, limitAlphabet);
  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const add = (t: string) => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  const startId = new Map<number, number>();
  const contId = new Map<number, number>();
  for (const cp of alphabet) startId.set(cp, add(String.fromCodePoint(cp)));
  for (const cp of alphabet) if (continues.has(cp)) contId.set(cp, add(prefix + String.fromCodePoint(cp)));

  // 2–3. The words as symbols, and where each pair occurs.
  const words = symbolWords(counts, startId, contId, maxWordChars);
  const index = pairIndex(words);
  const { pairCounts, where } = index;
  const heap = new PairHeap();
  for (const [key, c] of pairCounts) if (c >= minFrequency) heap.push(c, key);

  // 4. Merge the best pair until the vocabulary is full.
  const wanted = Math.max(0, vocabSize - tokens.length);
  const stamp = new Int32Array(words.starts.length).fill(-1);
  let merges = 0;
  const changed = new Set<number>();
  while (tokens.length < vocabSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const actual = pairCounts.get(key) ?? 0;
    if (actual !== count) {
      if (actual >= minFrequency) heap.push(actual, key);
      continue;
    }
    if (count < minFrequency) break;
    const a = Math.floor(key / SHIFT), b = key - a * SHIFT;
    const m = add(tokens[a] + tokens[b].slice(prefix.length));
    merges++;
    if (options.onMergeProgress && merges % 500 === 0) options.onMergeProgress(merges, wanted);
    changed.clear();
    for (const w of where.get(key) ?? []) {
      if (stamp[w] === merges) continue;
      stamp[w] = merges;
      mergeWord(words, w, a, b, m, index, changed);
    }
    where.delete(key);
    pairCounts.delete(key);
    // Only pairs that gained count need a new heap entry; lowered ones are fixed when popped.
    for (const k of changed) {
      const c = pairCounts.get(k) ?? 0;
      if (c <= 0) {
        pairCounts.delete(k);
        where.delete(k);
      } else if ((Math.floor(k / SHIFT) === m || k % SHIFT === m) && c >= minFrequency) heap.push(c, k);
    }
  }
  options.onMergeProgress?.(merges, wanted);
  return tokens;
}

/** The vocabulary as `vocab.txt` text. */
export function vocabToText(tokens: string[]): string {
  return tokens.join("\n") + "\n";
}
