/**
 * The hand-labelled colloquial sets (data/colloquial): reading their markup sources, one
 * `style<TAB><surface:TYPE> markup` line per text, and finding texts that also occur in other corpora.
 * @module
 */

import { DatasetError, type NerExample, parseMarkup, sortEntities, splitLines } from "./datasets/types.ts";
import { KLUE_TYPES } from "./datasets/klue.ts";

/** The styles a colloquial source line may name; `reaction` marks the pure no-entity texts. */
export const COLLOQUIAL_STYLES: readonly string[] = ["chat", "review", "comment", "spoken", "reaction"];

/**
 * Parses a markup source: blank lines and `#` comments are skipped; every other line is
 * `style<TAB>markup`, given the id `<prefix>-<nnnn>-<style>` (1-based, in file order). Unknown
 * styles or types, stray or empty markup, surrounding spaces in a surface, and `reaction` lines with
 * entities are errors naming the line.
 */
export function parseColloquial(text: string, file: string, prefix: string): NerExample[] {
  const out: NerExample[] = [];
  const types = new Set(KLUE_TYPES);
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === "" || line.startsWith("#")) return;
    const tab = line.indexOf("\t");
    if (tab < 0) throw new DatasetError(file, n, `expected "style<TAB>marked text", found no tab`);
    const style = line.slice(0, tab);
    if (!COLLOQUIAL_STYLES.includes(style)) {
      throw new DatasetError(file, n, `expected a style (${COLLOQUIAL_STYLES.join(", ")}), found "${style}"`);
    }
    const m = parseMarkup(line.slice(tab + 1), types);
    if (m.problems.length) throw new DatasetError(file, n, m.problems.join("; "));
    if (m.text.trim() === "" || m.text !== m.text.trim() || /[\t\r\n]/.test(m.text)) {
      throw new DatasetError(file, n, `expected a non-empty text without tabs or edge spaces`);
    }
    for (const e of m.entities) {
      const s = m.text.slice(e.start, e.end);
      if (s !== s.trim()) throw new DatasetError(file, n, `entity "${s}" starts or ends with a space`);
    }
    if (style === "reaction" && m.entities.length) {
      throw new DatasetError(file, n, `a reaction text must have no entity`);
    }
    const id = `${prefix}-${String(out.length + 1).padStart(4, "0")}-${style}`;
    out.push({ id, text: m.text, entities: sortEntities(m.entities) });
  });
  return out;
}

/** The key two texts are compared by: every whitespace character removed (so spacing never hides a copy). */
export function overlapKey(text: string): string {
  return text.replace(/\s+/gu, "");
}

// Texts at least this long (in UTF-16 units, after overlapKey) are also looked for inside longer lines;
// shorter ones (ㅋㅋㅋ) occur inside almost every line, so only a whole-line copy of them counts.
const CONTAINED_MIN = 8;

/** One text found in a corpus line: the text's index, the line number (1-based) and how it matched. */
export interface Overlap {
  index: number;
  line: number;
  how: "line" | "contained";
}

/**
 * Finds which `texts` occur in `lines`: a line equal to a text after {@link overlapKey}, or (for texts
 * of 8 or more units) a line containing it. Indexed by each text's first 8 units, so one pass over the lines.
 */
export function findOverlaps(texts: string[], lines: Iterable<string>): Overlap[] {
  const keys = texts.map(overlapKey);
  const whole = new Map<string, number[]>();
  const byHead = new Map<string, number[]>();
  keys.forEach((k, i) => {
    whole.set(k, [...(whole.get(k) ?? []), i]);
    if (k.length >= CONTAINED_MIN) {
      const h = k.slice(0, CONTAINED_MIN);
      byHead.set(h, [...(byHead.get(h) ?? []), i]);
    }
  });
  const out: Overlap[] = [];
  let n = 0;
  for (const raw of lines) {
    n++;
    const line = overlapKey(raw);
    for (const i of whole.get(line) ?? []) out.push({ index: i, line: n, how: "line" });
    for (let p = 0; p + CONTAINED_MIN <= line.length; p++) {
      const hits = byHead.get(line.slice(p, p + CONTAINED_MIN));
      if (!hits) continue;
      for (const i of hits) {
        if (keys[i] !== line && line.startsWith(keys[i], p)) {
          out.push({ index: i, line: n, how: "contained" });
        }
      }
    }
  }
  return out;
}
