/**
 * Per-token label predictions → character entity spans, with seqeval's chunking rules for
 * ill-formed BIO/BIOES sequences. Browser-safe.
 * @module
 */

import type { Encoding } from "./encoding.ts";

/** A decoded entity: `[start, end)` in JavaScript string indices of the input text. */
export interface EntitySpan {
  type: string;
  start: number;
  end: number;
  /** Mean probability of the predicted labels of the entity's tokens. */
  score: number;
  /** The entity's surface, `text.slice(start, end)`. */
  text: string;
}

/** A chunk over a tag sequence: `[type, first, last]` with `last` inclusive, as seqeval returns. */
export type Chunk = [type: string, first: number, last: number];

/** Which sub-words carry labels: only the first of each word (ELECTRA), or all of them (HF run_ner). */
export type LabelMode = "first-subword" | "all-subwords";

// seqeval splits "B-PER" into prefix "B" and type "PER"; a bare tag such as "O" has type "_".
function splitTag(tag: string): [string, string] {
  const prefix = tag.slice(0, 1);
  const rest = tag.slice(1);
  const dash = rest.indexOf("-");
  const type = dash >= 0 ? rest.slice(dash + 1) : rest;
  return [prefix, type === "" ? "_" : type];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === "E" || prevTag === "S") return true;
  if ((prevTag === "B" || prevTag === "I") && (tag === "B" || tag === "S" || tag === "O")) return true;
  return prevTag !== "O" && prevTag !== "." && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === "B" || tag === "S") return true;
  if ((prevTag === "E" || prevTag === "S" || prevTag === "O") && (tag === "E" || tag === "I")) return true;
  return tag !== "O" && tag !== "." && prevType !== type;
}

/**
 * Chunks a BIO/BIOES tag sequence exactly as seqeval's `get_entities` (default, non-strict mode):
 * an I- after O or after another type starts a new chunk, a type change ends one.
 */
export function getEntities(tags: readonly string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let prevTag = "O";
  let prevType = "";
  let begin = 0;
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = splitTag(i < tags.length ? tags[i] : "O");
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push([prevType, begin, i - 1]);
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}

/** What happens to entities with no letter or digit (see `InferenceMeta.symbolEntities`). */
export type SymbolEntities = "keep" | "drop";

// Hangul jamo (conjoining, compatibility, extended A/B): letters to Unicode, but laughter and reactions
// (ㅋㅋ, ㅇㅋ) in chat, never a name.
const JAMO = /[\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uD7B0-\uD7FF]/gu;

/**
 * Whether an entity's text holds a letter or digit other than a Hangul jamo; spans without one (jamo
 * laughter, emoji, punctuation) are what `symbolEntities: "drop"` removes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasLetterOrDigit } from "./decode.ts";
 * assert.ok(hasLetterOrDigit("민수") && hasLetterOrDigit("BTS") && hasLetterOrDigit("3시"));
 * assert.ok(!hasLetterOrDigit("ㅋㅋㅋ") && !hasLetterOrDigit("😂😂") && !hasLetterOrDigit("^^;"));
 * ```
 */
export function hasLetterOrDigit(text: string): boolean {
  return /[\p{L}\p{N}]/u.test(text.replace(JAMO, ""));
}

/** Options for {@link decodeEntities}. */
export interface DecodeOptions {
  /** Label names indexed by label id, e.g. `["O", "B-DT", "I-DT", ...]`. */
  labels: readonly string[];
  /** How the model was trained to label sub-words; default `all-subwords`. */
  mode?: LabelMode;
  /** `"drop"`: leave out entities with no letter or digit (see {@link hasLetterOrDigit}); default keep. */
  symbolEntities?: SymbolEntities;
  /** Entities whose score (the mean probability of their units' labels) is below this are left out; default 0. */
  minScore?: number;
}

/** Whether `value` is a valid entity score floor (`minScore`): a number from 0 to 1. */
export function isMinScore(value: unknown): value is number {
  return typeof value === "number" && value >= 0 && value <= 1;
}

/**
 * Checks an entity score floor (`minScore`, see {@link isMinScore}); returns it, or throws naming `where`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkMinScore } from "./decode.ts";
 * assert.equal(checkMinScore(0.7, "minScore"), 0.7);
 * assert.throws(() => checkMinScore(1.5, "--min-score"), /--min-score must be a number from 0 to 1, got 1.5/);
 * ```
 */
export function checkMinScore(value: unknown, where: string): number {
  if (isMinScore(value)) return value;
  throw new RangeError(`${where} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
}

function isSpace(ch: string): boolean {
  return /\s/u.test(ch);
}

/**
 * What carries one tag: a token, or in `first-subword` mode a word (the run of tokens sharing a word id,
 * whose first sub-word's label and probability stand for it). A special token is a unit with no tokens and
 * tag `O`, so that it ends any entity.
 */
export interface LabelUnit {
  tokens: number[];
  tag: string;
  /** The probability of the unit's label (one value; none for a special token). */
  probs: number[];
}

/** Groups per-token label ids into the units that carry tags (see {@link LabelUnit}). */
export function labelUnits(
  encoding: Encoding,
  labelIds: ArrayLike<number>,
  probs: ArrayLike<number> | undefined,
  options: DecodeOptions,
): LabelUnit[] {
  const mode = options.mode ?? "all-subwords";
  const n = encoding.ids.length;
  if (labelIds.length !== n) throw new Error(`decodeEntities: ${labelIds.length} labels for ${n} tokens`);
  const units: LabelUnit[] = [];
  let prevWord: number | null = null;
  for (let t = 0; t < n; t++) {
    const special = encoding.specialTokensMask[t] === 1;
    const word = encoding.wordIds[t];
    const id = labelIds[t];
    const tag = special ? "O" : (options.labels[id] ?? "O");
    const p = probs ? probs[t] : 1;
    if (special) {
      units.push({ tokens: [], tag: "O", probs: [] });
      prevWord = null;
    } else if (mode === "first-subword" && word !== null && word === prevWord && units.length > 0) {
      units[units.length - 1].tokens.push(t);
    } else {
      units.push({ tokens: [t], tag, probs: [p] });
      prevWord = word;
    }
  }
  return units;
}

/**
 * Turns per-token label ids (and the probability of each chosen label) into entity spans over
 * `text`. In `first-subword` mode each word takes the label of its first sub-word and the other
 * sub-words continue it; special tokens always end an entity. Spans are trimmed of whitespace.
 */
export function decodeEntities(
  text: string,
  encoding: Encoding,
  labelIds: ArrayLike<number>,
  probs: ArrayLike<number> | undefined,
  options: DecodeOptions,
): EntitySpan[] {
  const units = labelUnits(encoding, labelIds, probs, options);
  const out: EntitySpan[] = [];
  for (const [type, first, last] of getEntities(units.map((u) => u.tag))) {
    const toks = units.slice(first, last + 1).flatMap((u) => u.tokens);
    const ps = units.slice(first, last + 1).flatMap((u) => u.probs);
    if (toks.length === 0) continue;
    let start = encoding.offsets[toks[0]][0];
    let end = encoding.offsets[toks[toks.length - 1]][1];
    while (start < end && isSpace(text[start])) start++;
    while (end > start && isSpace(text[end - 1])) end--;
    if (start >= end) continue;
    if (options.symbolEntities === "drop" && !hasLetterOrDigit(text.slice(start, end))) continue;
    const score = ps.reduce((a, b) => a + b, 0) / ps.length;
    if (options.minScore !== undefined && score < options.minScore) continue;
    out.push({ type, start, end, score, text: text.slice(start, end) });
  }
  return out;
}

/** Picks the most probable label per token from row-major logits (T×L), with its softmax probability. */
export function argmaxWithProb(
  logits: ArrayLike<number>,
  numLabels: number,
): { ids: number[]; probs: number[] } {
  const T = Math.floor(logits.length / numLabels);
  const ids: number[] = [];
  const probs: number[] = [];
  for (let t = 0; t < T; t++) {
    let best = 0;
    let max = -Infinity;
    for (let l = 0; l < numLabels; l++) {
      const v = logits[t * numLabels + l];
      if (v > max) {
        max = v;
        best = l;
      }
    }
    let sum = 0;
    for (let l = 0; l < numLabels; l++) sum += Math.exp(logits[t * numLabels + l] - max);
    ids.push(best);
    probs.push(1 / sum);
  }
  return { ids, probs };
}
