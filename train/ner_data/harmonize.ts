/**
 * Guideline harmonisation of a mapped dataset against the target tag set's own data. KMOU mapped to
 * KLUE's types still follows KMOU's guideline, which leaves untagged what KLUE tags (relative dates
 * such as 이날, 올해, 지난해 as DT; parts of day such as 오후 as TI; counts such as 하나 as QT): in
 * our training mix KMOU holds hundreds of such words as O against tens tagged in KLUE, and the model
 * learns to leave them out. `harmonize` learns, from the reference examples (KLUE train), the words
 * that KLUE's annotators tag at least `minRate` of the times they occur at a word start, and tags
 * their untagged occurrences in the other examples with KLUE's majority type ("silver" labels).
 * Existing entities are never changed, and a new one never overlaps them.
 *
 * @example
 * ```ts
 * import { buildLexicon, harmonize } from "./harmonize.ts";
 * const klue = [
 *   { id: "1", text: "이날 비가 왔다", entities: [{ start: 0, end: 2, type: "DT" }] },
 *   { id: "2", text: "이날 회의가 열렸다", entities: [{ start: 0, end: 2, type: "DT" }] },
 * ];
 * const lexicon = buildLexicon(klue, { types: ["DT"], minCount: 2, minRate: 0.5 });
 * const out = harmonize([{ id: "k", text: "그는 이날 떠났다", entities: [] }], lexicon);
 * if (out.examples[0].entities[0]?.type !== "DT") throw new Error("이날 not tagged");
 * ```
 * @module
 */
import { type NerExample, sortEntities, type TypedSpan } from "./datasets/types.ts";

/** One learnt word: its text, KLUE's majority type, how often it is tagged and occurs in the reference. */
export interface LexiconEntry {
  text: string;
  type: string;
  tagged: number;
  occurrences: number;
}

/** Options of `buildLexicon`. */
export interface LexiconOptions {
  /** Entity types whose guideline differs (default DT, TI, QT: the data README's list). */
  types?: readonly string[];
  /** Least number of tagged occurrences (default 3). */
  minCount?: number;
  /** Least share of word-start occurrences that are tagged as exactly this span (default 0.5). */
  minRate?: number;
  /** Longest entity text considered, in UTF-16 units (default 8: words, not phrases). */
  maxLength?: number;
  /**
   * Also count an occurrence as tagged when an entity of the type starts with the word and goes on past a
   * space (KLUE tags 지난해 11월 as one date, so 지난해 alone is tagged in under half its occurrences).
   * Meant with `harmonize`'s `merge`, which then writes such spans the same way.
   */
  heads?: boolean;
}

/** What `harmonize` returns: the new examples and how many entities each word added. */
export interface HarmonizeResult {
  examples: NerExample[];
  added: Record<string, number>;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;
const DIGIT = /\p{N}/u;

/**
 * Whether `text.slice(i, i + len)` starts a word (no letter or digit before it) and does not cut a
 * number (no digit after it). Particles may follow (이날은, 올해도): Korean writes them attached.
 */
function atWordStart(text: string, i: number, len: number, word: string): boolean {
  if (i > 0 && WORD_CHAR.test(text[i - 1])) return false;
  const next = text[i + len];
  return !(next !== undefined && DIGIT.test(next) && DIGIT.test(word[word.length - 1]));
}

/** Start offsets of `word` in `text` that pass `atWordStart`. */
function wordStarts(text: string, word: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
    if (atWordStart(text, i, word.length, word)) out.push(i);
  }
  return out;
}

/** Learns the words the reference examples tag consistently (see the module doc), longest first. */
export function buildLexicon(reference: readonly NerExample[], options: LexiconOptions = {}): LexiconEntry[] {
  const types = new Set(options.types ?? ["DT", "TI", "QT"]);
  const minCount = options.minCount ?? 3,
    minRate = options.minRate ?? 0.5,
    maxLength = options.maxLength ?? 8,
    heads = options.heads ?? false;
  const byType = new Map<string, Map<string, number>>(); // word → type → tagged spans
  for (const ex of reference) {
    for (const e of ex.entities) {
      const text = ex.text.slice(e.start, e.end);
      if (!types.has(e.type) || text.length > maxLength || text.trim() !== text || !text) continue;
      const m = byType.get(text) ?? new Map<string, number>();
      m.set(e.type, (m.get(e.type) ?? 0) + 1);
      byType.set(text, m);
    }
  }
  const out: LexiconEntry[] = [];
  for (const [word, counts] of byType) {
    const { tagged, occurrences } = countTagged(reference, word, new Set(counts.keys()), heads);
    let best = 0, type = "";
    for (const [t, n] of counts) if (n > best) [best, type] = [n, t];
    if (tagged >= minCount && occurrences > 0 && tagged / occurrences >= minRate) {
      out.push({ text: word, type, tagged, occurrences });
    }
  }
  return sortLexicon(out);
}

/** How often `word` occurs at a word start in the reference, and how often it is tagged there with a type of `types`. */
function countTagged(
  reference: readonly NerExample[],
  word: string,
  types: ReadonlySet<string>,
  heads: boolean,
): { tagged: number; occurrences: number } {
  let occurrences = 0, tagged = 0;
  for (const ex of reference) {
    for (const i of wordStarts(ex.text, word)) {
      occurrences++;
      const end = i + word.length;
      const hit = ex.entities.find((e) =>
        e.start === i && (e.end === end || (heads && e.end > end && ex.text[end] === " "))
      );
      if (hit && types.has(hit.type)) tagged++;
    }
  }
  return { tagged, occurrences };
}

/** Longest words first, so that a longer word is tagged before a shorter one inside it. */
function sortLexicon(lexicon: LexiconEntry[]): LexiconEntry[] {
  return lexicon.sort((a, b) =>
    b.text.length - a.text.length || b.tagged - a.tagged || (a.text < b.text ? -1 : 1)
  );
}

/**
 * The lexicon plus words given by hand (`[text, type]`), each with its reference counts for the report: for a
 * guideline rule the data is too thin to learn (KLUE tags the relative day words 오늘 and 내일 consistently but
 * has 어제 three times, tagged once).
 */
export function addWords(
  lexicon: readonly LexiconEntry[],
  reference: readonly NerExample[],
  words: readonly [string, string][],
  heads = false,
): LexiconEntry[] {
  const out = lexicon.filter((w) => !words.some(([text]) => text === w.text));
  for (const [text, type] of words) {
    out.push({ text, type, ...countTagged(reference, text, new Set([type]), heads) });
  }
  return sortLexicon(out);
}

/** Options of `harmonize`. */
export interface HarmonizeOptions {
  /**
   * A word followed by one space and an existing entity of its type joins that entity instead of standing
   * alone: KMOU tags 12월 31일 and leaves 올해 out, KLUE tags 올해 12월 31일 as one date.
   */
  merge?: boolean;
}

/** Tags the untagged word-start occurrences of the lexicon's words with their type (see the module doc). */
export function harmonize(
  examples: readonly NerExample[],
  lexicon: readonly LexiconEntry[],
  options: HarmonizeOptions = {},
): HarmonizeResult {
  const added: Record<string, number> = {};
  const out = examples.map((ex) => {
    const entities: TypedSpan[] = [...ex.entities];
    const fresh: TypedSpan[] = [];
    for (const w of lexicon) {
      for (const i of wordStarts(ex.text, w.text)) {
        const end = i + w.text.length;
        if (entities.some((e) => e.start < end && i < e.end)) continue;
        const next = options.merge && ex.text[end] === " "
          ? entities.findIndex((e) => e.start === end + 1 && e.type === w.type)
          : -1;
        const e = { start: i, end: next >= 0 ? entities[next].end : end, type: w.type };
        if (next >= 0) entities.splice(next, 1);
        entities.push(e);
        fresh.push(e);
        added[w.text] = (added[w.text] ?? 0) + 1;
      }
    }
    return fresh.length ? { ...ex, entities: sortEntities(entities) } : ex;
  });
  return { examples: out, added };
}
