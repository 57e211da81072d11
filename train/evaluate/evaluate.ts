/**
 * Evaluation of a tagger on gold NER examples: windows of every sentence run through a logits function
 * (the training run's eval graph, or an inference folder's `inference.onnx`), per-token labels by argmax
 * or, for CRF models, Viterbi with BIO/BIOES constraints, windows merged, entities decoded to character
 * spans, and seqeval's entity-level scores (default, non-strict mode, train/evaluate/metrics.ts) computed on the
 * character spans — so the numbers do not depend on the tokenizer — with per-type rows, micro/macro
 * averages, the no-entity rate (gold-empty sentences given an entity), optional subsets (KLUE: colloquial `nsmc` vs news `wikitree`), a type confusion table and
 * the list of errors.
 * @module
 */
import { decodeEntities, type EntitySpan, type LabelMode, type SymbolEntities } from "../../infer/decode.ts";
import type { CrfParams } from "../../infer/crf.ts";
import { type Decoding, labelDecoder, windowLabels } from "../../infer/window_labels.ts";
import { mergeWindows } from "../../infer/windows.ts";
import { folderDecoding, readModelFolder, urlSource } from "../../infer/model_folder.ts";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import { openSession, type Provider } from "../../onnx/runtime.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import type { NerExample } from "../ner_data/datasets/types.ts";
import {
  batchTensors,
  type EncodedExample,
  type Feature,
  makeBatches,
  makeInputs,
} from "../ner_data/features.ts";
import {
  classificationReport,
  type Confusion,
  confusionTable,
  type EntityScores,
  type ErrorEntry,
  errorList,
  formatConfusion,
  type NoEntityRate,
  noEntityRate,
  scoreSpans,
} from "./metrics.ts";

/** Runs the model on one padded batch: inputs (B, T) → logits (B, T, L) and, with labels, the mean loss. */
export type LogitsFn = (feeds: Record<string, Tensor>) => Promise<{ logits: Tensor; loss?: number }>;

/** How predictions are decoded. */
export interface PredictOptions {
  labels: readonly string[];
  labelMode: LabelMode;
  /** CRF transition scores: Viterbi instead of per-token argmax. */
  crf?: CrfParams;
  /** Without a CRF: per-token argmax (default) or the best valid BIO path (see `constrainedDecoder`). */
  decoding?: Decoding;
  /** `"drop"`: leave out entities with no letter or digit (ㅋㅋ, emoji), as the pipeline does (default keep). */
  symbolEntities?: SymbolEntities;
  /** Entities scoring below this are left out, as the pipeline's `minScore` does (default 0). */
  minScore?: number;
  batchSize: number;
  padId: number;
  maxLength: number;
  padMultiple?: number;
}

/** Predictions of every example plus the mean loss over batches (when the model returns one). */
export interface Predictions {
  spans: EntitySpan[][];
  /** Loss averaged over windows (undefined when the logits function gives none). */
  loss?: number;
  /** Real tokens run. */
  tokens: number;
}

/**
 * Runs every window of `features` through `run` (longest first, padded per batch), decodes per token,
 * merges windows back onto each example's encoding and decodes entity spans over `texts`.
 */
export async function predict(
  texts: readonly string[],
  encoded: readonly EncodedExample[],
  features: readonly Feature[],
  run: LogitsFn,
  options: PredictOptions,
): Promise<Predictions> {
  const L = options.labels.length;
  const crf = labelDecoder(options.labels, options.crf, options.decoding);
  const perWindow: { id: number; p: number }[][][] = encoded.map((e) => e.windows.map(() => []));
  let lossSum = 0, lossCount = 0, tokens = 0;
  for (const batch of makeBatches(features, { batchSize: options.batchSize })) {
    const feeds = batchTensors(features, batch, {
      padId: options.padId,
      maxLength: options.maxLength,
      multiple: options.padMultiple ?? 8,
    });
    const { logits, loss } = await run(feeds);
    const T = feeds.input_ids.dims[1];
    if (logits.dims.join() !== [batch.length, T, L].join()) {
      throw new Error(
        `The model returned logits of shape [${logits.dims}], expected [${batch.length}, ${T}, ${L}]`,
      );
    }
    if (loss !== undefined) {
      lossSum += loss * batch.length;
      lossCount += batch.length;
    }
    const data = logits.data as Float32Array;
    batch.forEach((f, b) => {
      const feat = features[f];
      const n = feat.ids.length;
      tokens += n;
      const flat = data.subarray(b * T * L, (b * T + n) * L);
      perWindow[feat.example][feat.window] = windowLabels(flat, L, crf);
    });
  }
  const spans = encoded.map(({ encoding, windows }, i) => {
    if (!windows.length) return [];
    const merged = mergeWindows(encoding, windows, perWindow[i]);
    return decodeEntities(texts[i], encoding, merged.map((m) => m.id), merged.map((m) => m.p), {
      labels: options.labels,
      mode: options.labelMode,
      symbolEntities: options.symbolEntities,
      minScore: options.minScore,
    });
  });
  return { spans, loss: lossCount ? lossSum / lossCount : undefined, tokens };
}

/** Scores rounded for reports. */
export interface ScoreSummary {
  micro: { precision: number; recall: number; f1: number };
  macro: { precision: number; recall: number; f1: number };
  perType: EntityScores["perType"];
  support: number;
  sentences: number;
  /** Gold-empty sentences given at least one predicted entity (see `noEntityRate`; absent in older reports). */
  noEntity?: NoEntityRate;
}

/** An evaluation report (what `--report` writes as JSON). */
export interface EvalReport extends ScoreSummary {
  /** Gold entities and predicted entities in total. */
  gold: number;
  predicted: number;
  /** Scores per subset (e.g. `nsmc`, `wikitree`), when the ids name subsets. */
  subsets?: Record<string, ScoreSummary>;
  confusion: Confusion;
  /** Sentences with at least one missed or spurious entity. */
  errorSentences: number;
}

function summary(s: EntityScores, sentences: number, noEntity: NoEntityRate): ScoreSummary {
  const pick = (p: { precision: number; recall: number; f1: number }) => ({
    precision: p.precision,
    recall: p.recall,
    f1: p.f1,
  });
  return {
    micro: pick(s.micro),
    macro: pick(s.macro),
    perType: s.perType,
    support: s.micro.support,
    sentences,
    noEntity,
  };
}

/** A subset function from a regular expression over ids: its first capture group (or whole match) names the subset. */
export function subsetByRegex(pattern: RegExp): (id: string) => string | undefined {
  return (id) => {
    const m = pattern.exec(id);
    return m ? (m[1] ?? m[0]) : undefined;
  };
}

/** KLUE-NER ids end in their source: `klue-ner-v1_dev_00001-nsmc` (colloquial) or `…-wikitree` (news). */
export const KLUE_SUBSETS = /-(nsmc|wikitree)$/;

/**
 * The subset function to use by default: KLUE's source suffix when every id carries one (so the
 * default model reports colloquial and news parts separately), else none.
 */
export function defaultSubsets(
  examples: readonly NerExample[],
): ((id: string) => string | undefined) | undefined {
  return examples.length && examples.every((e) => KLUE_SUBSETS.test(e.id))
    ? subsetByRegex(KLUE_SUBSETS)
    : undefined;
}

/** Scores predictions against gold examples: the report and the error list (character spans). */
export function buildReport(
  examples: readonly NerExample[],
  predicted: readonly (readonly { type: string; start: number; end: number }[])[],
  options: { subsetOf?: (id: string) => string | undefined } = {},
): { report: EvalReport; errors: ErrorEntry[] } {
  if (examples.length !== predicted.length) {
    throw new Error(`buildReport(): ${examples.length} examples but ${predicted.length} predictions`);
  }
  const gold = examples.map((e) => e.entities.map(({ type, start, end }) => ({ type, start, end })));
  const pred = predicted.map((p) => p.map(({ type, start, end }) => ({ type, start, end })));
  const scores = scoreSpans(gold, pred);
  const report: EvalReport = {
    ...summary(scores, examples.length, noEntityRate(gold, pred)),
    gold: gold.reduce((a, g) => a + g.length, 0),
    predicted: pred.reduce((a, p) => a + p.length, 0),
    confusion: confusionTable(gold, pred),
    errorSentences: 0,
  };
  if (options.subsetOf) {
    const groups = new Map<string, number[]>();
    examples.forEach((e, i) => {
      const s = options.subsetOf!(e.id);
      if (s === undefined) return;
      if (!groups.has(s)) groups.set(s, []);
      groups.get(s)!.push(i);
    });
    if (groups.size) {
      report.subsets = {};
      for (const [name, idx] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const g = idx.map((i) => gold[i]), p = idx.map((i) => pred[i]);
        report.subsets[name] = summary(scoreSpans(g, p), idx.length, noEntityRate(g, p));
      }
    }
  }
  const errors = errorList(examples, gold, pred);
  report.errorSentences = errors.length;
  return { report, errors };
}

function scoresOf(s: ScoreSummary): EntityScores {
  const row = (p: { precision: number; recall: number; f1: number }) => ({ ...p, support: s.support });
  return { perType: s.perType, micro: row(s.micro), macro: row(s.macro), weighted: weighted(s) };
}

function weighted(s: ScoreSummary) {
  const rows = Object.values(s.perType);
  const n = rows.reduce((a, r) => a + r.support, 0);
  const w = (
    f: (r: (typeof rows)[number]) => number,
  ) => (n ? rows.reduce((a, r) => a + f(r) * r.support, 0) / n : 0);
  return { precision: w((r) => r.precision), recall: w((r) => r.recall), f1: w((r) => r.f1), support: n };
}

/** `no-entity rate R (F of N gold-empty sentences given an entity)`. */
function noEntityLine(s: ScoreSummary, digits: number): string {
  const n = s.noEntity;
  if (!n) return "no-entity rate not recorded";
  return `no-entity rate ${
    n.rate.toFixed(digits)
  } (${n.flagged} of ${n.sentences} gold-empty sentences given an entity)`;
}

/** The report as text: seqeval's classification report, each subset's, and the confusion table. */
export function formatReport(r: EvalReport, digits = 4): string {
  const parts = [
    `${r.sentences} sentences, ${r.gold} gold entities, ${r.predicted} predicted; ` +
    `micro F1 ${r.micro.f1.toFixed(digits)}, macro F1 ${r.macro.f1.toFixed(digits)}; ${
      noEntityLine(r, digits)
    }`,
    "",
    classificationReport(scoresOf(r), digits),
  ];
  for (const [name, s] of Object.entries(r.subsets ?? {})) {
    parts.push(
      `subset ${name} (${s.sentences} sentences): micro F1 ${s.micro.f1.toFixed(digits)}, macro F1 ${
        s.macro.f1.toFixed(digits)
      }; ${noEntityLine(s, digits)}`,
      "",
      classificationReport(scoresOf(s), digits),
    );
  }
  parts.push(
    "Confusion of types (rows gold, columns predicted; O = none, by overlap):",
    formatConfusion(r.confusion),
  );
  return parts.join("\n");
}

/** Options of `evaluateModelFolder`. */
export interface EvaluateFolderOptions {
  provider?: Provider;
  threads?: number;
  batchSize?: number;
  subsetOf?: (id: string) => string | undefined;
  /** Overrides `nersota.json`'s `decoding` (softmax models; a CRF always decodes by its Viterbi). */
  decoding?: Decoding;
  /** Overrides `nersota.json`'s `symbolEntities` (`"drop"`: no entity without a letter or digit). */
  symbolEntities?: SymbolEntities;
  /** Overrides `nersota.json`'s `minScore` (entities scoring below it are left out). */
  minScore?: number;
  /** Graph variant listed in `nersota.json`'s `variants` (e.g. `int8`); default `inference.onnx`. */
  variant?: string;
}

/**
 * Evaluates an inference model folder (infer/model_folder.ts; when `nersota.json` names a CRF, Viterbi decoding)
 * on gold examples: runs `inference.onnx` on the folder's windows and scores the entity spans.
 */
export async function evaluateModelFolder(
  dir: string,
  examples: readonly NerExample[],
  options: EvaluateFolderOptions = {},
): Promise<
  { report: EvalReport; errors: ErrorEntry[]; predictions: EntitySpan[][]; crf: boolean; decoding: string }
> {
  const folder = await readModelFolder(urlSource(dir), { variant: options.variant });
  const tokenizer = folder.tokenizerJson
    ? WordPieceTokenizer.fromTokenizerJson(folder.tokenizerJson)
    : WordPieceTokenizer.fromVocab(folder.vocab!, { lowercase: folder.meta.doLowerCase });
  const crf = folder.crf;
  const decoding = folderDecoding(folder, options.decoding);
  const session = await openSession(folder.onnx, {
    provider: options.provider ?? "cpu",
    threads: options.threads,
  });
  try {
    const texts = examples.map((e) => e.text);
    const { features, encoded } = makeInputs(texts, tokenizer, {
      maxLength: folder.meta.maxLength,
      stride: folder.meta.stride,
    });
    const run: LogitsFn = async (feeds) => {
      const inputs: Record<string, Tensor> = {};
      for (const n of session.inputNames) inputs[n] = feeds[n];
      return { logits: (await session.run(inputs, ["logits"])).logits };
    };
    const pred = await predict(texts, encoded, features, run, {
      labels: folder.labels,
      labelMode: folder.meta.labelMode,
      crf,
      decoding,
      symbolEntities: options.symbolEntities ?? folder.meta.symbolEntities,
      minScore: options.minScore ?? folder.meta.minScore,
      batchSize: options.batchSize ?? 32,
      padId: Math.max(0, tokenizer.padId),
      maxLength: folder.meta.maxLength,
    });
    return {
      ...buildReport(examples, pred.spans, { subsetOf: options.subsetOf }),
      predictions: pred.spans,
      crf: !!crf,
      decoding: crf ? "viterbi" : decoding,
    };
  } finally {
    await session.release();
  }
}
