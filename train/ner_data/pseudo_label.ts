/**
 * Self-training data: a teacher model (or an ensemble whose members must agree) labels unlabelled text, and
 * the sentences it is confident on become a silver source in KLUE TSV for `deno task finetune --train
 * klue:FILE`.
 *
 * The rule: a sentence is kept when, for every teacher, every labelled unit of the sentence (each token; in a
 * first-subword model each word) has a probability of at least `minConfidence` for the label it was given,
 * `O` included, and all teachers decode the same entities (type and character span). So both the entities
 * and the text left untagged are confident; with `minConfidence > 0.5` each given label is also the most
 * probable one.
 *
 * The corpus is streamed (one batch of texts in memory), texts found in exclusion lists (test splits) are
 * left out after whitespace normalisation, and a state file beside the output lets an interrupted run go on
 * where its last checkpoint was (`resume`).
 * @module
 */
import { basename, dirname } from "node:path";
import type { DetailedRecognition } from "../../infer/pipeline.ts";
import {
  type CorpusFormat,
  type CorpusIssue,
  issuePrinter,
  LineCleaner,
  readCorpusFile,
} from "../corpus/corpus.ts";
import { writeKlue } from "./datasets/klue.ts";
import { DATASET_FORMATS, detectDatasetFormat, parseDataset, readDataset } from "./datasets/mod.ts";
import {
  type DatasetFormat,
  type NerExample,
  parseMarkup,
  readText,
  renderMarkup,
} from "./datasets/types.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { formatDuration } from "../run/progress.ts";

/** What labels texts: a `NerPipeline` or anything with its `recognizeDetailed`. */
export interface Teacher {
  recognizeDetailed(texts: readonly string[]): Promise<DetailedRecognition[]>;
}

/** The key texts are compared by: NFC, all whitespace removed (so spacing differences do not hide a match). */
export function matchKey(text: string): string {
  return text.normalize("NFC").replace(/\s+/gu, "");
}

/**
 * Texts that must not be labelled (test and dev sentences). A corpus text is excluded when its key equals one
 * of them, or, for exclusion texts of at least `minContained` characters, contains one (a test sentence may
 * be one sentence of a longer review; short ones such as `ㅋㅋㅋ` would exclude half the corpus).
 */
export class ExclusionSet {
  readonly minContained: number;
  #exact = new Set<string>();
  // Long keys indexed by their first `minContained` code units, for the containment test.
  #byPrefix = new Map<string, string[]>();

  /** An empty set; `minContained` is the shortest exclusion key (in UTF-16 units) matched inside longer texts. */
  constructor(minContained = 8) {
    if (!(Number.isInteger(minContained) && minContained >= 1)) {
      throw new RangeError(`minContained must be a positive integer, got ${minContained}`);
    }
    this.minContained = minContained;
  }

  /** Distinct exclusion keys. */
  get size(): number {
    return this.#exact.size;
  }

  /** Adds one text; an empty (all-whitespace) text is ignored. */
  add(text: string): void {
    const key = matchKey(text);
    if (key === "" || this.#exact.has(key)) return;
    this.#exact.add(key);
    if (key.length >= this.minContained) {
      const prefix = key.slice(0, this.minContained);
      const list = this.#byPrefix.get(prefix);
      if (list) list.push(key);
      else this.#byPrefix.set(prefix, [key]);
    }
  }

  /** True when `text` equals or contains an exclusion text (see the class comment). */
  matches(text: string): boolean {
    const key = matchKey(text);
    if (this.#exact.has(key)) return true;
    const k = this.minContained;
    if (this.#byPrefix.size === 0) return false;
    for (let i = 0; i + k <= key.length; i++) {
      const list = this.#byPrefix.get(key.slice(i, i + k));
      if (list && list.some((p) => key.startsWith(p, i))) return true;
    }
    return false;
  }
}

/**
 * How an exclusion file is read: a dataset format, or `lines` (one text per line, `<x:TYPE>` markup stripped,
 * anything up to a line's last tab dropped, `#` lines skipped).
 */
export type ExclusionFormat = DatasetFormat | "lines";

/** One exclusion file as read. */
export interface ExclusionSource {
  path: string;
  format: ExclusionFormat;
  texts: number;
}

// CoNLL is what dataset detection falls back to; a file is read as CoNLL only when it looks like one.
function looksLikeConll(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("-DOCSTART-")).slice(
    0,
    50,
  );
  return lines.length > 0 &&
    lines.filter((l) => /^\S+([\t ]+\S+)*[\t ]+(O|[BIESU][-_][A-Za-z0-9_]+)$/.test(l)).length >=
      lines.length * 0.8;
}

/** The texts of one exclusion file in `format` (`auto`: a dataset format by detection, else `lines`). */
export async function readExclusionTexts(
  path: string,
  format: ExclusionFormat | "auto" = "auto",
): Promise<{ format: ExclusionFormat; texts: string[] }> {
  const stat = await Deno.stat(path).catch(() => undefined);
  if (!stat) throw new Error(`Cannot read exclusion list "${path}": no such file or folder`);
  if (stat.isDirectory) {
    if (format !== "auto" && format !== "kmou") {
      throw new Error(`Exclusion list "${path}" is a folder; only the kmou format reads folders`);
    }
    return { format: "kmou", texts: (await readDataset(path, "kmou")).examples.map((e) => e.text) };
  }
  const text = await readText(path);
  let f = format;
  if (f === "auto") {
    const detected = detectDatasetFormat(path, text);
    f = detected === "conll" && !looksLikeConll(text) ? "lines" : detected;
  }
  if (f === "lines") {
    // Markup sources such as data/colloquial/test.txt: `#` comments, `style<TAB>marked text` lines.
    const texts = text.replace(/^\ufeff/, "").split(/\r?\n/).filter((l) => !l.startsWith("#"))
      .map((l) => parseMarkup(l.slice(l.lastIndexOf("\t") + 1)).text).filter((l) => l.trim() !== "");
    return { format: f, texts };
  }
  return { format: f, texts: parseDataset(text, path, f).examples.map((e) => e.text) };
}

/** Splits an `--exclude` value into an optional `FORMAT:` prefix and the path. */
export function parseExclusionSpec(spec: string): { format: ExclusionFormat | "auto"; path: string } {
  const i = spec.indexOf(":");
  const formats = [...DATASET_FORMATS, "lines", "auto"] as string[];
  if (i > 0 && formats.includes(spec.slice(0, i))) {
    return { format: spec.slice(0, i) as ExclusionFormat | "auto", path: spec.slice(i + 1) };
  }
  return { format: "auto", path: spec };
}

/** Reads every exclusion spec (`[FORMAT:]PATH`) into one set. */
export async function readExclusions(
  specs: readonly string[],
  minContained?: number,
): Promise<{ set: ExclusionSet; sources: ExclusionSource[] }> {
  const set = new ExclusionSet(minContained);
  const sources: ExclusionSource[] = [];
  for (const spec of specs) {
    const { format, path } = parseExclusionSpec(spec);
    const read = await readExclusionTexts(path, format);
    for (const t of read.texts) set.add(t);
    sources.push({ path, format: read.format, texts: read.texts.length });
  }
  return { set, sources };
}

/** The lowest probability of any label given in one recognition; 1 when nothing was labelled. */
export function sentenceConfidence(r: DetailedRecognition): number {
  let min = 1;
  for (const t of r.tokens) if (t.score < min) min = t.score;
  return min;
}

/** What the teachers decided about one text. */
export interface Verdict {
  /** Kept by the rule (confident and agreed). */
  keep: boolean;
  /** The lowest label probability over all teachers. */
  confidence: number;
  /** All teachers decoded the same entities. */
  agree: boolean;
  /** The (first teacher's) entities, as dataset entities. */
  entities: { start: number; end: number; type: string }[];
}

/** Applies the rule of the module comment to one text's recognitions (one per teacher). */
export function judge(results: readonly DetailedRecognition[], minConfidence: number): Verdict {
  if (results.length === 0) throw new Error("judge: no teacher results");
  const key = (r: DetailedRecognition) => r.entities.map((e) => `${e.type}:${e.start}:${e.end}`).join(" ");
  const first = key(results[0]);
  const agree = results.every((r) => key(r) === first);
  const confidence = Math.min(...results.map(sentenceConfidence));
  return {
    keep: agree && confidence >= minConfidence,
    confidence,
    agree,
    entities: results[0].entities.map(({ start, end, type }) => ({ start, end, type })),
  };
}

/** Upper edges of the confidence histogram's bins (the first bin starts at 0, the last ends at 1 inclusive). */
export const HISTOGRAM_EDGES: readonly number[] = [
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
  0.95,
  0.98,
  0.99,
  0.995,
  0.999,
  1,
];

/** Counts of sentence confidences per bin of `HISTOGRAM_EDGES`. */
export function histogramBin(confidence: number): number {
  for (let i = 0; i < HISTOGRAM_EDGES.length - 1; i++) if (confidence < HISTOGRAM_EDGES[i]) return i;
  return HISTOGRAM_EDGES.length - 1;
}

/** The histogram as `[{from, to, sentences}]` for the report. */
export function histogramRows(counts: readonly number[]): { from: number; to: number; sentences: number }[] {
  return HISTOGRAM_EDGES.map((to, i) => ({
    from: i === 0 ? 0 : HISTOGRAM_EDGES[i - 1],
    to,
    sentences: counts[i],
  }));
}

/** Counts for one corpus file. */
export interface SourceCounts {
  /** Texts taken from the file so far (also where a resumed run goes on). */
  read: number;
  excluded: number;
  labelled: number;
  kept: number;
}

/** Everything counted by a run (also the state a resumed run starts from). */
export interface PseudoLabelCounts {
  /** Texts read from the corpus (one per line, or per CSV column). */
  read: number;
  empty: number;
  duplicate: number;
  tooShort: number;
  tooLong: number;
  excluded: number;
  /** Texts the teachers labelled. */
  labelled: number;
  /** Labelled texts whose teachers decoded different entities. */
  disagreed: number;
  /** Labelled, agreed, but some label below the threshold. */
  unsure: number;
  kept: number;
  keptWithEntities: number;
  /** Confident texts without entities left out by `maxEmptyShare`. */
  droppedEmpty: number;
  /** Confident texts left out because their file had reached `maxPerSource`. */
  droppedCap: number;
  /** Confident texts left out because they hold an entity of a type in `dropTypes`. */
  droppedType: number;
  /** Confident texts that KLUE TSV cannot hold faithfully (text that reads as `<x:TYPE>` markup). */
  unwritable: number;
  entities: Record<string, number>;
  /** Labelled texts per bin of `HISTOGRAM_EDGES` (by the lowest label probability over the teachers). */
  histogram: number[];
  sources: Record<string, SourceCounts>;
}

/** Options of `pseudoLabel`. */
export interface PseudoLabelOptions {
  /** Corpus files, in order. */
  files: readonly string[];
  /** Layout of every file; by file name when absent (`train/corpus/corpus.ts`). */
  format?: CorpusFormat;
  /** The silver KLUE TSV file. */
  out: string;
  minConfidence: number;
  exclusions?: ExclusionSet;
  /** Most sentences kept per corpus file (default: no cap); the rest of a file is not read. */
  maxPerSource?: number;
  /**
   * Texts with an entity of one of these types are not kept (for types the teacher is confidently wrong on;
   * dropping the entity alone would teach the student that the text there is `O`).
   */
  dropTypes?: readonly string[];
  /** Shortest and longest texts labelled, in code points (defaults 2 and 300). */
  minChars?: number;
  maxChars?: number;
  /** Largest share of kept sentences without any entity (default 1: no cap). */
  maxEmptyShare?: number;
  /** Texts per teacher call (default 256; the pipeline batches their windows by length). */
  chunk?: number;
  /** Go on from the state file of an interrupted run into `out`. */
  resume?: boolean;
  /** What a resumed run must share with the interrupted one (models, thresholds, inputs); stored in the state. */
  settings?: Record<string, unknown>;
  /** Seconds between checkpoints (default 30) and between progress lines (default 5). */
  checkpointSeconds?: number;
  progressSeconds?: number;
  /** Progress and notes (default: none). */
  log?: (line: string) => void;
  /** Skipped corpus lines (bad UTF-8, wrong layout); default: printed by the corpus reader. */
  onIssue?: (issue: CorpusIssue) => void;
}

/** The state file of a run into `out`. */
export function statePath(out: string): string {
  return `${out}.state.json`;
}

/** The file a run appends kept sentences to before renaming it to `out`. */
export function partialPath(out: string): string {
  return `${out}.partial`;
}

/** The state file: the settings a resume must share, how much of the partial output counts, the counts. */
interface State {
  version: 1;
  settings: Record<string, unknown>;
  partialBytes: number;
  counts: PseudoLabelCounts;
}

/** The counts of a run that has read nothing yet. */
function emptyCounts(files: readonly string[]): PseudoLabelCounts {
  return {
    read: 0,
    empty: 0,
    duplicate: 0,
    tooShort: 0,
    tooLong: 0,
    excluded: 0,
    labelled: 0,
    disagreed: 0,
    unsure: 0,
    kept: 0,
    keptWithEntities: 0,
    droppedEmpty: 0,
    droppedCap: 0,
    droppedType: 0,
    unwritable: 0,
    entities: {},
    histogram: HISTOGRAM_EDGES.map(() => 0),
    sources: Object.fromEntries(files.map((f) => [f, { read: 0, excluded: 0, labelled: 0, kept: 0 }])),
  };
}

/** The state file of an interrupted run, checked to be one and to share `settings`. */
async function loadState(path: string, settings: Record<string, unknown>): Promise<State> {
  let state: State;
  try {
    state = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read the state file "${path}": ${(e as Error).message}`);
  }
  if (state?.version !== 1 || typeof state.partialBytes !== "number" || !state.counts) {
    throw new Error(`"${path}" is not a pseudo-label state file (version 1)`);
  }
  const differ = [...new Set([...Object.keys(settings), ...Object.keys(state.settings ?? {})])]
    .filter((k) => JSON.stringify(settings[k]) !== JSON.stringify(state.settings?.[k]));
  if (differ.length) {
    throw new Error(
      `Cannot resume from "${path}": ${differ.join(", ")} differ from the interrupted run's; ` +
        `run with its settings, or delete the state file to start over`,
    );
  }
  return state;
}

/** True when KLUE TSV reads `ex` back as it is (a text that itself reads as markup would not). */
function writable(ex: NerExample): boolean {
  const m = parseMarkup(renderMarkup(ex.text, ex.entities));
  return m.text === ex.text && m.entities.length === ex.entities.length && m.problems.length === 0;
}

/** The UTF-8 length of a string, without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xe000 ? 2 : 3; // a surrogate pair is 4 bytes
  }
  return n;
}

/** A corpus text waiting for the teachers. */
interface Pending {
  text: string;
  file: string;
  id: string;
}

/** `PseudoLabelOptions` checked, with their defaults filled in. */
interface Plan {
  files: readonly string[];
  format?: CorpusFormat;
  out: string;
  minConfidence: number;
  exclusions?: ExclusionSet;
  minChars: number;
  maxChars: number;
  maxPerSource: number;
  dropTypes: ReadonlySet<string>;
  maxEmptyShare: number;
  chunk: number;
  settings: Record<string, unknown>;
  checkpointSeconds: number;
  progressSeconds: number;
  log: (line: string) => void;
  onIssue?: (issue: CorpusIssue) => void;
}

/** Checks the teachers and the threshold, and fills in the defaults of the options. */
function planOf(teachers: readonly Teacher[], options: PseudoLabelOptions): Plan {
  if (teachers.length === 0) throw new Error("pseudoLabel: no teacher");
  const { minConfidence } = options;
  if (!(minConfidence >= 0 && minConfidence <= 1)) {
    throw new RangeError(`minConfidence must be in [0, 1], got ${minConfidence}`);
  }
  return {
    files: options.files,
    format: options.format,
    out: options.out,
    minConfidence,
    exclusions: options.exclusions,
    minChars: options.minChars ?? 2,
    maxChars: options.maxChars ?? 300,
    maxPerSource: options.maxPerSource ?? Infinity,
    dropTypes: new Set(options.dropTypes ?? []),
    maxEmptyShare: options.maxEmptyShare ?? 1,
    chunk: options.chunk ?? 256,
    settings: options.settings ?? {},
    checkpointSeconds: options.checkpointSeconds ?? 30,
    progressSeconds: options.progressSeconds ?? 5,
    log: options.log ?? (() => {}),
    onIssue: options.onIssue,
  };
}

/**
 * Where a run starts: empty counts, or the counts and output length of the interrupted run's state file
 * (with `resume`; without it a state file is an error, so that nothing is overwritten by accident).
 */
async function startingPoint(
  plan: Plan,
  resume: boolean | undefined,
): Promise<{ counts: PseudoLabelCounts; partialBytes: number }> {
  const { out, log } = plan;
  const state = statePath(out), partial = partialPath(out);
  const hasState = await Deno.stat(state).then(() => true, () => false);
  if (hasState && !resume) {
    throw new Error(
      `"${state}" holds an interrupted run into "${out}": pass --resume to go on with it, or delete it to start over`,
    );
  }
  if (!hasState) {
    if (resume) log(`no interrupted run into "${out}": starting`);
    return { counts: emptyCounts(plan.files), partialBytes: 0 };
  }
  const { counts, partialBytes } = await loadState(state, plan.settings);
  const size = (await Deno.stat(partial).catch(() => undefined))?.size;
  if (size === undefined || size < partialBytes) {
    throw new Error(
      `Cannot resume: "${partial}" is missing or shorter than the state says (${partialBytes} bytes)`,
    );
  }
  log(`resuming after ${counts.read} texts (${counts.kept} kept)`);
  return { counts, partialBytes };
}

/**
 * Progress in bytes: the files before, plus the UTF-8 size of the texts taken from the current one (the
 * reader's own count runs up to 1 MiB ahead of the texts labelled).
 */
class ProgressMeter {
  readonly t0 = performance.now();
  bytesBefore = 0;
  fileBytes = 0;
  readerBytes = 0;
  currentFile: string;
  /** Where this invocation's own reading began (a resumed run replays the earlier part); -1 before. */
  startBytes = -1;
  readonly #readAtStart: number;

  /** A meter over files of `totalBytes` in all, for a run that has read `readAtStart` texts already. */
  constructor(readonly totalBytes: number, readAtStart: number, firstFile: string) {
    this.#readAtStart = readAtStart;
    this.currentFile = firstFile;
  }

  /** Bytes of the corpus done. */
  done(): number {
    return this.bytesBefore + Math.min(this.fileBytes, this.readerBytes);
  }

  /** The progress line: file, MiB done of all, counts, rate and the time left. */
  line(counts: PseudoLabelCounts): string {
    const el = (performance.now() - this.t0) / 1000;
    const done = this.done();
    const rate = (counts.read - this.#readAtStart) / Math.max(el, 1e-9);
    const eta = done > this.startBytes && this.startBytes >= 0
      ? (el / (done - this.startBytes)) * (this.totalBytes - done)
      : NaN;
    const share = counts.labelled ? ((100 * counts.kept) / counts.labelled).toFixed(1) : "0.0";
    return `${basename(this.currentFile)}: ${(done / 2 ** 20).toFixed(1)}/${
      (this.totalBytes / 2 ** 20).toFixed(1)
    } MiB, ` +
      `read ${counts.read}, labelled ${counts.labelled}, kept ${counts.kept} (${share} %), ` +
      `${rate.toFixed(0)} texts/s, ETA ${formatDuration(eta)}`;
  }
}

/** What a run carries from batch to batch. */
interface Run {
  plan: Plan;
  teachers: readonly Teacher[];
  counts: PseudoLabelCounts;
  /** Bytes of `out.partial` that the counts account for. */
  partialBytes: number;
  file: Deno.FsFile;
  pending: Pending[];
  meter: ProgressMeter;
  lastCheckpoint: number;
  lastProgress: number;
  /** Texts seen by all files (tabs turned into spaces), for the dedupe. */
  cleaner: LineCleaner;
  /** Where skipped lines are reported when the options name no `onIssue`. */
  printIssues: (issue: CorpusIssue) => void;
}

/** Writes the state file, after the partial output it points into is on disk. */
async function checkpoint(run: Run): Promise<void> {
  await run.file.sync();
  const s: State = {
    version: 1,
    settings: run.plan.settings,
    partialBytes: run.partialBytes,
    counts: run.counts,
  };
  await writeFileAtomic(statePath(run.plan.out), JSON.stringify(s) + "\n");
}

/** Each teacher's recognitions of `texts` (one per text, checked). */
async function recognizeAll(
  teachers: readonly Teacher[],
  texts: readonly string[],
): Promise<DetailedRecognition[][]> {
  const results: DetailedRecognition[][] = [];
  for (const t of teachers) {
    const r = await t.recognizeDetailed(texts);
    if (r.length !== texts.length) {
      throw new Error(`A teacher returned ${r.length} results for ${texts.length} texts`);
    }
    results.push(r);
  }
  return results;
}

/** Why a labelled text is not kept, as the counter it adds to; undefined when it is kept. */
function dropReason(
  run: Run,
  src: SourceCounts,
  v: Verdict,
  ex: NerExample,
): "disagreed" | "unsure" | "droppedType" | "droppedCap" | "droppedEmpty" | "unwritable" | undefined {
  const { counts, plan } = run;
  if (!v.agree) return "disagreed";
  if (!v.keep) return "unsure";
  if (v.entities.some((e) => plan.dropTypes.has(e.type))) return "droppedType";
  if (src.kept >= plan.maxPerSource) return "droppedCap";
  if (
    v.entities.length === 0 &&
    counts.kept - counts.keptWithEntities + 1 > plan.maxEmptyShare * (counts.kept + 1)
  ) {
    return "droppedEmpty";
  }
  if (!writable(ex)) return "unwritable";
}

/** Counts one labelled text under the rule and the caps; its KLUE TSV when it is kept, else "". */
function keptText(run: Run, p: Pending, v: Verdict): string {
  const { counts } = run;
  const src = counts.sources[p.file];
  counts.labelled++;
  src.labelled++;
  counts.histogram[histogramBin(v.confidence)]++;
  const ex: NerExample = { id: p.id, text: p.text, entities: v.entities };
  const why = dropReason(run, src, v, ex);
  if (why) {
    counts[why]++;
    return "";
  }
  counts.kept++;
  src.kept++;
  if (v.entities.length) counts.keptWithEntities++;
  for (const e of v.entities) counts.entities[e.type] = (counts.entities[e.type] ?? 0) + 1;
  return writeKlue([ex]);
}

/** Labels the pending texts, appends the kept ones to the partial output and checkpoints when it is time. */
async function flush(run: Run): Promise<void> {
  const { pending } = run;
  if (pending.length === 0) return;
  const results = await recognizeAll(run.teachers, pending.map((p) => p.text));
  let chunkText = "";
  pending.forEach((p, i) => {
    chunkText += keptText(run, p, judge(results.map((r) => r[i]), run.plan.minConfidence));
  });
  pending.length = 0;
  const bytes = new TextEncoder().encode(chunkText);
  let off = 0;
  while (off < bytes.length) off += await run.file.write(bytes.subarray(off));
  run.partialBytes += bytes.length;
  const now = performance.now();
  if (now - run.lastCheckpoint >= run.plan.checkpointSeconds * 1000) {
    await checkpoint(run);
    run.lastCheckpoint = now;
  }
}

/** Why a text read is not labelled, as the counter it adds to; undefined when it goes to the teachers. */
function skipReason(
  plan: Plan,
  text: string | null,
): "empty" | "duplicate" | "tooShort" | "tooLong" | "excluded" | undefined {
  if (text === "") return "empty";
  if (text === null) return "duplicate";
  const n = [...text].length;
  if (n < plan.minChars) return "tooShort";
  if (n > plan.maxChars) return "tooLong";
  if (plan.exclusions?.matches(text)) return "excluded";
}
/**
 * Reads one corpus file into batches for the teachers, from where the interrupted run left it (texts it read
 * only rebuild the dedupe), up to `maxPerSource` kept sentences; its last batch is labelled at its end.
 */
async function labelFile(run: Run, path: string): Promise<void> {
  const { counts, plan, meter } = run;
  meter.currentFile = path;
  meter.fileBytes = meter.readerBytes = 0;
  const src = counts.sources[path];
  const skip = src.read;
  let item = 0, lastLine = -1, repeat = 0;
  // Lines the interrupted run has already reported are not reported again.
  const report = plan.onIssue ?? run.printIssues;
  for await (
    const { text: raw, line } of readCorpusFile(path, {
      format: plan.format,
      onIssue: (i) => item >= skip && report(i),
      onBytes: (b) => meter.readerBytes = b,
    })
  ) {
    repeat = line === lastLine ? repeat + 1 : 1;
    meter.fileBytes += utf8Length(raw) + 1;
    lastLine = line;
    // KLUE TSV cannot hold a tab in a sentence.
    const text = run.cleaner.clean(raw.replaceAll("\t", " "));
    if (item++ < skip) continue; // read by the interrupted run: only its dedupe hash is rebuilt
    if (src.kept >= plan.maxPerSource) break;
    if (meter.startBytes < 0) meter.startBytes = meter.done();
    counts.read++;
    src.read++;
    const why = skipReason(plan, text);
    if (why) {
      counts[why]++;
      if (why === "excluded") src.excluded++;
    } else {
      const id = `${basename(path).replace(/\s/g, "_")}:${line}${repeat > 1 ? `.${repeat}` : ""}`;
      run.pending.push({ text: text!, file: path, id });
      if (run.pending.length >= plan.chunk) await flush(run);
    }
    const now = performance.now();
    if (now - run.lastProgress >= plan.progressSeconds * 1000) {
      plan.log(meter.line(counts));
      run.lastProgress = now;
    }
  }
  // A file ends its batch, so that a checkpoint's position never lies inside pending texts.
  await flush(run);
  meter.bytesBefore += (await Deno.stat(path)).size;
  meter.fileBytes = meter.readerBytes = 0;
}

/**
 * Labels the corpus with the teachers and writes the kept sentences to `options.out` as KLUE TSV (ids
 * `FILE:LINE`), atomically (appended to `out.partial`, renamed at the end). Returns the counts.
 */
export async function pseudoLabel(
  teachers: readonly Teacher[],
  options: PseudoLabelOptions,
): Promise<PseudoLabelCounts> {
  const plan = planOf(teachers, options);
  const { counts, partialBytes } = await startingPoint(plan, options.resume);
  const { out, files } = plan;
  const partial = partialPath(out);
  await Deno.mkdir(dirname(out), { recursive: true });
  const file = await Deno.open(partial, { write: true, create: true });
  try {
    await file.truncate(partialBytes); // drops what was appended after the last checkpoint
    await file.seek(partialBytes, Deno.SeekMode.Start);
    const cleaner = new LineCleaner({ maxChars: Infinity });
    const printIssues = issuePrinter().onIssue;
    const totalBytes = (await Promise.all(files.map((f) => Deno.stat(f)))).reduce((a, s) => a + s.size, 0);
    const meter = new ProgressMeter(totalBytes, counts.read, files[0] ?? "");
    const run: Run = {
      plan,
      teachers,
      counts,
      partialBytes,
      file,
      pending: [],
      meter,
      lastCheckpoint: meter.t0,
      lastProgress: meter.t0,
      cleaner,
      printIssues,
    };
    for (const path of files) await labelFile(run, path);
    plan.log(meter.line(counts));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(partial, out);
  await Deno.remove(statePath(out)).catch(() => {});
  return counts;
}
