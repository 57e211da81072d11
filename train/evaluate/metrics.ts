/**
 * Entity-level precision/recall/F1 exactly as Python seqeval computes them in its default
 * (conlleval-compatible, non-strict) mode, from tag sequences or from span lists; a type confusion
 * table; an error list; and seqeval's `classification_report` text.
 * @module
 */

import { getEntities } from "../../infer/decode.ts";

/** A span to score: `[start, end)` in any unit, plus a type. */
export interface ScoredSpan {
  type: string;
  start: number;
  end: number;
}

/** Precision, recall, F1 and support (number of gold entities). */
export interface Prf {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Scores per type (sorted by name) and their micro, macro and support-weighted averages. */
export interface EntityScores {
  perType: Record<string, Prf & { predicted: number; correct: number }>;
  micro: Prf;
  macro: Prf;
  weighted: Prf;
}

// seqeval divides with zero_division="warn", which yields 0: never NaN.
const div = (a: number, b: number) => (b === 0 ? 0 : a / b);

function prf(correct: number, predicted: number, support: number): Prf {
  const precision = div(correct, predicted);
  const recall = div(correct, support);
  // seqeval: (1 + β²)·P·R / (β²·P + R) with β = 1, 0 when the denominator is 0.
  const f1 = div(2 * precision * recall, precision + recall);
  return { precision, recall, f1, support };
}

/** Scores sets of gold and predicted entity keys grouped by type. */
function scoreSets(gold: Map<string, Set<string>>, pred: Map<string, Set<string>>): EntityScores {
  const types = [...new Set([...gold.keys(), ...pred.keys()])].sort();
  const perType: EntityScores["perType"] = {};
  let tp = 0, np = 0, nt = 0;
  for (const t of types) {
    const g = gold.get(t) ?? new Set();
    const p = pred.get(t) ?? new Set();
    let c = 0;
    for (const k of p) if (g.has(k)) c++;
    perType[t] = { ...prf(c, p.size, g.size), predicted: p.size, correct: c };
    tp += c;
    np += p.size;
    nt += g.size;
  }
  const rows = types.map((t) => perType[t]);
  const mean = (f: (r: Prf) => number) => div(rows.reduce((a, r) => a + f(r), 0), rows.length);
  const wmean = (f: (r: Prf) => number) => div(rows.reduce((a, r) => a + f(r) * r.support, 0), nt);
  return {
    perType,
    micro: prf(tp, np, nt),
    macro: {
      precision: mean((r) => r.precision),
      recall: mean((r) => r.recall),
      f1: mean((r) => r.f1),
      support: nt,
    },
    weighted: {
      precision: wmean((r) => r.precision),
      recall: wmean((r) => r.recall),
      f1: wmean((r) => r.f1),
      support: nt,
    },
  };
}

/**
 * Flattens sentences the way seqeval does (an `O` after each sentence, so entities never run across
 * sentences) and groups the chunks by type.
 */
function chunksByType(sentences: readonly (readonly string[])[]): Map<string, Set<string>> {
  const flat: string[] = [];
  for (const s of sentences) flat.push(...s, "O");
  const out = new Map<string, Set<string>>();
  for (const [type, a, b] of getEntities(flat)) {
    if (!out.has(type)) out.set(type, new Set());
    out.get(type)!.add(`${a}:${b}`);
  }
  return out;
}

/** seqeval's entity-level scores from gold and predicted tag sequences (one array per sentence). */
export function scoreTags(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
): EntityScores {
  if (gold.length !== pred.length) {
    throw new Error(`scoreTags: ${gold.length} gold sentences but ${pred.length} predicted`);
  }
  gold.forEach((g, i) => {
    if (g.length !== pred[i].length) {
      throw new Error(`scoreTags: sentence ${i} has ${g.length} gold tags but ${pred[i].length} predicted`);
    }
  });
  return scoreSets(chunksByType(gold), chunksByType(pred));
}

/** Sentences without a gold entity, and how many of them were given at least one predicted entity. */
export interface NoEntityRate {
  sentences: number;
  flagged: number;
  /** flagged / sentences; 0 when no sentence is gold-empty. */
  rate: number;
}

/**
 * The no-entity rate: the share of gold-empty sentences (pure laughter, emoji, reactions) on which
 * the model predicts any entity. F1 cannot see these errors' weight, since such sentences have no support.
 */
export function noEntityRate(
  gold: readonly (readonly unknown[])[],
  pred: readonly (readonly unknown[])[],
): NoEntityRate {
  if (gold.length !== pred.length) {
    throw new Error(`noEntityRate: ${gold.length} gold sentences but ${pred.length} predicted`);
  }
  let sentences = 0, flagged = 0;
  gold.forEach((g, i) => {
    if (g.length) return;
    sentences++;
    if (pred[i].length) flagged++;
  });
  return { sentences, flagged, rate: div(flagged, sentences) };
}

/** The same scores from span lists (one list per sentence): an entity is correct when type, start and end match. */
export function scoreSpans(
  gold: readonly (readonly ScoredSpan[])[],
  pred: readonly (readonly ScoredSpan[])[],
): EntityScores {
  if (gold.length !== pred.length) {
    throw new Error(`scoreSpans: ${gold.length} gold sentences but ${pred.length} predicted`);
  }
  const group = (all: readonly (readonly ScoredSpan[])[]) => {
    const out = new Map<string, Set<string>>();
    all.forEach((spans, i) => {
      for (const s of spans) {
        if (!out.has(s.type)) out.set(s.type, new Set());
        out.get(s.type)!.add(`${i}:${s.start}:${s.end}`);
      }
    });
    return out;
  };
  return scoreSets(group(gold), group(pred));
}

// Python's "{:.Nf}" rounds exact ties to even; JS toFixed rounds them up. Ties are rare but real (0.125).
function pyFixed(x: number, digits: number): string {
  const long = x.toFixed(Math.min(100, digits + 30));
  const dot = long.indexOf(".");
  const tail = long.slice(dot + 1 + digits);
  if (/^50*$/.test(tail)) {
    const kept = long.slice(0, dot + 1 + digits).replace(/\.$/, "");
    const lastDigit = Number(kept[kept.length - 1]);
    if (lastDigit % 2 === 0) return kept;
  }
  return x.toFixed(digits);
}

/** Text of seqeval's `classification_report(y_true, y_pred, digits)`, from scores. */
export function classificationReport(scores: EntityScores, digits = 2): string {
  const types = Object.keys(scores.perType);
  const width = Math.max(...types.map((t) => t.length), "weighted avg".length, digits);
  const pad = (s: string, w: number) => s.padStart(w);
  const row = (name: string, r: Prf) =>
    `${pad(name, width)} ` + [r.precision, r.recall, r.f1].map((v) =>
      ` ${pad(pyFixed(v, digits), 9)}`
    ).join("") +
    ` ${pad(String(r.support), 9)}`;
  const header = `${pad("", width)} ` +
    ["precision", "recall", "f1-score", "support"].map((h) => ` ${pad(h, 9)}`).join("");
  const lines = [
    ...types.map((t) => row(t, scores.perType[t])),
    "",
    row("micro avg", scores.micro),
    row("macro avg", scores.macro),
    row("weighted avg", scores.weighted),
    "",
  ];
  return `${header}\n\n${lines.join("\n")}`;
}

/** Gold type × predicted type counts; the `O` row holds spurious predictions, the `O` column missed entities. */
export interface Confusion {
  /** Row and column labels: the types sorted, then `O`. */
  types: string[];
  /** `counts[gold][pred]`. */
  counts: Record<string, Record<string, number>>;
}

/**
 * Builds a confusion table over overlapping spans: each gold entity meets the predicted entity that
 * overlaps it most (`O` if none); each prediction overlapping no gold entity is spurious.
 */
export function confusionTable(
  gold: readonly (readonly ScoredSpan[])[],
  pred: readonly (readonly ScoredSpan[])[],
): Confusion {
  const all = new Set<string>();
  gold.forEach((s) => s.forEach((e) => all.add(e.type)));
  pred.forEach((s) => s.forEach((e) => all.add(e.type)));
  const types = [...all].sort();
  types.push("O");
  const counts: Confusion["counts"] = {};
  for (const g of types) counts[g] = Object.fromEntries(types.map((p) => [p, 0]));
  const ov = (a: ScoredSpan, b: ScoredSpan) => Math.min(a.end, b.end) - Math.max(a.start, b.start);
  gold.forEach((gs, i) => {
    const ps = pred[i] ?? [];
    for (const g of gs) {
      let best: ScoredSpan | undefined;
      for (const p of ps) if (ov(g, p) > 0 && (!best || ov(g, p) > ov(g, best))) best = p;
      counts[g.type][best ? best.type : "O"]++;
    }
    for (const p of ps) if (!gs.some((g) => ov(g, p) > 0)) counts["O"][p.type]++;
  });
  return { types, counts };
}

/** Renders a confusion table as aligned text (rows gold, columns predicted). */
export function formatConfusion(c: Confusion): string {
  const w = Math.max(
    6,
    ...c.types.map((t) => t.length),
    ...c.types.flatMap((g) => c.types.map((p) => String(c.counts[g][p]).length)),
  );
  const head = ["gold\\pred".padEnd(w + 3), ...c.types.map((t) => t.padStart(w))].join(" ");
  const rows = c.types.map((g) =>
    [g.padEnd(w + 3), ...c.types.map((p) => String(c.counts[g][p]).padStart(w))].join(" ")
  );
  return [head, ...rows].join("\n") + "\n";
}

/** One sentence whose predictions differ from the gold entities. */
export interface ErrorEntry {
  id: string;
  text: string;
  gold: (ScoredSpan & { text: string })[];
  predicted: (ScoredSpan & { text: string })[];
  missed: (ScoredSpan & { text: string })[];
  spurious: (ScoredSpan & { text: string })[];
}

/** Lists the sentences with any missed or spurious entity (spans are character offsets into `text`). */
export function errorList(
  sentences: readonly { id: string; text: string }[],
  gold: readonly (readonly ScoredSpan[])[],
  pred: readonly (readonly ScoredSpan[])[],
): ErrorEntry[] {
  const out: ErrorEntry[] = [];
  sentences.forEach((s, i) => {
    const withText = (e: ScoredSpan) => ({
      type: e.type,
      start: e.start,
      end: e.end,
      text: s.text.slice(e.start, e.end),
    });
    const key = (e: ScoredSpan) => `${e.type}:${e.start}:${e.end}`;
    const g = (gold[i] ?? []).map(withText);
    const p = (pred[i] ?? []).map(withText);
    const gk = new Set(g.map(key));
    const pk = new Set(p.map(key));
    const missed = g.filter((e) => !pk.has(key(e)));
    const spurious = p.filter((e) => !gk.has(key(e)));
    if (missed.length || spurious.length) {
      out.push({ id: s.id, text: s.text, gold: g, predicted: p, missed, spurious });
    }
  });
  return out;
}

/** Renders an error list as JSON lines, one sentence per line, for an errors file. */
export function formatErrors(errors: readonly ErrorEntry[]): string {
  return errors.map((e) => JSON.stringify(e)).join("\n") + (errors.length ? "\n" : "");
}
