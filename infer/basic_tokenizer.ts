/**
 * BERT's "basic" tokenization (Hugging Face `BertNormalizer` + `BertPreTokenizer`): drop control
 * characters, split on whitespace, isolate punctuation and CJK ideographs. It walks the text by code
 * points and reports each word with its offsets in the original string (UTF-16 indices), so nothing
 * downstream ever needs to re-align a normalised copy. Browser-safe.
 * @module
 */

/** Options mirroring the `BertNormalizer` fields of a Hugging Face `tokenizer.json`. */
export interface BasicTokenizerOptions {
  /** Remove control characters and map every whitespace character to a space (default true). */
  cleanText?: boolean;
  /** Put each CJK ideograph in a word of its own (default true; Hangul is not CJK here). */
  handleChineseChars?: boolean;
  /** Lower-case every character (default false: ELECTRA-Korean keeps case). */
  lowercase?: boolean;
  /**
   * Strip accents (NFD, then drop nonspacing marks). `undefined`/`null` follows `lowercase`, as in
   * Hugging Face. Never on by default: NFD splits Hangul syllables into jamo.
   */
  stripAccents?: boolean | null;
}

/**
 * Receives one word: its (normalised) text, the `[start, end)` range it spans in the original input,
 * and, only when the word text is not a plain slice of the input, a map from each UTF-16 unit of `word`
 * to the original `[start, end)` of the character it came from (`map[2k]`, `map[2k + 1]`).
 */
export type WordCallback = (word: string, start: number, end: number, map: Uint32Array | null) => void;

const REGULAR = 0;
const REMOVED = 1;
const SPACE = 2;
const ISOLATED = 3;

const PUNCTUATION = /^\p{P}$/u;
const OTHER = /^\p{C}$/u;
const NONSPACING_MARK = /\p{Mn}/gu;

/** Rust's `char::is_whitespace` (Unicode White_Space), which the Hugging Face tokenizers use. */
function isWhitespace(cp: number): boolean {
  return (cp >= 0x09 && cp <= 0x0d) || cp === 0x20 || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f ||
    cp === 0x3000;
}

/** BERT's CJK ideograph blocks (`_is_chinese_char`); Hangul and kana are deliberately absent. */
export function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** BERT punctuation: all ASCII non-alphanumeric printables (so `$`, `+`, `^` too) and Unicode P*. */
export function isPunctuation(cp: number): boolean {
  if (
    (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)
  ) {
    return true;
  }
  return cp >= 128 && PUNCTUATION.test(String.fromCodePoint(cp));
}

/** Splits text into BERT words with original offsets, one code point at a time. */
export class BasicTokenizer {
  readonly cleanText: boolean;
  readonly handleChineseChars: boolean;
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  #ascii = new Uint8Array(128);
  // Classes of non-ASCII code points seen so far; the Unicode regexes are the slow part otherwise.
  #cache = new Map<number, number>();

  constructor(options: BasicTokenizerOptions = {}) {
    this.cleanText = options.cleanText ?? true;
    this.handleChineseChars = options.handleChineseChars ?? true;
    this.lowercase = options.lowercase ?? false;
    this.stripAccents = options.stripAccents ?? this.lowercase;
    for (let cp = 0; cp < 128; cp++) this.#ascii[cp] = this.#classify(cp);
  }

  #classify(cp: number): number {
    if (this.cleanText) {
      const isTabLike = cp === 0x09 || cp === 0x0a || cp === 0x0d;
      if (cp === 0 || cp === 0xfffd || (!isTabLike && OTHER.test(String.fromCodePoint(cp)))) return REMOVED;
    }
    if (isWhitespace(cp)) return SPACE;
    if (this.handleChineseChars && isChineseChar(cp)) return ISOLATED;
    if (isPunctuation(cp)) return ISOLATED;
    return REGULAR;
  }

  #classOf(cp: number): number {
    if (cp < 128) return this.#ascii[cp];
    if (cp >= 0xac00 && cp <= 0xd7a3) return REGULAR; // Hangul syllables: the common case here
    let c = this.#cache.get(cp);
    if (c === undefined) {
      c = this.#classify(cp);
      if (this.#cache.size < 65536) this.#cache.set(cp, c);
    }
    return c;
  }

  /** Calls `onWord` for each word of `text`, in order. */
  split(text: string, onWord: WordCallback, base = 0, limit = text.length): void {
    const transform = this.lowercase || this.stripAccents;
    let wStart = -1; // original start of the current word, -1 when none
    let wEnd = -1;
    // Set once the word stops being a plain slice of the input (a removed or transformed character).
    const st: { parts: string[] | null; map: number[] } = { parts: null, map: [] };

    const flush = () => {
      if (wStart < 0) return;
      if (st.parts === null) onWord(text.slice(wStart, wEnd), wStart, wEnd, null);
      else if (st.parts.length > 0) onWord(st.parts.join(""), wStart, wEnd, Uint32Array.from(st.map));
      wStart = -1;
      st.parts = null;
      st.map = [];
    };
    // Turns the plain slice collected so far into parts + map, before the word diverges from the input.
    const diverge = () => {
      const parts: string[] = st.parts = [];
      const map = st.map = [] as number[];
      if (wStart < 0) return;
      for (let j = wStart; j < wEnd;) {
        const w = isPairAt(text, j) ? 2 : 1;
        parts.push(text.slice(j, j + w));
        for (let k = 0; k < w; k++) map.push(j, j + w);
        j += w;
      }
    };

    for (let i = base; i < limit;) {
      let cp = text.charCodeAt(i);
      let width = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < limit) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          width = 2;
        }
      }
      const cls = this.#classOf(cp);
      if (cls === REGULAR) {
        let t: string | null = null;
        if (transform) {
          const ch = text.slice(i, i + width);
          t = this.#transform(ch);
          if (t === ch) t = null;
        }
        if (t === null) {
          if (wStart < 0) wStart = i;
          else if (st.parts === null && wEnd !== i) diverge();
          if (st.parts !== null) {
            st.parts.push(text.slice(i, i + width));
            for (let k = 0; k < width; k++) st.map.push(i, i + width);
          }
        } else {
          if (st.parts === null) diverge();
          if (t.length === 0) {
            i += width;
            continue; // a lone accent that stripping removed: like a removed control character
          }
          if (wStart < 0) wStart = i;
          st.parts!.push(t);
          for (let k = 0; k < t.length; k++) st.map.push(i, i + width);
        }
        wEnd = i + width;
      } else if (cls === SPACE) {
        flush();
      } else if (cls === ISOLATED) {
        flush();
        const ch = text.slice(i, i + width);
        const t = transform ? this.#transform(ch) : ch;
        if (t === ch) onWord(ch, i, i + width, null);
        else if (t.length > 0) {
          onWord(
            t,
            i,
            i + width,
            new Uint32Array(t.length * 2).map((_, k) => k % 2 ? i + width : i),
          );
        }
      }
      // REMOVED: skipped without ending the word, as Hugging Face's clean_text does.
      i += width;
    }
    flush();
  }

  /** The words of `text` as objects (convenient, slower than `split`). */
  words(text: string): { word: string; start: number; end: number }[] {
    const out: { word: string; start: number; end: number }[] = [];
    this.split(text, (word, start, end) => out.push({ word, start, end }));
    return out;
  }

  #transform(ch: string): string {
    let t = ch;
    if (this.stripAccents) t = t.normalize("NFD").replace(NONSPACING_MARK, "");
    if (this.lowercase) t = t.toLowerCase();
    return t;
  }
}

/** True when a surrogate pair starts at index `i`. */
export function isPairAt(s: string, i: number): boolean {
  const hi = s.charCodeAt(i);
  if (hi < 0xd800 || hi > 0xdbff || i + 1 >= s.length) return false;
  const lo = s.charCodeAt(i + 1);
  return lo >= 0xdc00 && lo <= 0xdfff;
}
