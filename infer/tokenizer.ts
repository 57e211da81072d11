/**
 * WordPiece tokenizer that behaves like Hugging Face `BertTokenizerFast` / `ElectraTokenizerFast`
 * (`do_lower_case=False`): special tokens split out of the raw text, `BertNormalizer` +
 * `BertPreTokenizer` (see `basic_tokenizer.ts`), greedy longest-match-first WordPiece with `##`
 * continuations, `[UNK]` for a word that cannot be covered or is over 100 characters, and
 * `[CLS] A [SEP] (B [SEP])` around the result. Every token carries `[start, end)` offsets into the
 * original input in JavaScript string indices.
 *
 * Why not `@huggingface/tokenizers` (npm, 0.2.0): its `Encoding` has no offsets, and its
 * `BertNormalizer` walks UTF-16 units when spacing CJK characters and strips accents with NFD over the
 * whole string, so offsets could not be recovered from it. Browser-safe: no `Deno.*` here.
 * @module
 */

import type { Encoding } from "./encoding.ts";
import { BasicTokenizer, type BasicTokenizerOptions } from "./basic_tokenizer.ts";

/** The five BERT special tokens, in the order our vocabularies store them (ids 0–4). */
export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] as const;

/** Options for `encode` / `encodePair`. */
export interface EncodeOptions {
  /** Wrap in `[CLS] … [SEP]` (default true). */
  addSpecialTokens?: boolean;
  /** Truncate to at most this many tokens, special tokens included (longest-first for pairs). */
  maxLength?: number;
}

/** An encoding of a pair of texts: `typeIds` are 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`. */
export interface PairEncoding extends Encoding {
  /** Segment (token type) id of each token. */
  typeIds: number[];
  /** 0 or 1 for tokens of the first or second text, `null` for special tokens. */
  sequenceIds: (number | null)[];
}

/** Construction options; the defaults are ElectraTokenizer's. */
export interface WordPieceOptions extends BasicTokenizerOptions {
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** Prefix marking a piece that continues a word (default `##`). */
  continuingSubwordPrefix?: string;
  /** Longer words (in code points) become one `[UNK]` (default 100). */
  maxInputCharsPerWord?: number;
  /** Strings matched in the raw text before normalisation and kept whole (default: the five specials). */
  addedTokens?: string[];
}

/** One tokenized piece of a single sequence, before special tokens are added. */
interface Piece {
  id: number;
  start: number;
  end: number;
  word: number;
}

// Bounded so that streaming a corpus through the tokenizer does not grow memory without limit.
const WORD_CACHE_LIMIT = 100_000;

/**
 * Greedy longest-match-first WordPiece over a vocabulary, with BERT basic tokenization in front.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WordPieceTokenizer } from "./tokenizer.ts";
 *
 * const tok = WordPieceTokenizer.fromVocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n어제\n민수\n##랑\n");
 * const e = tok.encode("어제 민수랑😀");
 * assert.deepEqual(e.tokens, ["[CLS]", "어제", "[UNK]", "[SEP]"]); // no "##😀" in this vocabulary
 * assert.deepEqual(tok.encode("😀 민수랑").offsets, [[0, 0], [0, 2], [3, 5], [5, 6], [0, 0]]);
 * ```
 */
export class WordPieceTokenizer {
  readonly vocab: Map<string, number>;
  readonly unkToken: string;
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly maskToken: string;
  readonly prefix: string;
  readonly maxInputCharsPerWord: number;
  readonly basic: BasicTokenizer;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number;
  readonly addedTokens: string[];
  #idToToken: string[];
  // A trie over UTF-16 units of the vocabulary: node 0 starts words, node 1 continues them (`##`).
  #edges = new Map<number, number>();
  #terminal: Int32Array;
  #cache = new Map<string, Int32Array>();
  #added: RegExp | null;
  #addedNeedBracket: boolean;
  #options: WordPieceOptions;

  constructor(vocab: Map<string, number>, options: WordPieceOptions = {}) {
    this.vocab = vocab;
    this.#options = options;
    this.unkToken = options.unkToken ?? "[UNK]";
    this.clsToken = options.clsToken ?? "[CLS]";
    this.sepToken = options.sepToken ?? "[SEP]";
    this.padToken = options.padToken ?? "[PAD]";
    this.maskToken = options.maskToken ?? "[MASK]";
    this.prefix = options.continuingSubwordPrefix ?? "##";
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    this.basic = new BasicTokenizer(options);
    const idOf = (t: string, required: boolean) => {
      const id = vocab.get(t);
      if (id === undefined && required) throw new Error(`The vocabulary has no ${t} token`);
      return id ?? -1;
    };
    this.unkId = idOf(this.unkToken, true);
    this.clsId = idOf(this.clsToken, true);
    this.sepId = idOf(this.sepToken, true);
    this.padId = idOf(this.padToken, false);
    this.maskId = idOf(this.maskToken, false);
    this.#idToToken = [];
    const terminal: number[] = [-1, -1];
    for (const [token, id] of vocab) {
      this.#idToToken[id] = token;
      const cont = token.startsWith(this.prefix) && token.length > this.prefix.length;
      let node = cont ? 1 : 0;
      for (let j = cont ? this.prefix.length : 0; j < token.length; j++) {
        const key = node * 65536 + token.charCodeAt(j);
        let next = this.#edges.get(key);
        if (next === undefined) {
          next = terminal.length;
          terminal.push(-1);
          this.#edges.set(key, next);
        }
        node = next;
      }
      if (node > 1) terminal[node] = id;
    }
    this.#terminal = Int32Array.from(terminal);
    this.addedTokens = (options.addedTokens ??
      [this.padToken, this.unkToken, this.clsToken, this.sepToken, this.maskToken])
      .filter((t) => t.length > 0 && vocab.has(t));
    // Longest first, as Hugging Face's added-vocabulary matcher prefers the longest match.
    const alternatives = [...new Set(this.addedTokens)].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.#added = alternatives.length ? new RegExp(alternatives.join("|"), "g") : null;
    this.#addedNeedBracket = this.addedTokens.every((t) => t.startsWith("["));
  }

  /** Builds a tokenizer from the text of a `vocab.txt` (one token per line, id = line number). */
  static fromVocab(text: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(parseVocab(text), options);
  }

  /** Builds a tokenizer from a Hugging Face `tokenizer.json` (object or JSON text) of a BERT WordPiece model. */
  static fromTokenizerJson(json: string | Record<string, unknown>): WordPieceTokenizer {
    // deno-lint-ignore no-explicit-any
    const j: any = typeof json === "string" ? JSON.parse(json) : json;
    const model = j.model;
    if (!model || model.type !== "WordPiece") {
      throw new Error(`tokenizer.json: expected model.type "WordPiece", got ${JSON.stringify(model?.type)}`);
    }
    const vocab = new Map<string, number>();
    for (const [token, id] of Object.entries(model.vocab as Record<string, number>)) vocab.set(token, id);
    const added: string[] = [];
    for (const t of (j.added_tokens ?? []) as { id: number; content: string }[]) {
      if (!vocab.has(t.content)) vocab.set(t.content, t.id);
      added.push(t.content);
    }
    const options: WordPieceOptions = {
      unkToken: model.unk_token ?? "[UNK]",
      continuingSubwordPrefix: model.continuing_subword_prefix ?? "##",
      maxInputCharsPerWord: model.max_input_chars_per_word ?? 100,
      addedTokens: added,
    };
    const n = j.normalizer;
    if (n) {
      if (n.type !== "BertNormalizer") {
        throw new Error(
          `tokenizer.json: unsupported normalizer ${JSON.stringify(n.type)} (only BertNormalizer)`,
        );
      }
      options.cleanText = n.clean_text ?? true;
      options.handleChineseChars = n.handle_chinese_chars ?? true;
      options.lowercase = n.lowercase ?? false;
      options.stripAccents = n.strip_accents ?? null;
    } else {
      options.cleanText = false;
      options.handleChineseChars = false;
    }
    const pre = j.pre_tokenizer;
    if (pre && pre.type !== "BertPreTokenizer") {
      throw new Error(
        `tokenizer.json: unsupported pre_tokenizer ${JSON.stringify(pre.type)} (only BertPreTokenizer)`,
      );
    }
    const post = j.post_processor;
    if (post?.type === "BertProcessing") {
      options.clsToken = post.cls[0];
      options.sepToken = post.sep[0];
    } else if (post?.type === "TemplateProcessing") {
      const specials = (post.single as Record<string, { id: string }>[])
        .filter((x) => "SpecialToken" in x).map((x) => x.SpecialToken.id);
      if (specials.length !== 2) throw new Error("tokenizer.json: expected a `[CLS] $A [SEP]` template");
      options.clsToken = specials[0];
      options.sepToken = specials[1];
    } else if (post) {
      throw new Error(`tokenizer.json: unsupported post_processor ${JSON.stringify(post.type)}`);
    }
    return new WordPieceTokenizer(vocab, options);
  }

  /** A Hugging Face `tokenizer.json` object equivalent to this tokenizer (loadable by `BertTokenizerFast`). */
  toTokenizerJson(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    const entries = [...this.vocab].sort((a, b) => a[1] - b[1]);
    for (const [token, id] of entries) vocab[token] = id;
    const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
    const sequence = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((content) => ({
        id: this.vocab.get(content)!,
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })).sort((a, b) => a.id - b.id),
      normalizer: {
        type: "BertNormalizer",
        clean_text: this.basic.cleanText,
        handle_chinese_chars: this.basic.handleChineseChars,
        strip_accents: this.#options.stripAccents ?? null,
        lowercase: this.basic.lowercase,
      },
      pre_tokenizer: { type: "BertPreTokenizer" },
      post_processor: {
        type: "TemplateProcessing",
        single: [special(this.clsToken, 0), sequence("A", 0), special(this.sepToken, 0)],
        pair: [
          special(this.clsToken, 0),
          sequence("A", 0),
          special(this.sepToken, 0),
          sequence("B", 1),
          special(this.sepToken, 1),
        ],
        special_tokens: {
          [this.clsToken]: { id: this.clsToken, ids: [this.clsId], tokens: [this.clsToken] },
          [this.sepToken]: { id: this.sepToken, ids: [this.sepId], tokens: [this.sepToken] },
        },
      },
      decoder: { type: "WordPiece", prefix: this.prefix, cleanup: true },
      model: {
        type: "WordPiece",
        unk_token: this.unkToken,
        continuing_subword_prefix: this.prefix,
        max_input_chars_per_word: this.maxInputCharsPerWord,
        vocab,
      },
    };
  }

  /** The vocabulary as `vocab.txt` text (tokens in id order, one per line). */
  toVocabTxt(): string {
    return this.#idToToken.join("\n") + "\n";
  }

  /** Number of entries in the vocabulary. */
  get vocabSize(): number {
    return this.#idToToken.length;
  }

  /** The id of `token`, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** The token string of `id`, or undefined when out of range. */
  idToToken(id: number): string | undefined {
    return this.#idToToken[id];
  }

  /** Token strings of `text` without special tokens (a convenience over `encode`). */
  tokenize(text: string): string[] {
    return this.encode(text, { addSpecialTokens: false }).tokens;
  }

  /**
   * Ids of `text` without special tokens or offsets: the fast path for building pretraining data.
   * `out` is appended to and returned.
   */
  encodeIds(text: string, out: number[] = []): number[] {
    this.#pieces(text, (id) => {
      out.push(id);
    });
    return out;
  }

  /** Tokenizes one text. */
  encode(text: string, options: EncodeOptions = {}): Encoding {
    const add = options.addSpecialTokens ?? true;
    let pieces = this.#collect(text);
    if (options.maxLength !== undefined) {
      pieces = pieces.slice(0, Math.max(0, options.maxLength - (add ? 2 : 0)));
    }
    const enc: Encoding = { ids: [], tokens: [], offsets: [], wordIds: [], specialTokensMask: [] };
    if (add) pushSpecial(enc, this.clsId, this.clsToken);
    for (const p of pieces) this.#pushPiece(enc, p);
    if (add) pushSpecial(enc, this.sepId, this.sepToken);
    return enc;
  }

  /**
   * Tokenizes a pair as `[CLS] A [SEP] B [SEP]`. Offsets of B's tokens index into `b`; word ids restart
   * at 0 in B (as Hugging Face's `word_ids()` do); `sequenceIds` tells the two apart.
   */
  encodePair(a: string, b: string, options: EncodeOptions = {}): PairEncoding {
    const add = options.addSpecialTokens ?? true;
    let pa = this.#collect(a);
    let pb = this.#collect(b);
    if (options.maxLength !== undefined) {
      // Longest-first truncation: remove one token at a time from the longer sequence.
      let excess = pa.length + pb.length + (add ? 3 : 0) - options.maxLength;
      let la = pa.length, lb = pb.length;
      while (excess > 0 && la + lb > 0) {
        if (la > lb) la--;
        else lb--;
        excess--;
      }
      pa = pa.slice(0, la);
      pb = pb.slice(0, lb);
    }
    const enc: PairEncoding = {
      ids: [],
      tokens: [],
      offsets: [],
      wordIds: [],
      specialTokensMask: [],
      typeIds: [],
      sequenceIds: [],
    };
    const mark = (type: number, seq: number | null, from: number) => {
      for (let i = from; i < enc.ids.length; i++) {
        enc.typeIds.push(type);
        enc.sequenceIds.push(enc.specialTokensMask[i] ? null : seq);
      }
    };
    if (add) pushSpecial(enc, this.clsId, this.clsToken);
    for (const p of pa) this.#pushPiece(enc, p);
    if (add) pushSpecial(enc, this.sepId, this.sepToken);
    mark(0, 0, 0);
    const from = enc.ids.length;
    for (const p of pb) this.#pushPiece(enc, p);
    if (add) pushSpecial(enc, this.sepId, this.sepToken);
    mark(1, 1, from);
    return enc;
  }

  /**
   * Turns ids back into text as Hugging Face's WordPiece decoder does: join with spaces, glue `##`
   * pieces, tidy spaces before punctuation. Offsets, not decoding, are the way to recover input text.
   */
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const special = new Set([this.clsId, this.sepId, this.padId, this.maskId, this.unkId]);
    if (!skip) special.clear();
    let out = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (special.has(id)) continue;
      const token = this.#idToToken[id] ?? this.unkToken;
      if (token.startsWith(this.prefix) && out.length > 0) out += token.slice(this.prefix.length);
      else out += (out.length > 0 ? " " : "") + token;
    }
    return cleanUpTokenization(out);
  }

  #pushPiece(enc: Encoding, p: Piece): void {
    enc.ids.push(p.id);
    enc.tokens.push(this.#idToToken[p.id]);
    enc.offsets.push([p.start, p.end]);
    enc.wordIds.push(p.word);
    enc.specialTokensMask.push(0);
  }

  #collect(text: string): Piece[] {
    const out: Piece[] = [];
    this.#pieces(text, (id, start, end, word) => {
      out.push({ id, start, end, word });
    });
    return out;
  }

  /** Walks the pieces of `text` (no special tokens added) in order. */
  #pieces(text: string, emit: (id: number, start: number, end: number, word: number) => void): void {
    let word = 0;
    const onWord = (w: string, start: number, _end: number, map: Uint32Array | null) => {
      const pieces = this.#wordPiece(w);
      let from = 0;
      for (let k = 0; k < pieces.length; k += 2) {
        const to = pieces[k + 1];
        if (map === null) emit(pieces[k], start + from, start + to, word);
        else emit(pieces[k], map[2 * from], map[2 * (to - 1) + 1], word);
        from = to;
      }
      word++;
    };
    const re = this.#added;
    if (re === null || (this.#addedNeedBracket && text.indexOf("[") < 0)) {
      this.basic.split(text, onWord);
      return;
    }
    // Added (special) tokens are cut out of the raw text first, so "[SEP]" typed by a user stays one token.
    re.lastIndex = 0;
    let pos = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      this.basic.split(text, onWord, pos, m.index);
      emit(this.vocab.get(m[0])!, m.index, m.index + m[0].length, word++);
      pos = m.index + m[0].length;
    }
    this.basic.split(text, onWord, pos, text.length);
  }

  /** WordPiece of one word as `[id, end, id, end, …]` (ends in UTF-16 units of `word`), cached. */
  #wordPiece(word: string): Int32Array {
    const hit = this.#cache.get(word);
    if (hit !== undefined) return hit;
    const result = this.#wordPieceUncached(word);
    if (this.#cache.size >= WORD_CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(word, result);
    return result;
  }

  #wordPieceUncached(word: string): Int32Array {
    const n = word.length;
    const unk = Int32Array.of(this.unkId, n);
    if (n > this.maxInputCharsPerWord && countCodePoints(word) > this.maxInputCharsPerWord) return unk;
    const out: number[] = [];
    const edges = this.#edges, terminal = this.#terminal;
    let start = 0;
    while (start < n) {
      // The longest vocabulary entry that prefixes word[start..] (with `##` after the first piece) is
      // exactly what the slice-and-shrink loop of the reference finds; the trie finds it in one pass.
      let node = start === 0 ? 0 : 1;
      let id = -1, end = start;
      for (let j = start; j < n; j++) {
        const next = edges.get(node * 65536 + word.charCodeAt(j));
        if (next === undefined) break;
        node = next;
        if (terminal[node] >= 0) {
          id = terminal[node];
          end = j + 1;
        }
      }
      if (id < 0) return unk;
      out.push(id, end);
      start = end;
    }
    return Int32Array.from(out);
  }
}

/** Parses `vocab.txt` text: one token per line, id = line index; a trailing newline is allowed. */
export function parseVocab(text: string): Map<string, number> {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const vocab = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const token = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    // Hugging Face keeps the last id of a duplicated token; so do we, for identical ids.
    vocab.set(token, i);
  }
  return vocab;
}

/** Hugging Face's `clean_up_tokenization`: removes the space before punctuation and English clitics. */
export function cleanUpTokenization(s: string): string {
  return s.replaceAll(" .", ".").replaceAll(" ?", "?").replaceAll(" !", "!").replaceAll(" ,", ",")
    .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

function pushSpecial(enc: Encoding, id: number, token: string): void {
  enc.ids.push(id);
  enc.tokens.push(token);
  enc.offsets.push([0, 0]);
  enc.wordIds.push(null);
  enc.specialTokensMask.push(1);
}

function countCodePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (!(isLowSurrogate(s.charCodeAt(i)) && i > 0 && isHighSurrogate(s.charCodeAt(i - 1)))) n++;
  }
  return n;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
