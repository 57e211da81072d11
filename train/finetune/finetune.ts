/**
 * NER fine-tuning: one flat loop (nanoGPT's `train.py` shape: plan a batch, step, evaluate, save) driving the
 * fused train-step artifact of `onnx/artifacts.ts` through `onnx/trainer.ts`, inside the run skeleton it shares
 * with pretraining (train/run/training_run.ts: run folder, resume, run.json, metrics, checkpoints, sessions),
 * with the original project's defaults (train/finetune/finetune_config.ts): HF AdamW, linear decay, clipping
 * 1.0, evaluation on dev after every epoch (or every `eval_every` updates), the best model by dev F1 kept,
 * early stopping after `patience` evaluations without improvement, exact resume, progress, JSON-lines metrics
 * and a final report. The starting model is read by `start_model.ts`, the tagger built by `tagger.ts`.
 *
 * Exact resume: data order is a seeded permutation per epoch (`new Rng(seed, "epoch", e)`), dropout uses
 * `seed + step`, and each checkpoint holds parameters, Adam moments, step, the data cursor and the
 * early-stopping state. Checkpoints are written at every evaluation (and at the end), so a killed run
 * resumes from the last evaluation and repeats bit for bit what the uninterrupted run did (on CPU with
 * a fixed thread count).
 *
 * Output folder (an inference model folder that `deno task ner --model OUT` and `deno task eval` load,
 * holding the best model, plus the training record):
 * ```
 * OUT/config.json, vocab.txt, inference.onnx, nersota.json   inference folder (infer/model_folder.ts)
 * OUT/model.safetensors          our model file (graph layout), so OUT is also a `--model` for more training
 * OUT/crf.safetensors            CRF transitions (only with --crf; nersota.json's "crf" names it)
 * OUT/run.json                   resolved config and data description
 * OUT/metrics.jsonl              {"type":"train"|"eval", "step", …} one per line
 * OUT/checkpoints/step-N.safetensors   resume checkpoints (newest K kept)
 * OUT/report.json, OUT/report.txt      final report: best dev scores (per type, micro/macro, subsets)
 * OUT/dev_errors.jsonl           the best model's errors on dev
 * ```
 * @module
 */
import { join } from "node:path";
import { buildTrainingArtifacts } from "../../onnx/artifacts.ts";
import { initialState } from "../../onnx/checkpoint.ts";
import { adamw } from "../../onnx/optimizer.ts";
import { openSession, type Provider, type Session } from "../../onnx/runtime.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { TrainRunner } from "../../onnx/trainer.ts";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import type { SymbolEntities } from "../../infer/decode.ts";
import {
  buildReport,
  defaultSubsets,
  type EvalReport,
  formatReport,
  type LogitsFn,
  predict,
} from "../evaluate/evaluate.ts";
import { formatErrors } from "../evaluate/metrics.ts";
import { formatAlignStats, labelsFor } from "../ner_data/align.ts";
import { countTypes, type NerExample } from "../ner_data/datasets/types.ts";
import {
  batchTensors,
  type Feature,
  type Features,
  makeBatches,
  makeFeatures,
  paddingStats,
} from "../ner_data/features.ts";
import { checkResumeMatches, digestOf } from "../run/run_folder.ts";
import {
  copyTensors,
  type RunKind,
  type RunOptions,
  type RunState,
  TrainingRun,
} from "../run/training_run.ts";
import { exists, writeFileAtomic } from "../util/fs.ts";
import { Rng } from "../util/rng.ts";
import {
  effectiveStride,
  type FinetuneConfig,
  finetuneConfigFromJson,
  finetuneConfigToJson,
  finetuneLr,
  softmaxDecoding,
} from "./finetune_config.ts";
import { type DataSource, loadSources } from "../ner_data/sources.ts";
import { loadStartModel, type ModelInit, type StartModel } from "./start_model.ts";
import { crfFromTensors, taggerForward, writeTaggerFolder } from "./tagger.ts";

/** Options of `finetune` (the run folder's, resume's and stop's are `RunOptions`'). */
export interface FinetuneOptions extends RunOptions<FinetuneConfig> {
  model: ModelInit;
  train: DataSource[];
  dev?: DataSource[];
  provider?: Provider;
  threads?: number;
  /**
   * The settings the user gave explicitly (snake_case keys, from flags and `--train-config`): a resume
   * refuses any that differ from the run's recorded config instead of silently ignoring them.
   */
  given?: Record<string, unknown>;
  /**
   * Train-step and eval graphs with 2-D (B·T, ·) encoder activations (dense layers as Gemm with the bias
   * inside); off by default until `bench/ab_train.ts --variants default,flat` shows it faster.
   */
  flatTokens?: boolean;
}

/** What `finetune` returns. */
export interface FinetuneResult {
  step: number;
  epoch: number;
  finished: boolean;
  earlyStopped: boolean;
  /** Best dev report (undefined without dev data). */
  best?: { step: number; score: number; report: EvalReport };
  /** Final parameters (copies). */
  params: Record<string, Tensor>;
  /** Training tokens per second in this call (real tokens, padding excluded) and with padding. */
  tokensPerSecond: number;
  paddedTokensPerSecond: number;
  resumedFrom?: string;
  labels: string[];
}

/** Data position saved in checkpoints: the epoch and the batch within its seeded order. */
interface Cursor {
  epoch: number;
  batch: number;
}

/** The best dev evaluation so far. */
interface Best {
  step: number;
  score: number;
}

/** What a fine-tuning checkpoint's metadata holds besides the tensors. */
interface FinetuneState extends RunState {
  format: "nersota-finetune/1";
  labels: string[];
  cursor: Cursor;
  best: Best | null;
  /** Evaluations since the best one. */
  bad: number;
}

/** The model, data and schedule a fine-tuning run trains with. */
interface FinetuneData {
  c: FinetuneConfig;
  model: StartModel;
  /** Starting weights (a tagger's classifier dropped when its labels differ). */
  weights: Record<string, Tensor>;
  tokenizer: WordPieceTokenizer;
  labels: string[];
  train: NerExample[];
  dev: NerExample[];
  trainF: Features;
  devF: Features;
  trainDigest: string;
  perEpoch: number;
  total: number;
}

/** The dev evaluations' outcome so far (restored from the checkpoint on a resume). */
interface DevRecord {
  best: Best | null;
  bad: number;
  /** The best evaluation's report, when this call made or read it. */
  report?: EvalReport;
}

const utf8 = new TextEncoder();

/** Runs fine-tuning (see the module doc); resumable, and stoppable through `stopAfter`/`signal`. */
export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  await using run = await TrainingRun.open(opts, finetuneRun(opts));
  const d = await loadFinetuneData(opts, run);
  const { c, total } = d;
  // The last update of this run: the schedule's end, or the end of epoch `stop_after_epochs` within it.
  const end = c.stopAfterEpochs > 0 ? Math.min(total, d.perEpoch * c.stopAfterEpochs) : total;
  const { runner, evaluator } = await openSessions(opts, run, d);
  await run.begin(runRecord(opts, d));
  const saved = run.resumed?.saved;
  let cursor: Cursor = saved?.cursor ?? { epoch: 0, batch: 0 };
  const dev: DevRecord = { best: saved?.best ?? null, bad: saved?.bad ?? 0 };
  const runState = (): FinetuneState => ({
    format: "nersota-finetune/1",
    config: finetuneConfigToJson(c),
    labels: d.labels,
    cursor,
    best: dev.best,
    bad: dev.bad,
  });
  const plan = epochPlanner(d.trainF.features, c);
  logPadding(run, d, plan(cursor.epoch));

  let step = runner.updates, paddedTokens = 0, stopped = false, earlyStopped = false;
  run.startClock();
  while (step < end) {
    if (run.stopRequested(step)) {
      stopped = true;
      break;
    }
    // The next batch of the epoch's seeded order; without bucketing every batch is padded to max_seq_length.
    const batch = plan(cursor.epoch)[cursor.batch];
    const feeds = batchTensors(d.trainF.features, batch, {
      padId: Math.max(0, d.tokenizer.padId),
      maxLength: c.maxSeqLength,
      multiple: c.padMultiple,
      length: c.bucketBatches > 0 ? undefined : c.maxSeqLength,
    });
    const lr = finetuneLr(step, total, c);
    const r = await runner.stepWithStats(feeds, lr);
    step = runner.updates;
    paddedTokens += feeds.input_ids.data.length;
    cursor = { epoch: cursor.epoch, batch: cursor.batch + 1 };
    const epochEnd = cursor.batch >= plan(cursor.epoch).length;
    if (epochEnd) cursor = { epoch: cursor.epoch + 1, batch: 0 };
    const tokens = batch.reduce((a, i) => a + d.trainF.features[i].ids.length, 0);
    run.count({ step, total: end, loss: r.loss, gradNorm: r.gradNorm, tokens }, { lr, epoch: cursor.epoch });
    if (step % c.logEvery === 0 || step === end || epochEnd) {
      const w = run.takeWindow();
      await run.write({
        type: "train",
        step,
        epoch: cursor.epoch,
        loss: w.loss,
        grad_norm: w.gradNorm,
        lr,
        tokens_per_s: w.tokensPerSecond,
        window_tokens: w.tokens,
        seconds: w.seconds,
      });
    }
    const evalNow = c.evalEvery > 0 ? step % c.evalEvery === 0 || step === end : epochEnd || step === end;
    if (evalNow && evaluator) {
      const e = await evaluateDev(d, runner, evaluator);
      await logEvaluation(run, step, cursor.epoch, e);
      earlyStopped = await keepBest(opts, run, d, dev, { step, ...e }, () => runner.parameters());
    }
    if (evalNow || epochEnd || step === end || earlyStopped) {
      await run.save({ ...runner.snapshot(), config: runState() }, c.keepCheckpoints);
    }
    if (earlyStopped) break;
  }
  const seconds = run.seconds();
  run.progress.done();
  if (!stopped) {
    if (!evaluator) await saveFolder(opts, d, dev, runner.parameters());
    await writeFinalReport(opts, run, d, dev, { step, cursor, earlyStopped, seconds, paddedTokens });
  }
  return {
    step,
    epoch: cursor.epoch,
    finished: !stopped,
    earlyStopped,
    best: dev.best && dev.report ? { ...dev.best, report: dev.report } : undefined,
    params: copyTensors(runner.parameters()),
    tokensPerSecond: run.tokens / Math.max(seconds, 1e-9),
    paddedTokensPerSecond: paddedTokens / Math.max(seconds, 1e-9),
    resumedFrom: run.resumed?.path,
    labels: d.labels,
  };
}

/** Fine-tuning checkpoints, and the config a resume continues with (refusing changed explicit settings). */
function finetuneRun(opts: FinetuneOptions): RunKind<FinetuneState, FinetuneConfig> {
  return {
    format: "nersota-finetune/1",
    what: "fine-tuning",
    resumedConfig(saved, path) {
      const c = finetuneConfigFromJson(saved.config, `${path} (saved config)`);
      if (opts.given) {
        const was = finetuneConfigToJson(c);
        const asked = finetuneConfigToJson(finetuneConfigFromJson(opts.given, "command-line options", c));
        checkResumeMatches(opts.out, Object.keys(opts.given).map((k) => [k, was[k], asked[k]]));
      }
      return c;
    },
  };
}

/** The session options of every session of the run. */
function sessionOptions(opts: FinetuneOptions) {
  return { provider: opts.provider ?? "cpu", threads: opts.threads };
}

/** Sources as run.json and the model folder's info record them. */
function describeSources(sources: DataSource[] | undefined) {
  return (sources ?? []).map((x) => ({
    path: x.path,
    format: x.format,
    map: x.map ?? null,
    ...(x.take === undefined ? {} : { take: x.take }),
  }));
}

/** The starting model, the labels and the training and dev windows; on a resume, checked against run.json. */
async function loadFinetuneData(
  opts: FinetuneOptions,
  run: TrainingRun<FinetuneState, FinetuneConfig>,
): Promise<FinetuneData> {
  const c = run.config, log = (m: string) => run.log(m);
  const record = await run.recorded();
  if (record) {
    checkResumeMatches(opts.out, [
      ["the model", record.model, opts.model],
      ["the training data", record.train, describeSources(opts.train)],
      ["the dev data", record.dev, describeSources(opts.dev)],
    ]);
  }
  const model = await loadStartModel(opts.model);
  if (model.notice) log(`notice: ${model.notice}`);
  const tokenizer = WordPieceTokenizer.fromVocab(model.vocab);
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new Error(
      `The vocabulary has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${model.config.vocabSize}`,
    );
  }
  if (c.maxSeqLength > model.config.maxPositionEmbeddings) {
    throw new Error(
      `max_seq_length ${c.maxSeqLength} exceeds the model's max_position_embeddings ${model.config.maxPositionEmbeddings}`,
    );
  }
  const { labels, train, dev } = await loadExamples(opts, model, c, run.resumed?.saved.labels, log);
  // A previous tagger's classifier is kept only when its label list is the same.
  const weights = { ...model.weights };
  if (model.labels && model.labels.join() !== labels.join()) {
    log(`The model's labels [${model.labels}] differ from [${labels}]: the classifier starts fresh`);
    for (const n of Object.keys(weights)) {
      if (n.startsWith("classifier.") || n.startsWith("crf.")) delete weights[n];
    }
  }
  const featOpts = {
    labels,
    scheme: c.scheme,
    mode: c.labelMode,
    maxLength: c.maxSeqLength,
    stride: effectiveStride(c),
    crf: c.crf,
  };
  const trainF = makeFeatures(train, tokenizer, featOpts);
  const devF = makeFeatures(dev, tokenizer, featOpts);
  log(
    `train: ${train.length} sentences → ${trainF.features.length} windows (${trainF.split} split); ${
      formatAlignStats(trainF.stats)
    }`,
  );
  if (!trainF.features.length) throw new Error("No training windows (empty training data?)");
  const trainDigest = await digestOf(train);
  if (record) {
    // Same sources, different contents (a file edited or regenerated): the saved data order would not fit.
    checkResumeMatches(opts.out, [
      ["the training sentences", record.trainSentences, train.length],
      ["the training windows", record.trainWindows, trainF.features.length],
      ["the training data's SHA-256", record.trainDigest, trainDigest],
    ]);
  }
  const perEpoch = Math.ceil(trainF.features.length / c.batchSize);
  const total = c.maxSteps > 0 ? Math.min(c.maxSteps, perEpoch * c.epochs) : perEpoch * c.epochs;
  return { c, model, weights, tokenizer, labels, train, dev, trainF, devF, trainDigest, perEpoch, total };
}

/**
 * The training and dev sentences with entities of the run's types only, and its labels: the recorded ones on a
 * resume, else from `--types`, the model's own types, or the types the training data has.
 */
async function loadExamples(
  opts: FinetuneOptions,
  model: StartModel,
  c: FinetuneConfig,
  savedLabels: string[] | undefined,
  log: (m: string) => void,
): Promise<{ labels: string[]; train: NerExample[]; dev: NerExample[] }> {
  const train = await loadSources(opts.train, log);
  const dev = opts.dev?.length ? await loadSources(opts.dev, log) : [];
  const dataTypes = Object.keys(countTypes(train)).sort();
  // A tagger's own types when the data uses only those: a few hundred sentences without, say, any TI then
  // keep the model's TI labels and its whole classifier instead of starting the classifier afresh.
  const modelLabels =
    model.labels && labelsFor(typesOf(model.labels), c.scheme).join() === model.labels.join()
      ? model.labels
      : undefined;
  const types = c.types.length
    ? c.types
    : modelLabels && dataTypes.every((t) => modelLabels.includes(`B-${t}`))
    ? typesOf(modelLabels)
    : dataTypes;
  if (!types.length) throw new Error("The training data has no entities (and --types is not given)");
  const labels = savedLabels ?? labelsFor(types, c.scheme);
  const typeSet = new Set(types);
  const r1 = restrictTypes(train, typeSet);
  if (Object.keys(r1.dropped).length) {
    log(`train: entities of types outside [${types}] dropped: ${JSON.stringify(r1.dropped)}`);
  }
  const r2 = restrictTypes(dev, typeSet);
  if (Object.keys(r2.dropped).length) {
    log(`dev: entities of types outside [${types}] not scored: ${JSON.stringify(r2.dropped)}`);
  }
  return { labels, train: r1.examples, dev: r2.examples };
}

/** Keeps only entities of `types`, counting what was dropped. */
function restrictTypes(
  examples: NerExample[],
  types: ReadonlySet<string>,
): { examples: NerExample[]; dropped: Record<string, number> } {
  const dropped: Record<string, number> = {};
  const out = examples.map((e) => ({
    ...e,
    entities: e.entities.filter((x) => {
      if (types.has(x.type)) return true;
      dropped[x.type] = (dropped[x.type] ?? 0) + 1;
      return false;
    }),
  }));
  return { examples: out, dropped };
}

/** The entity types of a label list (`O`, `B-PS`, `I-PS`, … → `PS`, …), sorted. */
function typesOf(labels: readonly string[]): string[] {
  return [...new Set(labels.filter((l) => l !== "O").map((l) => l.slice(2)))].sort();
}

/** The train-step runner (from the checkpoint on a resume) and, with dev data, the eval session; the run owns both. */
async function openSessions(
  opts: FinetuneOptions,
  run: TrainingRun<FinetuneState, FinetuneConfig>,
  d: FinetuneData,
): Promise<{ runner: TrainRunner; evaluator?: Session }> {
  const { c } = d;
  const forward = taggerForward({
    config: d.model.config,
    numLabels: d.labels.length,
    weights: d.weights,
    seed: c.seed,
    crf: c.crf ? { maxLength: c.maxSeqLength } : undefined,
    flatTokens: opts.flatTokens,
  });
  const optimizer = adamw({ eps: c.adamEpsilon, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm });
  const artifacts = buildTrainingArtifacts(forward, { optimizer });
  const runner = run.own(
    await TrainRunner.open(artifacts.trainStep, run.resumed?.state ?? initialState(artifacts.params), {
      ...sessionOptions(opts),
      seed: c.seed,
    }),
  );
  const evaluator = d.dev.length
    ? run.own(await openSession(artifacts.eval, sessionOptions(opts)))
    : undefined;
  return { runner, evaluator };
}

/** What run.json records: the resolved config, the sources, the labels and the data's size and digest. */
function runRecord(opts: FinetuneOptions, d: FinetuneData): Record<string, unknown> {
  return {
    config: finetuneConfigToJson(d.c),
    model: opts.model,
    ...(d.model.notice ? { modelNotice: d.model.notice } : {}),
    train: describeSources(opts.train),
    dev: describeSources(opts.dev),
    labels: d.labels,
    trainSentences: d.train.length,
    trainWindows: d.trainF.features.length,
    trainDigest: d.trainDigest,
    devSentences: d.dev.length,
    stepsPerEpoch: d.perEpoch,
    totalSteps: d.total,
    provider: opts.provider ?? "cpu",
  };
}

/** The batches of an epoch: a seeded order (bucketed by length when asked), the current epoch's kept. */
function epochPlanner(features: Feature[], c: FinetuneConfig): (epoch: number) => number[][] {
  let planned = -1, batches: number[][] = [];
  return (epoch) => {
    if (epoch !== planned) {
      batches = makeBatches(features, {
        batchSize: c.batchSize,
        rng: new Rng(c.seed, "epoch", epoch),
        bucketBatches: c.bucketBatches > 0 ? c.bucketBatches : false,
      });
      planned = epoch;
    }
    return batches;
  };
}

/** Logs the schedule and the tokens an epoch pads to. */
function logPadding(
  run: TrainingRun<FinetuneState, FinetuneConfig>,
  d: FinetuneData,
  batches: number[][],
): void {
  const { c } = d;
  const pad = paddingStats(
    d.trainF.features,
    batches,
    c.bucketBatches > 0 ? c.padMultiple : c.maxSeqLength,
    c.maxSeqLength,
  );
  run.log(
    `${d.perEpoch} steps per epoch, ${d.total} in all${
      c.stopAfterEpochs > 0 ? ` (stopping after epoch ${c.stopAfterEpochs})` : ""
    }; tokens per epoch ${pad.tokens}, padded ${pad.padded} (${pad.fixed} at a fixed ${c.maxSeqLength})`,
  );
}

/** Dev evaluation with the runner's current parameters, through the eval graph. */
async function evaluateDev(d: FinetuneData, runner: TrainRunner, evaluator: Session) {
  const { c } = d;
  const params = runner.parameters();
  const run: LogitsFn = async (feeds) => {
    const out = await evaluator.run({ ...params, ...feeds }, ["loss", "logits"]);
    return { logits: out.logits, loss: Number(out.loss.data[0]) };
  };
  const pred = await predict(d.dev.map((e) => e.text), d.devF.encoded, d.devF.features, run, {
    labels: d.labels,
    labelMode: c.labelMode,
    crf: c.crf ? crfFromTensors(params) : undefined,
    decoding: softmaxDecoding(c),
    symbolEntities: c.symbolEntities as SymbolEntities,
    batchSize: c.evalBatchSize,
    padId: Math.max(0, d.tokenizer.padId),
    maxLength: c.maxSeqLength,
    padMultiple: c.padMultiple,
  });
  return { ...buildReport(d.dev, pred.spans, { subsetOf: defaultSubsets(d.dev) }), loss: pred.loss };
}

/** A dev evaluation's metrics line and log line. */
async function logEvaluation(
  run: TrainingRun<FinetuneState, FinetuneConfig>,
  step: number,
  epoch: number,
  e: Awaited<ReturnType<typeof evaluateDev>>,
): Promise<void> {
  await run.write({
    type: "eval",
    step,
    epoch,
    loss: e.loss ?? null,
    micro_f1: e.report.micro.f1,
    macro_f1: e.report.macro.f1,
    precision: e.report.micro.precision,
    recall: e.report.micro.recall,
    ...Object.fromEntries(
      Object.entries(e.report.subsets ?? {}).map(([k, s]) => [`${k}_micro_f1`, s.micro.f1]),
    ),
  });
  run.log(
    `eval step ${step} (epoch ${epoch}): loss ${e.loss?.toFixed(4)}  micro F1 ${
      e.report.micro.f1.toFixed(4)
    }  macro F1 ${e.report.macro.f1.toFixed(4)}`,
  );
}

/**
 * Keeps the best model by the dev metric: a better evaluation writes the model folder, the dev errors and report;
 * returns true when `patience` evaluations in a row were not better (early stop).
 */
async function keepBest(
  opts: FinetuneOptions,
  run: TrainingRun<FinetuneState, FinetuneConfig>,
  d: FinetuneData,
  dev: DevRecord,
  e: Awaited<ReturnType<typeof evaluateDev>> & { step: number },
  params: () => Record<string, Tensor>,
): Promise<boolean> {
  const { c } = d;
  const score = c.metric === "macro_f1" ? e.report.macro.f1 : e.report.micro.f1;
  if (!dev.best || score > dev.best.score) {
    dev.best = { step: e.step, score };
    dev.bad = 0;
    dev.report = e.report;
    await saveFolder(opts, d, dev, params());
    await writeFileAtomic(join(opts.out, "dev_errors.jsonl"), utf8.encode(formatErrors(e.errors)));
    await writeFileAtomic(
      join(opts.out, "dev_report.json"),
      utf8.encode(JSON.stringify(e.report, null, 2) + "\n"),
    );
    return false;
  }
  if (c.patience > 0 && ++dev.bad >= c.patience) {
    run.log(
      `Early stop: no better dev ${c.metric} in ${dev.bad} evaluations (best ${
        dev.best.score.toFixed(4)
      } at step ${dev.best.step})`,
    );
    return true;
  }
  return false;
}

/** The inference folder of `params` (the best so far, or the last without a dev set). */
async function saveFolder(
  opts: FinetuneOptions,
  d: FinetuneData,
  dev: DevRecord,
  params: Record<string, Tensor>,
): Promise<void> {
  await writeTaggerFolder(opts.out, {
    config: d.model.config,
    labels: d.labels,
    params,
    vocab: d.model.vocab,
    c: d.c,
    info: {
      trainedWith: "deno task finetune",
      train: describeSources(opts.train),
      dev: describeSources(opts.dev),
      best: dev.best,
    },
  });
}

/** report.json (and, with dev data, report.txt with the best evaluation) at the end of a finished run. */
async function writeFinalReport(
  opts: FinetuneOptions,
  run: TrainingRun<FinetuneState, FinetuneConfig>,
  d: FinetuneData,
  dev: DevRecord,
  end: { step: number; cursor: Cursor; earlyStopped: boolean; seconds: number; paddedTokens: number },
): Promise<void> {
  const { c } = d;
  if (!dev.report && dev.best && (await exists(join(opts.out, "dev_report.json")))) {
    dev.report = JSON.parse(await Deno.readTextFile(join(opts.out, "dev_report.json")));
  }
  const report = {
    steps: end.step,
    epochs: end.cursor.epoch + (end.cursor.batch > 0 ? end.cursor.batch / d.perEpoch : 0),
    earlyStopped: end.earlyStopped,
    best: dev.best ? { ...dev.best, dev: dev.report ?? null } : null,
    labels: d.labels,
    trainSentences: d.train.length,
    trainWindows: d.trainF.features.length,
    alignment: d.trainF.stats,
    secondsThisCall: end.seconds,
    tokensPerSecond: run.tokens / Math.max(end.seconds, 1e-9),
    paddedTokensPerSecond: end.paddedTokens / Math.max(end.seconds, 1e-9),
    config: finetuneConfigToJson(c),
  };
  await writeFileAtomic(join(opts.out, "report.json"), utf8.encode(JSON.stringify(report, null, 2) + "\n"));
  if (dev.report) {
    await writeFileAtomic(
      join(opts.out, "report.txt"),
      utf8.encode(`Best dev evaluation (step ${dev.best!.step}):\n${formatReport(dev.report)}`),
    );
    run.log(
      `Best dev ${c.metric} ${dev.best!.score.toFixed(4)} at step ${dev.best!.step}; model in "${opts.out}"`,
    );
  } else run.log(`Model in "${opts.out}"`);
}
