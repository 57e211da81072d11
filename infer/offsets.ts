/**
 * Entity offsets in other units than JavaScript string indices, for clients in other languages:
 * `codepoint` (Python `str`, Rust `chars()`, Go `[]rune` indices) and `utf8` (byte offsets into the UTF-8
 * text, as Rust `&str` and Go `string` slicing use). The default `utf16` is what `recognize` returns.
 * Lone surrogates count as one code point and, in `utf8`, as the three bytes of U+FFFD they encode to.
 * Browser-safe.
 * @module
 */

/** Units an entity's `start`/`end` can be given in. */
export type OffsetUnit = "utf16" | "codepoint" | "utf8";

/** Every `OffsetUnit`, for validating user input. */
export const OFFSET_UNITS: readonly OffsetUnit[] = ["utf16", "codepoint", "utf8"];

/**
 * Returns copies of `entities` (offsets in UTF-16 code units of `text`) with `start`/`end` in `unit`.
 *
 * @example
 * ```ts
 * import { convertOffsets } from "./offsets.ts";
 * const [e] = convertOffsets("😀 민수", [{ start: 3, end: 5 }], "codepoint");
 * if (e.start !== 2 || e.end !== 4) throw new Error("code points");
 * ```
 */
export function convertOffsets<T extends { start: number; end: number }>(
  text: string,
  entities: readonly T[],
  unit: OffsetUnit,
): T[] {
  if (unit === "utf16") return entities.map((e) => ({ ...e }));
  // One walk over the text, answering the offsets in increasing order.
  const wanted = [...new Set(entities.flatMap((e) => [e.start, e.end]))].sort((a, b) => a - b);
  const map = new Map<number, number>();
  let i = 0, n = 0, w = 0;
  while (w < wanted.length) {
    if (i >= wanted[w]) {
      map.set(wanted[w++], n);
      continue;
    }
    const c = text.codePointAt(i) ?? 0;
    const width = c > 0xffff ? 2 : 1;
    n += unit === "codepoint" ? 1 : c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += width;
  }
  return entities.map((e) => ({ ...e, start: map.get(e.start)!, end: map.get(e.end)! }));
}
