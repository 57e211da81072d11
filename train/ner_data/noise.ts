/**
 * Colloquial noise for labelled sentences: laughter (ㅋㅋ ㅎㅎ ㅠㅠ ㄹㅇ), interjections (헐, 진짜) and emoji
 * inserted at word gaps around and between entities, never inside one; spaces between words dropped or
 * doubled. Chat and comments look so, the news-heavy training data does not, and a tagger that never
 * saw `ㅋㅋㅋ민수` learns that the first token of a sentence is a name. Entity offsets stay exact.
 * @module
 */
import type { NerExample, TypedSpan } from "./datasets/types.ts";
import type { Rng } from "../util/rng.ts";

/** Chances, each per gap between words (and at the sentence's start and end for insertions). */
export interface NoiseOptions {
  /** Chance of inserting laughter or a jamo reaction (ㅋㅋㅋ, ㅎㅎ, ㅠㅠ, ㄹㅇ, ㄷㄷ). */
  laughter: number;
  /** Chance of inserting an interjection (헐, 아, 와, 진짜, 대박). */
  interjections: number;
  /** Chance of inserting one to three emoji. */
  emoji: number;
  /** Chance that the space of a gap is dropped (민수랑 어제 → 민수랑어제). */
  dropSpaces: number;
  /** Chance that a gap's space, when kept, is doubled. */
  doubleSpaces: number;
}

/** What `addNoise` changed, accumulated over sentences. */
export interface NoiseCounts {
  inserted: number;
  spacesDropped: number;
  spacesDoubled: number;
}

/** Laughter and jamo reactions, as written in chat. */
export const LAUGHTER: readonly string[] = [
  "ㅋㅋ",
  "ㅋㅋㅋ",
  "ㅋㅋㅋㅋ",
  "ㅋㅋㅋㅋㅋㅋ",
  "ㅎㅎ",
  "ㅎㅎㅎ",
  "ㅠㅠ",
  "ㅠㅠㅠ",
  "ㅜㅜ",
  "ㄹㅇ",
  "ㄷㄷ",
  "ㅇㅇ",
];
/** Spoken interjections and intensifiers. */
export const INTERJECTIONS: readonly string[] = [
  "헐",
  "아",
  "와",
  "어",
  "음",
  "진짜",
  "대박",
  "아니",
  "ㅇㅈ",
  "헉",
];
/** Emoji common in Korean chat and reviews (some are two code points, as ❤️). */
export const EMOJI: readonly string[] = [
  "😂",
  "🤣",
  "😭",
  "😆",
  "😍",
  "👍",
  "🔥",
  "🥺",
  "😅",
  "🙏",
  "❤️",
  "✨",
  "😀",
  "💕",
  "😡",
  "🎉",
];

/** The options that make `addNoise` change nothing, for callers that leave noise out. */
export const NO_NOISE: NoiseOptions = {
  laughter: 0,
  interjections: 0,
  emoji: 0,
  dropSpaces: 0,
  doubleSpaces: 0,
};

/** Whether any noise is asked for. */
export function hasNoise(o: NoiseOptions): boolean {
  return o.laughter > 0 || o.interjections > 0 || o.emoji > 0 || o.dropSpaces > 0 || o.doubleSpaces > 0;
}

/** Throws a RangeError naming the first option outside [0, 1]. */
export function checkNoise(o: NoiseOptions): void {
  for (const [name, rate] of Object.entries(o)) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`${name} must be in [0, 1], got ${rate}`);
  }
}

/** The inserted text for one gap (may be empty): each kind drawn at its rate, in a fixed order. */
function insertion(o: NoiseOptions, rng: Rng): string {
  // Every draw is made whatever the outcome, so one gap's choices never shift the next gap's.
  const [dl, l] = [rng.next(), LAUGHTER[rng.int(LAUGHTER.length)]];
  const [di, i] = [rng.next(), INTERJECTIONS[rng.int(INTERJECTIONS.length)]];
  const [de, e, n] = [rng.next(), EMOJI[rng.int(EMOJI.length)], 1 + rng.int(3)];
  return (di < o.interjections ? i : "") + (dl < o.laughter ? l : "") + (de < o.emoji ? e.repeat(n) : "");
}

/**
 * A noisy copy of `ex`. Gaps are the whitespace runs no entity covers, plus the sentence's start and
 * end. At an inner gap the space is dropped (`dropSpaces`) or else doubled (`doubleSpaces`), and an
 * insertion is placed spaced (`X ㅋㅋ Y`), against the word before (`Xㅋㅋ Y`) or against the word
 * after (`X ㅋㅋY`); at the start or end it is spaced or attached. Entities keep their text; their
 * offsets move with the insertions.
 */
export function addNoise(ex: NerExample, o: NoiseOptions, rng: Rng, counts?: NoiseCounts): NerExample {
  const covered = (a: number, b: number) => ex.entities.some((e) => e.start < b && a < e.end);
  const gaps: { start: number; end: number }[] = [{ start: 0, end: 0 }];
  for (const m of ex.text.matchAll(/\s+/gu)) {
    const start = m.index!, end = start + m[0].length;
    if (start > 0 && end < ex.text.length && !covered(start, end)) gaps.push({ start, end });
  }
  gaps.push({ start: ex.text.length, end: ex.text.length });
  let out = "", cursor = 0;
  // Each original position's shift is fixed between gaps; entities lie between gaps, never across one.
  const shifts: { from: number; shift: number }[] = [];
  gaps.forEach((g, k) => {
    out += ex.text.slice(cursor, g.start);
    const space = ex.text.slice(g.start, g.end);
    const [dd, dn, layout] = [rng.next(), rng.next(), rng.int(3)];
    const add = insertion(o, rng);
    let gap = space;
    if (k > 0 && k < gaps.length - 1) {
      if (dd < o.dropSpaces) gap = "";
      else if (dn < o.doubleSpaces) gap = space + " ";
      if (counts && gap === "") counts.spacesDropped++;
      else if (counts && gap !== space) counts.spacesDoubled++;
    }
    if (add) {
      if (counts) counts.inserted++;
      const sep = layout === 0 ? "" : " ";
      if (k === 0) gap = add + sep;
      else if (k === gaps.length - 1) gap = sep + add;
      else gap = layout === 0 ? gap + add + gap : layout === 1 ? add + gap : gap + add;
    }
    out += gap;
    cursor = g.end;
    shifts.push({ from: g.end, shift: out.length - g.end });
  });
  const shiftAt = (pos: number) => {
    let s = 0;
    for (const x of shifts) if (x.from <= pos) s = x.shift;
    return s;
  };
  const entities: TypedSpan[] = ex.entities.map((e) => {
    const s = shiftAt(e.start);
    return { start: e.start + s, end: e.end + s, type: e.type };
  });
  return { id: ex.id, text: out, entities };
}
