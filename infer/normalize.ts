/**
 * Text as the tokenizer's vocabulary was built from it, with a way back to the caller's string: NFC (so
 * decomposed Hangul, as macOS file names and some IMEs produce, becomes the syllables the vocabulary has)
 * and full-width ASCII folded to ASCII (`１２시` → `12시`). Compatibility forms beyond those are left
 * alone: NFKC would turn the chat staple `ㅋㅋ` into conjoining jamo the vocabulary does not have.
 * Browser-safe.
 * @module
 */

/** A normalised text and, per UTF-16 unit of it, the `[start, end)` it came from in the original. */
export interface Normalized {
  text: string;
  starts: Uint32Array;
  ends: Uint32Array;
}

// Code points that join the cluster before them: combining marks and Hangul medial vowels / final consonants.
const JOINS = /^[\p{M}\u1160-\u11FF\uD7B0-\uD7FF]$/u;
const FULL_WIDTH = /[\uFF01-\uFF5E\u3000]/;

function fold(s: string): string {
  return s.replace(
    /[\uFF01-\uFF5E\u3000]/g,
    (c) => c === "\u3000" ? " " : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

/**
 * Normalises `text` for the tokenizer; undefined when it is already normal (the common case, checked
 * without building maps).
 *
 * @example
 * ```ts
 * import { normalizeForModel } from "./normalize.ts";
 * const nfd = "강남".normalize("NFD"); // 6 UTF-16 units: 3 jamo per syllable
 * const n = normalizeForModel(nfd)!;
 * if (n.text !== "강남" || n.starts[1] !== 3 || n.ends[1] !== 6) throw new Error("maps back");
 * ```
 */
export function normalizeForModel(text: string): Normalized | undefined {
  if (!FULL_WIDTH.test(text) && text.normalize("NFC") === text) return undefined;
  let out = "";
  const starts: number[] = [], ends: number[] = [];
  let i = 0;
  while (i < text.length) {
    // One cluster: a code point and every joining code point after it, normalised on its own.
    let j = i + (text.codePointAt(i)! > 0xffff ? 2 : 1);
    while (j < text.length) {
      const c = String.fromCodePoint(text.codePointAt(j)!);
      if (!JOINS.test(c)) break;
      j += c.length;
    }
    const piece = fold(text.slice(i, j)).normalize("NFC");
    out += piece;
    for (let k = 0; k < piece.length; k++) {
      starts.push(i);
      ends.push(j);
    }
    i = j;
  }
  return { text: out, starts: Uint32Array.from(starts), ends: Uint32Array.from(ends) };
}

/** Offsets `[start, end)` into `n.text` mapped back to the original text (empty spans stay empty). */
export function originalSpan(n: Normalized, start: number, end: number): [number, number] {
  if (end > start) return [n.starts[start], n.ends[end - 1]];
  const at = start < n.starts.length ? n.starts[start] : (n.ends[n.ends.length - 1] ?? 0);
  return [at, at];
}
