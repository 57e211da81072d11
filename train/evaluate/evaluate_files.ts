/**
 * `deno task eval` as a function: gold data read from `FORMAT:PATH[:MAP]` sources (with a warning for gold
 * labelled a word at a time), a model folder evaluated on it (evaluate.ts) with subsets by sentence id, and
 * the error list and the report written as files; nothing written may land on an input.
 * @module
 */
import type { Decoding } from "../../infer/window_labels.ts";
import type { SymbolEntities } from "../../infer/decode.ts";
import type { Provider } from "../../onnx/runtime.ts";
import { loadSources, parseSource } from "../ner_data/sources.ts";
import { wordLevelGold, wordLevelWarning } from "../ner_data/gold_check.ts";
import type { DatasetFormat } from "../ner_data/datasets/types.ts";
import { refuseOverwrite, writeFileAtomic } from "../util/fs.ts";
import {
  buildReport,
  defaultSubsets,
  type EvalReport,
  evaluateModelFolder,
  type ScoreSummary,
  subsetByRegex,
} from "./evaluate.ts";
import { type BootstrapOptions, type PairedBootstrap, pairedBootstrap } from "./bootstrap.ts";
import { type ErrorEntry, formatErrors } from "./metrics.ts";

/** What `evaluateFiles` evaluates, on what, and where it writes. */
export interface EvaluateFilesOptions {
  /** The inference model folder. */
  model: string;
  /** Gold data: `PATH`, `FORMAT:PATH` or `FORMAT:PATH:MAP`. */
  data: readonly string[];
  /** Format of plain paths (default `auto`). */
  format?: DatasetFormat | "auto";
  /** Type map of sources without their own. */
  map?: string;
  /** Where the sentences with errors go as JSON lines. */
  errors?: string;
  /** Where the whole report goes as JSON. */
  report?: string;
  /** Subsets named by the regex's first group over sentence ids; `none`: no subsets; default KLUE's suffixes. */
  splitBy?: string;
  decoding?: Decoding;
  /** Overrides the folder's `symbolEntities` (`"drop"`: no entity without a letter or digit). */
  symbolEntities?: SymbolEntities;
  /** Overrides the folder's `minScore` (entities scoring below it are left out). */
  minScore?: number;
  /**
   * Score floors to compare in one inference pass: the model runs with no floor (`minScore` and the folder's
   * are ignored) and each floor is applied to its entities; the report's `sweep` holds one row per floor.
   */
  minScoreSweep?: readonly number[];
  /**
   * A second model folder scored on the same data with the same settings, and compared with the first by a
   * paired bootstrap (bootstrap.ts); the report's `comparison` holds its scores and the bootstrap.
   */
  compare?: string;
  /** Draws, seed and level of the comparison's bootstrap. */
  bootstrap?: BootstrapOptions;
  variant?: string;
  batchSize?: number;
  provider?: Provider;
  threads?: number;
  /** The readers' notes and the word-level gold warning. */
  log: (message: string) => void;
}

/**
 * Evaluates `o.model` on the gold data, writes the errors and the report where asked, and returns them with
 * the decoding used (`viterbi` for a CRF folder) and, when asked, the score-floor sweep.
 */
export async function evaluateFiles(
  o: EvaluateFilesOptions,
): Promise<
  { report: EvalReport; errors: ErrorEntry[]; decoding: string; sweep?: SweepRow[]; comparison?: Comparison }
> {
  if (o.compare !== undefined && o.minScoreSweep) {
    throw new Error("a comparison and a score-floor sweep exclude each other");
  }
  const sources = o.data.map((s) => parseSource(s, o.format ?? "auto", o.map));
  await refuseOverwrite({ "--errors": o.errors, "--report": o.report }, {
    "--data": sources.map((s) => s.path),
    "--map": o.map,
    "--model": o.model,
    "--compare": o.compare,
  });
  const examples = await loadSources(sources, o.log);
  const wordLevel = wordLevelGold(examples);
  if (wordLevel) o.log(wordLevelWarning(wordLevel));
  const subsetOf = o.splitBy === "none"
    ? undefined
    : o.splitBy
    ? subsetByRegex(new RegExp(o.splitBy))
    : defaultSubsets(examples);
  const folderOptions = {
    provider: o.provider,
    threads: o.threads,
    batchSize: o.batchSize,
    subsetOf,
    decoding: o.decoding,
    symbolEntities: o.symbolEntities,
    minScore: o.minScoreSweep ? 0 : o.minScore,
    variant: o.variant,
  };
  const { report, errors, decoding, predictions } = await evaluateModelFolder(
    o.model,
    examples,
    folderOptions,
  );
  let comparison: Comparison | undefined;
  if (o.compare !== undefined) {
    const other = await evaluateModelFolder(o.compare, examples, folderOptions);
    const gold = examples.map((e) => e.entities);
    const { micro, macro, noEntity } = other.report;
    comparison = {
      model: o.compare,
      micro,
      macro,
      noEntity,
      bootstrap: pairedBootstrap(gold, predictions, other.predictions, o.bootstrap),
    };
  }
  const sweep = o.minScoreSweep?.map((floor): SweepRow => {
    const kept = predictions.map((es) => es.filter((e) => e.score >= floor));
    const r = buildReport(examples, kept, { subsetOf }).report;
    const row = ({ micro, macro, noEntity }: ScoreSummary) => ({ micro, macro, noEntity });
    const subsets = r.subsets && Object.fromEntries(Object.entries(r.subsets).map(([k, s]) => [k, row(s)]));
    return { minScore: floor, ...row(r), predicted: r.predicted, ...(subsets ? { subsets } : {}) };
  });
  if (o.errors) await writeFileAtomic(o.errors, new TextEncoder().encode(formatErrors(errors)));
  if (o.report) {
    const json = {
      model: o.model,
      ...(o.variant ? { variant: o.variant } : {}),
      ...(o.minScore !== undefined && !sweep ? { minScore: o.minScore } : {}),
      data: sources,
      decoding,
      ...report,
      ...(sweep ? { sweep } : {}),
      ...(comparison ? { comparison } : {}),
    };
    await writeFileAtomic(o.report, new TextEncoder().encode(JSON.stringify(json, null, 2) + "\n"));
  }
  return { report, errors, decoding, ...(sweep ? { sweep } : {}), ...(comparison ? { comparison } : {}) };
}

/** The second model of a comparison: its scores on the same data and the paired bootstrap against the first (B − A). */
export interface Comparison extends Pick<ScoreSummary, "micro" | "macro" | "noEntity"> {
  model: string;
  bootstrap: PairedBootstrap;
}

/** One floor of a `minScoreSweep`: the scores with entities below `minScore` left out. */
export interface SweepRow extends Pick<ScoreSummary, "micro" | "macro" | "noEntity"> {
  minScore: number;
  /** Predicted entities kept. */
  predicted: number;
  subsets?: Record<string, Pick<ScoreSummary, "micro" | "macro" | "noEntity">>;
}

/** The sweep as a plain-text table: one line per floor (F1 in %, the no-entity rate with its count). */
export function formatSweep(rows: readonly SweepRow[], digits = 2): string {
  const pct = (x: number) => (100 * x).toFixed(digits);
  const lines = rows.map((r) => {
    const ne = r.noEntity;
    const rate = ne && ne.sentences ? `${pct(ne.rate)} % (${ne.flagged}/${ne.sentences})` : "-";
    return [r.minScore.toFixed(2), pct(r.micro.f1), pct(r.macro.f1), String(r.predicted), rate].join("\t");
  });
  return ["min score\tmicro F1\tmacro F1\tentities\tno-entity rate", ...lines].join("\n");
}
