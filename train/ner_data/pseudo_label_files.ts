/**
 * A whole pseudo-labelling run (`deno task pseudo-label`) over files: the teacher models loaded, the texts
 * never to label read, `pseudoLabel` (pseudo_label.ts, which states the rule) run into the silver KLUE TSV,
 * and its JSON report written beside it; nothing written may land on something read.
 * @module
 */
import { resolve, sep } from "node:path";
import { loadRecognizer, type NerPipeline } from "../../infer/pipeline.ts";
import type { CorpusFormat } from "../corpus/corpus.ts";
import { writeFileAtomic } from "../util/fs.ts";
import {
  type ExclusionSource,
  histogramRows,
  parseExclusionSpec,
  partialPath,
  pseudoLabel,
  readExclusions,
  statePath,
} from "./pseudo_label.ts";

/** The default report path: `x.tsv` → `x.report.json`. */
export function defaultReportPath(out: string): string {
  return out.replace(/\.tsv$/i, "") + ".report.json";
}

/** Everything a run reads and writes, and its thresholds. */
export interface PseudoLabelFilesOptions {
  /** Teacher model folders: one, or an ensemble that must agree. */
  models: readonly string[];
  /** Corpus files (`listCorpusFiles`), in order. */
  files: readonly string[];
  format?: CorpusFormat;
  /** The silver KLUE TSV. */
  out: string;
  /** The JSON report (default `defaultReportPath(out)`). */
  report?: string;
  minConfidence: number;
  /** Exclusion lists (`[FMT:]FILE`, see `parseExclusionSpec`). */
  exclude?: readonly string[];
  excludeMinChars: number;
  minChars: number;
  maxChars: number;
  maxPerSource?: number;
  dropTypes: readonly string[];
  maxEmptyShare: number;
  resume: boolean;
  /** Windows per ONNX Runtime run of each teacher (texts per call: 8 times as many). */
  batchSize: number;
  threads?: number;
  /** Graph variant of every teacher folder. */
  variant?: string;
  log: (message: string) => void;
}

/**
 * Why the run's outputs (the silver file, its report, its partial and state files) cannot be written, or
 * undefined: one would land on a corpus file, an exclusion list or inside a model folder, or the report on
 * the silver file.
 */
export function outputClash(o: PseudoLabelFilesOptions): string | undefined {
  const report = o.report ?? defaultReportPath(o.out);
  const inputs = [...o.files, ...(o.exclude ?? []).map((s) => parseExclusionSpec(s).path)].map((p) =>
    resolve(p)
  );
  const folders = o.models.map((m) => resolve(m) + sep);
  for (
    const [flag, path] of [["--out", o.out], ["--report", report], ["--out", partialPath(o.out)], [
      "--out",
      statePath(o.out),
    ]]
  ) {
    const r = resolve(path);
    if (inputs.some((i) => i === r || r.startsWith(i + sep)) || folders.some((f) => r.startsWith(f))) {
      return `${flag} "${path}" would overwrite an input (corpus, exclusion list or model folder)`;
    }
  }
  if (resolve(report) === resolve(o.out)) return "--report must differ from --out";
}

/** What a run prints: where it wrote, its counts and its time. */
export interface PseudoLabelSummary {
  out: string;
  report: string;
  read: number;
  excluded: number;
  labelled: number;
  kept: number;
  keptWithEntities: number;
  entities: Record<string, number>;
  seconds: number;
}

/** Runs the teachers over the corpus into `o.out` and writes the report (check `outputClash` first). */
export async function pseudoLabelFiles(o: PseudoLabelFilesOptions): Promise<PseudoLabelSummary> {
  const { out, files, format, minConfidence, maxPerSource, dropTypes, minChars, maxChars, maxEmptyShare } = o;
  const report = o.report ?? defaultReportPath(out);
  let exclusions, sources: ExclusionSource[] = [];
  if (o.exclude?.length) {
    ({ set: exclusions, sources } = await readExclusions(o.exclude, o.excludeMinChars));
    o.log(
      `excluding ${exclusions.size} distinct texts from ${
        sources.map((s) => `${s.path} (${s.texts})`).join(", ")
      }`,
    );
  }
  const teachers: NerPipeline[] = [];
  try {
    for (const m of o.models) {
      teachers.push(
        await loadRecognizer(m, { batchSize: o.batchSize, threads: o.threads, variant: o.variant }),
      );
    }
    const settings = {
      models: o.models.map((m) => resolve(m)),
      variant: o.variant ?? null,
      corpus: files.map((f) => resolve(f)),
      format: format ?? null,
      minConfidence,
      exclude: sources.map((s) => ({ path: resolve(s.path), format: s.format, texts: s.texts })),
      excludeMinChars: o.excludeMinChars,
      minChars,
      maxChars,
      maxPerSource: maxPerSource ?? null,
      dropTypes,
      maxEmptyShare,
    };
    const t0 = performance.now();
    const counts = await pseudoLabel(teachers, {
      files,
      format,
      out,
      minConfidence,
      exclusions,
      maxPerSource,
      dropTypes,
      minChars,
      maxChars,
      maxEmptyShare,
      chunk: o.batchSize * 8,
      resume: o.resume,
      settings,
      log: o.log,
    });
    const seconds = (performance.now() - t0) / 1000;
    const { histogram, sources: perFile, entities, ...totals } = counts;
    const json = {
      out,
      rule: `kept when every labelled token's probability of its label is >= ${minConfidence} for each of ` +
        `${o.models.length} teacher(s) and all teachers decode the same entities`,
      settings,
      ...totals,
      entities: Object.fromEntries(Object.entries(entities).sort(([a], [b]) => (a < b ? -1 : 1))),
      histogram: histogramRows(histogram),
      perFile,
      // Of this invocation (a resumed run counts only its own part).
      seconds: Number(seconds.toFixed(1)),
    };
    await writeFileAtomic(report, JSON.stringify(json, null, 2) + "\n");
    return {
      out,
      report,
      read: counts.read,
      excluded: counts.excluded,
      labelled: counts.labelled,
      kept: counts.kept,
      keptWithEntities: counts.keptWithEntities,
      entities: json.entities,
      seconds: json.seconds,
    };
  } finally {
    for (const t of teachers) await t.release();
  }
}
