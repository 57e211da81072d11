/**
 * Character entity spans → per-token label ids for training.
 *
 * Two labelling modes:
 * - `all-subwords` (the default; HF `run_ner` style): a token is inside an entity when its
 *   characters overlap the entity; the first such token gets `B-`, the rest `I-` (BIOES: `S-` for a
 *   lone token, `E-` for the last). Korean attaches particles to names (`민수랑` → entity `민수`);
 *   WordPiece usually splits them (`민수` `##랑`), so labelling sub-words lets the model end an
 *   entity inside a word, and decoding gives `민수`, not `민수랑`.
 * - `first-subword` (ELECTRA's tagging task): a word (tokens sharing a word id) is labelled as a
 *   whole through its first sub-word; the other sub-words get -100. An entity that ends inside a
 *   word can then only be predicted with the whole word, which is why it is not the default here.
 *
 * Whatever the mode, boundaries that fall inside a token (or inside a word, in first-subword mode)
 * are counted in {@link AlignStats}, never silently dropped.
 * @module
 */

import type { Encoding } from "../../infer/encoding.ts";
import type { LabelMode } from "../../infer/decode.ts";
import type { Scheme } from "../../infer/model_folder.ts";
import type { TypedSpan } from "./datasets/types.ts";
import { IGNORE_INDEX } from "../../onnx/electra/token_classification.ts";

// The tagging scheme and label mode are the inference folder's (infer/), re-exported for training code.
export type { LabelMode, Scheme };

// The label id the loss ignores is the graph's (one constant on both sides of the artifacts contract).
export { IGNORE_INDEX };

/** The default labelling mode (see the module comment for why). */
export const DEFAULT_LABEL_MODE: LabelMode = "all-subwords";

/** Label list `["O", "B-T1", "I-T1", ("E-T1", "S-T1",) ...]`, types sorted so ids are stable. */
export function labelsFor(types: Iterable<string>, scheme: Scheme = "BIO"): string[] {
  const sorted = [...new Set(types)].sort();
  const prefixes = scheme === "BIO" ? ["B", "I"] : ["B", "I", "E", "S"];
  return ["O", ...sorted.flatMap((t) => prefixes.map((p) => `${p}-${t}`))];
}

/** Alignment losses, summed over calls when the same object is passed in. */
export interface AlignStats {
  entities: number;
  /** Entities whose start and end fall on token (or word) boundaries. */
  exact: number;
  /** Entities whose start falls inside a token (first-subword: inside a word); the label widens. */
  startInside: number;
  /** Entities whose end falls inside a token (first-subword: inside a word); the label widens. */
  endInside: number;
  /** Entities that overlap no token: beyond a truncated encoding, or whitespace only. */
  unaligned: number;
  /** Entities that lost tokens to an overlapping entity (a token has one label). */
  conflicts: number;
}

/** A zeroed {@link AlignStats}. */
export function emptyAlignStats(): AlignStats {
  return { entities: 0, exact: 0, startInside: 0, endInside: 0, unaligned: 0, conflicts: 0 };
}

/** Options for {@link alignLabels}. */
export interface AlignOptions {
  /** Label list as from {@link labelsFor}; ids are indices into it. */
  labels: readonly string[];
  scheme?: Scheme;
  mode?: LabelMode;
  /** Accumulates statistics across calls. */
  stats?: AlignStats;
}

/**
 * Labels every token of `encoding` from character entities. Special tokens get -100, and so do
 * non-first sub-words in `first-subword` mode. Throws when an entity type has no label.
 */
export function alignLabels(
  encoding: Encoding,
  entities: readonly TypedSpan[],
  options: AlignOptions,
): number[] {
  const scheme = options.scheme ?? "BIO";
  const mode = options.mode ?? DEFAULT_LABEL_MODE;
  const stats = options.stats ?? emptyAlignStats();
  const index = new Map(options.labels.map((l, i) => [l, i]));
  const id = (tag: string) => {
    const k = index.get(tag);
    if (k === undefined) throw new Error(`alignLabels: no label "${tag}" in [${options.labels.join(", ")}]`);
    return k;
  };
  const n = encoding.ids.length;
  const out = new Array<number>(n).fill(IGNORE_INDEX);

  // Units: single tokens, or words (a word = consecutive non-special tokens with one word id).
  const units: { first: number; start: number; end: number }[] = [];
  for (let t = 0; t < n; t++) {
    if (encoding.specialTokensMask[t] === 1) continue;
    const [s, e] = encoding.offsets[t];
    const prev = units[units.length - 1];
    if (
      mode === "first-subword" && prev && encoding.wordIds[t] !== null &&
      encoding.wordIds[t] === encoding.wordIds[t - 1] && encoding.specialTokensMask[t - 1] === 0
    ) {
      prev.end = Math.max(prev.end, e);
      continue;
    }
    units.push({ first: t, start: s, end: e });
  }
  // Which entity owns each unit: the one with the largest overlap (ties: the earlier entity).
  const owner = new Array<number>(units.length).fill(-1);
  const overlap = new Array<number>(units.length).fill(0);
  const sorted = [...entities].map((e, k) => ({ e, k })).sort((a, b) =>
    a.e.start - b.e.start || a.e.end - b.e.end
  );
  const wanted = new Array<number>(sorted.length).fill(0);
  sorted.forEach(({ e }, j) => {
    stats.entities++;
    let startInside = false, endInside = false;
    units.forEach((u, i) => {
      const ov = Math.min(u.end, e.end) - Math.max(u.start, e.start);
      if (ov <= 0) return;
      wanted[j]++;
      if (u.start < e.start) startInside = true;
      if (u.end > e.end) endInside = true;
      if (ov > overlap[i]) {
        overlap[i] = ov;
        owner[i] = j;
      }
    });
    if (wanted[j] === 0) stats.unaligned++;
    else {
      if (startInside) stats.startInside++;
      if (endInside) stats.endInside++;
      if (!startInside && !endInside) stats.exact++;
    }
  });
  const got = new Array<number>(sorted.length).fill(0);
  for (const o of owner) if (o >= 0) got[o]++;
  for (let j = 0; j < sorted.length; j++) if (wanted[j] > 0 && got[j] < wanted[j]) stats.conflicts++;

  for (let i = 0; i < units.length; i++) {
    const o = owner[i];
    let tag = "O";
    if (o >= 0) {
      const type = sorted[o].e.type;
      const begins = i === 0 || owner[i - 1] !== o;
      const ends = i === units.length - 1 || owner[i + 1] !== o;
      if (scheme === "BIO") tag = `${begins ? "B" : "I"}-${type}`;
      else tag = `${begins && ends ? "S" : begins ? "B" : ends ? "E" : "I"}-${type}`;
    }
    out[units[i].first] = id(tag);
  }
  return out;
}

/** Renders alignment statistics as one line for logs. */
export function formatAlignStats(s: AlignStats): string {
  const pct = (x: number) => (s.entities ? ((100 * x) / s.entities).toFixed(2) : "0.00");
  return `${s.entities} entities: ${s.exact} exact, ${s.startInside} start inside a token (${
    pct(s.startInside)
  }%), ` +
    `${s.endInside} end inside a token (${
      pct(s.endInside)
    }%), ${s.unaligned} unaligned, ${s.conflicts} in conflict`;
}
