/**
 * Fixed train/dev/test splits of NER examples. Each example's side depends only on its id and the
 * seed (a hash, not a shuffle), so a split stays the same when examples are added, reordered or
 * read on another machine; ids matching a pattern can be pinned to a side (e.g. KMOU's EXOBRAIN
 * 009/010 files, the validation files pytorch-bert-crf-ner used).
 * @module
 */
import { hash53 } from "../corpus/corpus.ts";
import type { NerExample } from "./datasets/types.ts";

/** The three sides of a split. */
export type Side = "train" | "dev" | "test";

/** How to split. */
export interface SplitOptions {
  /** Fraction of examples for dev (0–1). */
  dev: number;
  /** Fraction of examples for test (0–1). */
  test: number;
  /** Seed of the hash; another seed gives an independent split. */
  seed?: number;
  /** Ids matching these patterns go to the given side whatever the hash says. */
  pin?: { pattern: RegExp; side: Side }[];
}

/** The side an example id falls on. */
export function sideOf(id: string, options: SplitOptions): Side {
  for (const { pattern, side } of options.pin ?? []) if (pattern.test(id)) return side;
  if (options.dev < 0 || options.test < 0 || options.dev + options.test > 1) {
    throw new RangeError(`split fractions dev ${options.dev} + test ${options.test} must lie in [0, 1]`);
  }
  const u = hash53(id, options.seed ?? 0) / 2 ** 53; // uniform in [0, 1)
  return u < options.test ? "test" : u < options.test + options.dev ? "dev" : "train";
}

/** Splits examples into train/dev/test by id; ids must be unique. */
export function splitExamples(examples: NerExample[], options: SplitOptions): Record<Side, NerExample[]> {
  const out: Record<Side, NerExample[]> = { train: [], dev: [], test: [] };
  const seen = new Set<string>();
  for (const ex of examples) {
    if (seen.has(ex.id)) {
      throw new Error(`splitExamples(): id "${ex.id}" occurs twice; splits need unique ids`);
    }
    seen.add(ex.id);
    out[sideOf(ex.id, options)].push(ex);
  }
  return out;
}
