/**
 * The paired bootstrap of two models' scores on one gold set (Koehn 2004; Berg-Kirkpatrick et al. 2012): the
 * sentences are drawn with replacement many times, both models are scored on each draw, and the spread of the
 * difference says how much of it the choice of sentences alone could make. On a set of a few hundred texts a
 * difference of a point or two in macro F1 is often inside that spread; this is how to tell.
 * @module
 */
import { noEntityRate, type ScoredSpan, scoreSpans } from "./metrics.ts";

/** One sentence's entity counts by type (correct, predicted, gold), and whether it is a gold-empty one given an entity. */
export interface SentenceCounts {
  byType: Map<string, { correct: number; predicted: number; gold: number }>;
  goldEmpty: boolean;
  flagged: boolean;
}

/** Per-sentence counts, scored as `scoreSpans` scores the whole set (an entity is correct when type, start and end match). */
export function sentenceCounts(
  gold: readonly (readonly ScoredSpan[])[],
  pred: readonly (readonly ScoredSpan[])[],
): SentenceCounts[] {
  if (gold.length !== pred.length) {
    throw new Error(`sentenceCounts: ${gold.length} gold sentences but ${pred.length} predicted`);
  }
  return gold.map((g, i) => {
    const s = scoreSpans([g], [pred[i]]);
    const byType = new Map(
      Object.entries(s.perType).map((
        [t, r],
      ) => [t, { correct: r.correct, predicted: r.predicted, gold: r.support }]),
    );
    const ne = noEntityRate([g], [pred[i]]);
    return { byType, goldEmpty: ne.sentences === 1, flagged: ne.flagged === 1 };
  });
}

/** Micro and macro F1 and the no-entity rate of a draw of sentences, as seqeval and `noEntityRate` compute them. */
export interface DrawScores {
  micro: number;
  macro: number;
  noEntityRate: number;
}

const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1 = (c: number, p: number, g: number) => div(2 * c, p + g); // 2PR/(P+R) = 2c/(p+g); 0 when both are 0

/** Scores of the sentences at `indices` (repeats count again): macro F1 averages the types seen in the draw. */
export function drawScores(counts: readonly SentenceCounts[], indices: Iterable<number>): DrawScores {
  const totals = new Map<string, { correct: number; predicted: number; gold: number }>();
  let empty = 0, flagged = 0;
  for (const i of indices) {
    const s = counts[i];
    for (const [t, c] of s.byType) {
      const a = totals.get(t) ?? { correct: 0, predicted: 0, gold: 0 };
      a.correct += c.correct;
      a.predicted += c.predicted;
      a.gold += c.gold;
      totals.set(t, a);
    }
    if (s.goldEmpty) {
      empty++;
      if (s.flagged) flagged++;
    }
  }
  let c = 0, p = 0, g = 0, sum = 0;
  for (const t of totals.values()) {
    c += t.correct;
    p += t.predicted;
    g += t.gold;
    sum += f1(t.correct, t.predicted, t.gold);
  }
  return { micro: f1(c, p, g), macro: div(sum, totals.size), noEntityRate: div(flagged, empty) };
}

/** One metric of the comparison: B − A on the whole set and its bootstrap interval. */
export interface MetricComparison {
  a: number;
  b: number;
  /** b − a on the whole set. */
  diff: number;
  /** The interval of b − a over the draws at the comparison's level (percentiles). */
  low: number;
  high: number;
  /** Share of draws in which B scored higher than A (lower, for the no-entity rate). */
  bBetter: number;
}

/** The paired bootstrap's result. */
export interface PairedBootstrap {
  samples: number;
  seed: number;
  level: number;
  sentences: number;
  micro: MetricComparison;
  macro: MetricComparison;
  /** The no-entity rate, where lower is better. */
  noEntityRate: MetricComparison;
}

/** Options of `pairedBootstrap`. */
export interface BootstrapOptions {
  /** Draws (default 1,000). */
  samples?: number;
  /** Seed of the draws (default 1): the same seed gives the same result. */
  seed?: number;
  /** Two-sided level of the interval (default 0.95). */
  level?: number;
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Paired bootstrap of model B against model A on the same gold sentences: each draw takes n sentences with
 * replacement and scores both models on them.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedBootstrap } from "./bootstrap.ts";
 * const gold = [[{ type: "PS", start: 0, end: 2 }], [{ type: "LC", start: 3, end: 5 }]];
 * const r = pairedBootstrap(gold, [[], []], gold, { samples: 200 }); // A finds nothing, B everything
 * assert.equal(r.micro.diff, 1);
 * assert.equal(r.micro.low, 1); // every draw: B 100 %, A 0 %
 * ```
 */
export function pairedBootstrap(
  gold: readonly (readonly ScoredSpan[])[],
  predA: readonly (readonly ScoredSpan[])[],
  predB: readonly (readonly ScoredSpan[])[],
  options: BootstrapOptions = {},
): PairedBootstrap {
  const samples = options.samples ?? 1000, seed = options.seed ?? 1, level = options.level ?? 0.95;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new Error(`bootstrap samples must be a whole number ≥ 1, got ${samples}`);
  }
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap level must be between 0 and 1, got ${level}`);
  if (predA.length !== gold.length || predB.length !== gold.length) {
    throw new Error(
      `pairedBootstrap: ${gold.length} gold sentences but ${predA.length} and ${predB.length} predicted`,
    );
  }
  const a = sentenceCounts(gold, predA), b = sentenceCounts(gold, predB);
  const n = gold.length;
  const all = [...Array(n).keys()];
  const wholeA = drawScores(a, all), wholeB = drawScores(b, all);
  const keys = ["micro", "macro", "noEntityRate"] as const;
  const diffs = { micro: [] as number[], macro: [] as number[], noEntityRate: [] as number[] };
  const wins = { micro: 0, macro: 0, noEntityRate: 0 };
  const random = mulberry32(seed);
  const draw = new Array<number>(n);
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) draw[i] = Math.floor(random() * n);
    const sa = drawScores(a, draw), sb = drawScores(b, draw);
    for (const k of keys) {
      diffs[k].push(sb[k] - sa[k]);
      if (k === "noEntityRate" ? sb[k] < sa[k] : sb[k] > sa[k]) wins[k]++;
    }
  }
  const compare = (k: (typeof keys)[number]): MetricComparison => {
    const d = diffs[k].sort((x, y) => x - y);
    const tail = (1 - level) / 2;
    return {
      a: wholeA[k],
      b: wholeB[k],
      diff: wholeB[k] - wholeA[k],
      low: d[Math.min(samples - 1, Math.floor(tail * samples))],
      high: d[Math.max(0, Math.ceil((1 - tail) * samples) - 1)],
      bBetter: wins[k] / samples,
    };
  };
  return {
    samples,
    seed,
    level,
    sentences: n,
    micro: compare("micro"),
    macro: compare("macro"),
    noEntityRate: compare("noEntityRate"),
  };
}

/** The comparison as a plain-text table (scores in %, one line per metric). */
export function formatBootstrap(r: PairedBootstrap, nameA: string, nameB: string, digits = 2): string {
  const pct = (x: number) => (100 * x).toFixed(digits);
  const signed = (x: number) => (x >= 0 ? "+" : "") + pct(x);
  const line = (label: string, m: MetricComparison) =>
    [label, pct(m.a), pct(m.b), signed(m.diff), `[${signed(m.low)}, ${signed(m.high)}]`, m.bBetter.toFixed(3)]
      .join("\t");
  return [
    `Paired bootstrap, ${r.sentences} sentences, ${r.samples} draws (seed ${r.seed}): A = ${nameA}, B = ${nameB}`,
    `metric\tA\tB\tB − A\t${Math.round(r.level * 100)} % interval\tshare of draws B better`,
    line("micro F1", r.micro),
    line("macro F1", r.macro),
    line("no-entity rate", r.noEntityRate),
  ].join("\n");
}
