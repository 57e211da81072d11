/**
 * NER fine-tuning: one flat loop (nanoGPT's `train.py` shape) driving the fused train-step artifact of
 * `onnx/artifacts.ts` through `onnx/trainer.ts`, with the original project's defaults
 * (train/finetune/finetune_config.ts): HF AdamW, linear decay, clipping 1.0, evaluation on dev after every epoch
 * (or every `eval_every` updates), the best model by dev F1 kept, early stopping after `patience`
 * evaluations without improvement, exact resume, progress, JSON-lines metrics and a final report.
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
import { readWeightsFolder } from "../release/weights_folder.ts";
import { type BuildForward, buildTrainingArtifacts, type ForwardResult } from "../../onnx/artifacts.ts";
import { type CheckpointState, decodeCheckpoint, initialState } from "../../onnx/checkpoint.ts";
import { CRF_NAMES, crfLoss, crfParams, initCrfTensors } from "../../onnx/crf.ts";
import { buildTokenClassificationGraph } from "../../onnx/electra/token_classification.ts";
import {
  configFromHf,
  configToHf,
  type ElectraConfig,
  labelNames,
  pythonJson,
  withLabels,
} from "../../onnx/electra/config.ts";
import { encodeModelWeights, type ModelKind } from "../../onnx/electra/hf.ts";
import { fromWeights, initParams } from "../../onnx/electra/init.ts";
import { GENERATOR_PREFIX } from "../../onnx/electra/pretraining.ts";
import { crossEntropy } from "../../onnx/losses.ts";
import { adamw } from "../../onnx/optimizer.ts";
import { openSession, type Provider, type Session, type SessionOptions } from "../../onnx/runtime.ts";
import { decodeSafetensors, encodeSafetensors } from "../../onnx/safetensors.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { TrainRunner } from "../../onnx/trainer.ts";
import type { CrfParams } from "../../infer/crf.ts";
import { inferenceFolderFiles } from "../../infer/model_folder_files.ts";
import { sealFolderFiles } from "../../infer/model_folder.ts";
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import { formatAlignStats, labelsFor } from "../ner_data/align.ts";
import { writeFileAtomic } from "../run/artifacts_io.ts";
import { checkResumeMatches, digestOf, prepareRunFolder, readRunRecord } from "../run/run_folder.ts";
import { loadLatestCheckpoint, saveCheckpoint } from "../run/checkpoints.ts";
import { countTypes, type DatasetFormat, type NerExample } from "../ner_data/datasets/types.ts";
import { readDataset } from "../ner_data/datasets/mod.ts";
import {
  buildReport,
  defaultSubsets,
  type EvalReport,
  formatReport,
  type LogitsFn,
  predict,
} from "../evaluate/evaluate.ts";
import { batchTensors, makeBatches, makeFeatures, paddingStats } from "../ner_data/features.ts";
import {
  effectiveStride,
  type FinetuneConfig,
  finetuneConfigFromJson,
  finetuneConfigToJson,
  finetuneLr,
  softmaxDecoding,
} from "./finetune_config.ts";
import { applyLabelMap, BUILTIN_MAPS, type LabelMap, parseLabelMap } from "../ner_data/label_map.ts";
import { formatErrors } from "../evaluate/metrics.ts";
import { MetricsLog, truncateAfter } from "../run/metrics_log.ts";
import { pretrainConfigFromJson } from "../pretrain/pretrain_config.ts";
import { Progress } from "../run/progress.ts";
import { Rng } from "../util/rng.ts";
import { exists, readJsonFile } from "../util/fs.ts";

/** One data source: a file (or KMOU folder), its format, and an optional type map (built-in name or file). */
export interface DataSource {
  path: string;
  format: DatasetFormat | "auto";
  map?: string;
  /** Use only this many sentences: a fixed choice (`fixedSubset`), the same in every run. */
  take?: number;
}

/**
 * `n` examples chosen by a permutation seeded with a constant (not the run's seed), in their original order:
 * a subset that stays the same across runs and seeds, so runs that use it see the same sentences.
 */
export function fixedSubset<T>(examples: readonly T[], n: number): T[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`take must be an integer ≥ 0, got ${n}`);
  if (n >= examples.length) return [...examples];
  const chosen = new Rng(0, "fixed-subset").permutation(examples.length).slice(0, n).sort();
  return Array.from(chosen, (i) => examples[i]);
}

/** Where the starting weights come from. */
export type ModelInit =
  | { kind: "folder"; dir: string }
  | { kind: "random"; config: string; vocab: string }
  /** A pretraining checkpoint (`OUT/checkpoints/step-N.safetensors` of `deno task pretrain`): its encoder. */
  | { kind: "checkpoint"; path: string; vocab: string };

/** Parameter scopes of pretraining heads (RTD, generator, masked-LM), which a tagger does not use. */
const PRETRAINING_HEADS = [
  `${GENERATOR_PREFIX}.`,
  "discriminator_predictions.",
  "generator_predictions.",
  "generator_lm_head.",
];

/** Whether a parameter belongs to a pretraining head rather than to the encoder or a tagger's head. */
export function isPretrainingHead(name: string): boolean {
  return PRETRAINING_HEADS.some((p) => name.startsWith(p));
}

/** Options of `finetune`. */
export interface FinetuneOptions {
  config: FinetuneConfig;
  model: ModelInit;
  train: DataSource[];
  dev?: DataSource[];
  out: string;
  provider?: Provider;
  threads?: number;
  /** Continue from the newest valid checkpoint in OUT/checkpoints. */
  resume?: boolean;
  /** A new run empties an OUT that holds another run (without it, a non-empty OUT is refused). */
  clear?: boolean;
  /**
   * The settings the user gave explicitly (snake_case keys, from flags and `--train-config`): a resume
   * refuses any that differ from the run's recorded config instead of silently ignoring them.
   */
  given?: Record<string, unknown>;
  /** Stop after this many updates in this call without a final save (simulates a killed run in tests). */
  stopAfter?: number;
  signal?: AbortSignal;
  quiet?: boolean;
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

interface Cursor {
  epoch: number;
  batch: number;
}

interface RunState {
  format: "nersota-finetune/1";
  config: Record<string, unknown>;
  labels: string[];
  cursor: Cursor;
  best: { step: number; score: number } | null;
  /** Evaluations since the best one. */
  bad: number;
}

const utf8 = new TextEncoder();

/** Reads a label map: a built-in name (`kmou-klue`, …) or a `FROM<TAB>TO` file. */
export async function loadLabelMap(spec: string): Promise<LabelMap> {
  if (spec in BUILTIN_MAPS) return BUILTIN_MAPS[spec as keyof typeof BUILTIN_MAPS];
  if (!(await exists(spec))) {
    throw new Error(
      `Label map "${spec}" is neither a built-in map (${Object.keys(BUILTIN_MAPS).join(", ")}) nor a file`,
    );
  }
  return parseLabelMap(await Deno.readTextFile(spec), spec);
}

/** Reads every source (applying its map) into one example list; logs warnings and mapping counts. */
export async function loadSources(
  sources: readonly DataSource[],
  log: (m: string) => void,
): Promise<NerExample[]> {
  const out: NerExample[] = [];
  for (const s of sources) {
    const { examples, warnings } = await readDataset(s.path, s.format);
    if (warnings.length) {
      log(`"${s.path}": ${warnings.length} warning(s) while reading, e.g. ${warnings[0].message}`);
    }
    let ex = s.take === undefined ? examples : fixedSubset(examples, s.take);
    if (s.take !== undefined) {
      log(`"${s.path}": a fixed subset of ${ex.length} of ${examples.length} sentences`);
    }
    if (s.map) {
      const { examples: mapped, stats } = applyLabelMap(ex, await loadLabelMap(s.map));
      ex = mapped;
      const dropped = Object.entries(stats.dropped).map(([k, v]) => `${k} ${v}`).join(", ");
      log(`"${s.path}": map ${s.map}${dropped ? `; dropped ${dropped}` : ""}`);
    }
    log(`"${s.path}": ${ex.length} sentences, types ${JSON.stringify(countTypes(ex))}`);
    for (const e of ex) out.push(e); // not push(...ex): a spread of ~130k items overflows the stack
  }
  return out;
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

/** A starting model: config, graph-layout weights of the encoder (and maybe a classifier/CRF), vocabulary. */
export interface StartModel {
  config: ElectraConfig;
  weights: Record<string, Tensor>;
  vocab: string;
  kind: ModelKind | "random";
  /** Label names of a token-classification model. */
  labels?: string[];
  /** Where the weights came from when the folder had no model.safetensors (see train/release/weights_folder.ts). */
  notice?: string;
}

/**
 * Reads `--model DIR`: our model folder (model.safetensors with NERSOTA metadata, e.g. a previous
 * fine-tuning output), a Hugging Face folder (ElectraForPreTraining discriminator,
 * ElectraForTokenClassification or ElectraModel) or an inference folder with no model.safetensors (weights
 * read from its graph); or a fresh random init from a HF `config.json`.
 */
export async function loadStartModel(init: ModelInit): Promise<StartModel> {
  if (init.kind === "random") {
    const config = configFromHf(await readJsonFile(init.config, "--config"), init.config);
    return { config, weights: {}, vocab: await Deno.readTextFile(init.vocab), kind: "random" };
  }
  if (init.kind === "checkpoint") return await loadCheckpointEncoder(init.path, init.vocab);
  const dir = init.dir;
  const { model, vocab, notice } = await readWeightsFolder(dir);
  if (vocab === undefined) {
    throw new Error(`"${dir}" has no vocab.txt (the vocabulary the model was trained with)`);
  }
  const weights: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(model.weights)) {
    // A pretraining model's generator and RTD or masked-LM head are not part of a tagger.
    if (isPretrainingHead(n)) continue;
    weights[n] = t;
  }
  if (await exists(join(dir, "crf.safetensors"))) {
    Object.assign(
      weights,
      decodeSafetensors(await Deno.readFile(join(dir, "crf.safetensors")), join(dir, "crf.safetensors"))
        .tensors,
    );
  }
  return {
    config: model.config,
    weights,
    vocab,
    kind: model.kind,
    labels: model.kind === "token-classification" ? labelNames(model.config) : undefined,
    notice,
  };
}

/**
 * The encoder of a pretraining checkpoint (`deno task pretrain`'s `checkpoints/step-N.safetensors`): the
 * discriminator config its run state records, its parameters without the pretraining heads and Adam moments.
 */
export async function loadCheckpointEncoder(path: string, vocabPath: string): Promise<StartModel> {
  const state = await decodeCheckpoint(await Deno.readFile(path), path);
  const run = state.config as { format?: string; config?: unknown } | null;
  if (run?.format !== "nersota-pretrain/1") {
    throw new Error(`"${path}" is not a pretraining checkpoint (its run state format is "${run?.format}")`);
  }
  const { model: config } = pretrainConfigFromJson(run.config, `${path} (saved config)`);
  const weights: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(state.params)) if (!isPretrainingHead(n)) weights[n] = t;
  return { config, weights, vocab: await Deno.readTextFile(vocabPath), kind: "base" };
}

/** What the tagger's forward builder needs. */
export interface TaggerModelOptions {
  config: ElectraConfig;
  numLabels: number;
  weights: Record<string, Tensor>;
  seed: number;
  /** With a CRF: its loss replaces cross-entropy; `maxLength` is the unrolled length. */
  crf?: { maxLength: number };
  /** Encoder on 2-D (B·T, ·) activations (`BuildContext.flatTokens`): same numbers, other ORT kernels. */
  flatTokens?: boolean;
}

/**
 * A `BuildForward` for token classification: ELECTRA + classifier (`buildTokenClassificationGraph`,
 * copied into the artifact's graph), then mean token cross-entropy over labels ≠ −100, or the CRF NLL.
 * Inference mode: `logits` only.
 */
export function taggerForward(o: TaggerModelOptions): BuildForward {
  const params = fromWeights(o.weights, {
    source: "starting weights",
    dtype: "float32",
    fallback: initParams({ seed: o.seed, std: o.config.initializerRange, padTokenId: o.config.padTokenId }),
  });
  const crfInit = o.crf ? { ...initCrfTensors(o.numLabels, o.seed), ...pickCrf(o.weights) } : undefined;
  // The ELECTRA builder makes its own graph; the artifact writer uses the graph the returned values live in.
  return (_g, ctx): ForwardResult => {
    const g = buildTokenClassificationGraph({
      config: o.config,
      numLabels: o.numLabels,
      params,
      training: false,
      dropout: ctx.mode === "train" ? ctx.dropout : undefined,
      flatTokens: o.flatTokens,
    });
    const logits = g.outputs.find((v) => v.name === "logits")!; // (B, T, L)
    if (ctx.mode === "inference") return { outputs: { logits } };
    const labels = g.input("labels", "int64", ["batch_size", "sequence_length"]);
    const loss = crfInit
      ? crfLoss(logits, labels, crfParams(g, crfInit), o.crf!.maxLength)
      : crossEntropy(logits, labels);
    return { loss, outputs: { logits } };
  };
}

function pickCrf(weights: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const n of Object.values(CRF_NAMES)) if (weights[n]) out[n] = weights[n];
  return out;
}

/** CRF tensors → the decoder's parameters. */
export function crfFromTensors(t: Record<string, Tensor>): CrfParams {
  const tr = t[CRF_NAMES.transitions];
  const L = tr.dims[0];
  return {
    transitions: Array.from({ length: L }, (_, i) => tr.data.slice(i * L, (i + 1) * L) as Float32Array),
    start: t[CRF_NAMES.start].data as Float32Array,
    end: t[CRF_NAMES.end].data as Float32Array,
  };
}

/** Writes the inference folder (plus model.safetensors and, with a CRF, crf.safetensors) into `out`. */
export async function writeTaggerFolder(
  out: string,
  input: {
    config: ElectraConfig;
    labels: string[];
    params: Record<string, Tensor>;
    vocab: string;
    c: FinetuneConfig;
    info: Record<string, unknown>;
  },
): Promise<void> {
  const config = withLabels(input.config, input.labels);
  const weights: Record<string, Tensor> = {}, crf: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(input.params)) {
    const copy = { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() } as Tensor;
    if (n.startsWith("crf.")) crf[n] = copy;
    else weights[n] = copy;
  }
  const files = inferenceFolderFiles({
    config,
    weights,
    vocab: input.vocab,
    meta: {
      labelMode: input.c.labelMode,
      scheme: input.c.scheme,
      maxLength: input.c.maxSeqLength,
      stride: effectiveStride(input.c),
      doLowerCase: false,
      decoding: softmaxDecoding(input.c),
      info: input.info,
    },
  });
  if (Object.keys(crf).length) {
    // The pipeline reads nersota.json's "crf" to Viterbi-decode with these transitions.
    const meta = JSON.parse(files["nersota.json"] as string);
    meta.crf = "crf.safetensors";
    files["nersota.json"] = JSON.stringify(meta, null, 2) + "\n";
    files["crf.safetensors"] = encodeSafetensors(crf, { format: "nersota-crf" });
  }
  files["model.safetensors"] = encodeModelWeights({ kind: "token-classification", config, weights });
  files["config.json"] = pythonJson(configToHf(config, ["ElectraForTokenClassification"]));
  await sealFolderFiles(files);
  await Deno.mkdir(out, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    await writeFileAtomic(join(out, name), typeof data === "string" ? utf8.encode(data) : data as Uint8Array);
  }
}

/** The entity types of a label list (`O`, `B-PS`, `I-PS`, … → `PS`, …), sorted. */
function typesOf(labels: readonly string[]): string[] {
  return [...new Set(labels.filter((l) => l !== "O").map((l) => l.slice(2)))].sort();
}

/** Runs fine-tuning (see the module doc); resumable, and stoppable through `stopAfter`/`signal`. */
export async function finetune(opts: FinetuneOptions): Promise<FinetuneResult> {
  const progress = new Progress({ quiet: opts.quiet, every: 10 });
  const log = (m: string) => progress.log(m);
  const provider = opts.provider ?? "cpu";
  const sessionOptions: SessionOptions = { provider, threads: opts.threads };

  // --- resume state ---
  const ckptDir = join(opts.out, "checkpoints");
  let c = opts.config;
  let start: CheckpointState | undefined;
  let cursor: Cursor = { epoch: 0, batch: 0 };
  let best: RunState["best"] = null;
  let bad = 0;
  let resumedFrom: string | undefined;
  let savedLabels: string[] | undefined;
  if (opts.resume) {
    // Not `log`: --quiet silences progress, never a damaged checkpoint.
    const found = await loadLatestCheckpoint(ckptDir, (m) => console.error(m));
    if (found) {
      const run = found.state.config as RunState;
      if (run?.format !== "nersota-finetune/1") {
        throw new Error(`Checkpoint "${found.path}" is not a fine-tuning checkpoint`);
      }
      // The run continues under the config it started with (a changed schedule would not be the same run).
      c = finetuneConfigFromJson(run.config, `${found.path} (saved config)`);
      if (opts.given) {
        const saved = finetuneConfigToJson(c);
        const asked = finetuneConfigToJson(finetuneConfigFromJson(opts.given, "command-line options", c));
        checkResumeMatches(opts.out, Object.keys(opts.given).map((k) => [k, saved[k], asked[k]]));
      }
      start = found.state;
      cursor = run.cursor;
      best = run.best;
      bad = run.bad;
      savedLabels = run.labels;
      resumedFrom = found.path;
      log(`Resuming from "${found.path}" at step ${found.state.step}`);
    } else log(`No checkpoint in "${ckptDir}": starting from scratch`);
  }
  if (!opts.resume) await prepareRunFolder(opts.out, opts.clear);
  const record = start ? await readRunRecord(opts.out) : undefined;
  const describe = (s: DataSource[] | undefined) =>
    (s ?? []).map((x) => ({
      path: x.path,
      format: x.format,
      map: x.map ?? null,
      ...(x.take === undefined ? {} : { take: x.take }),
    }));
  if (record) {
    checkResumeMatches(opts.out, [
      ["the model", record.model, opts.model],
      ["the training data", record.train, describe(opts.train)],
      ["the dev data", record.dev, describe(opts.dev)],
    ]);
  }

  // --- model and data ---
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
  let train = await loadSources(opts.train, log);
  let dev = opts.dev?.length ? await loadSources(opts.dev, log) : [];
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
  train = r1.examples;
  if (Object.keys(r1.dropped).length) {
    log(`train: entities of types outside [${types}] dropped: ${JSON.stringify(r1.dropped)}`);
  }
  const r2 = restrictTypes(dev, typeSet);
  dev = r2.examples;
  if (Object.keys(r2.dropped).length) {
    log(`dev: entities of types outside [${types}] not scored: ${JSON.stringify(r2.dropped)}`);
  }
  // A previous tagger's classifier is kept only when its label list is the same.
  const weights = { ...model.weights };
  if (model.labels && model.labels.join() !== labels.join()) {
    log(`The model's labels [${model.labels}] differ from [${labels}]: the classifier starts fresh`);
    for (const n of Object.keys(weights)) {
      if (n.startsWith("classifier.") || n.startsWith("crf.")) delete weights[n];
    }
  }
  const stride = effectiveStride(c);
  const featOpts = {
    labels,
    scheme: c.scheme,
    mode: c.labelMode,
    maxLength: c.maxSeqLength,
    stride,
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

  // --- artifacts and sessions ---
  const forward = taggerForward({
    config: model.config,
    numLabels: labels.length,
    weights,
    seed: c.seed,
    crf: c.crf ? { maxLength: c.maxSeqLength } : undefined,
    flatTokens: opts.flatTokens,
  });
  const optimizer = adamw({ eps: c.adamEpsilon, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm });
  const artifacts = buildTrainingArtifacts(forward, { optimizer });
  const runState = (): RunState => ({
    format: "nersota-finetune/1",
    config: finetuneConfigToJson(c),
    labels,
    cursor,
    best,
    bad,
  });
  const runner = await TrainRunner.open(artifacts.trainStep, start ?? initialState(artifacts.params), {
    ...sessionOptions,
    seed: c.seed,
  });
  const evaluator: Session | undefined = dev.length
    ? await openSession(artifacts.eval, sessionOptions)
    : undefined;

  // --- logs ---
  await Deno.mkdir(opts.out, { recursive: true });
  await writeFileAtomic(
    join(opts.out, "run.json"),
    utf8.encode(
      JSON.stringify(
        {
          config: finetuneConfigToJson(c),
          model: opts.model,
          ...(model.notice ? { modelNotice: model.notice } : {}),
          train: describe(opts.train),
          dev: describe(opts.dev),
          labels,
          trainSentences: train.length,
          trainWindows: trainF.features.length,
          trainDigest,
          devSentences: dev.length,
          stepsPerEpoch: perEpoch,
          totalSteps: total,
          provider,
        },
        null,
        2,
      ) + "\n",
    ),
  );
  const metricsPath = join(opts.out, "metrics.jsonl");
  if (start) await truncateAfter(metricsPath, start.step);
  else await Deno.remove(metricsPath).catch(() => {});
  const metrics = await MetricsLog.open(metricsPath);

  const subsetOf = defaultSubsets(dev);
  const crfOf = (p: Record<string, Tensor>) => (c.crf ? crfFromTensors(p) : undefined);
  /** Dev evaluation with the runner's current parameters, through the eval graph. */
  const evaluate = async () => {
    const params = runner.parameters();
    const run: LogitsFn = async (feeds) => {
      const out = await evaluator!.run({ ...params, ...feeds }, ["loss", "logits"]);
      return { logits: out.logits, loss: Number(out.loss.data[0]) };
    };
    const pred = await predict(dev.map((e) => e.text), devF.encoded, devF.features, run, {
      labels,
      labelMode: c.labelMode,
      crf: crfOf(params),
      decoding: softmaxDecoding(c),
      batchSize: c.evalBatchSize,
      padId: Math.max(0, tokenizer.padId),
      maxLength: c.maxSeqLength,
      padMultiple: c.padMultiple,
    });
    return { ...buildReport(dev, pred.spans, { subsetOf }), loss: pred.loss };
  };
  const info = () => ({
    trainedWith: "deno task finetune",
    train: describe(opts.train),
    dev: describe(opts.dev),
    best,
  });
  /** The inference folder of the current parameters (the best so far, or the last without a dev set). */
  const saveFolder = () =>
    writeTaggerFolder(opts.out, {
      config: model.config,
      labels,
      params: runner.parameters(),
      vocab: model.vocab,
      c,
      info: info(),
    });

  // --- the loop ---
  const epochPlan = new Map<number, number[][]>();
  const plan = (epoch: number) => {
    if (!epochPlan.has(epoch)) {
      epochPlan.clear();
      epochPlan.set(
        epoch,
        makeBatches(trainF.features, {
          batchSize: c.batchSize,
          rng: new Rng(c.seed, "epoch", epoch),
          bucketBatches: c.bucketBatches > 0 ? c.bucketBatches : false,
        }),
      );
    }
    return epochPlan.get(epoch)!;
  };
  const pad = paddingStats(
    trainF.features,
    plan(cursor.epoch),
    c.bucketBatches > 0 ? c.padMultiple : c.maxSeqLength,
    c.maxSeqLength,
  );
  log(
    `${perEpoch} steps per epoch, ${total} in all; tokens per epoch ${pad.tokens}, padded ${pad.padded} (${pad.fixed} at a fixed ${c.maxSeqLength})`,
  );
  let step = runner.updates;
  const firstStep = step;
  const t0 = performance.now();
  let realTokens = 0, paddedTokens = 0;
  let wLoss = 0, wNorm = 0, wSteps = 0, wTokens = 0, wStart = t0;
  let stopped = false, earlyStopped = false;
  let bestReport: EvalReport | undefined;
  while (step < total) {
    if ((opts.stopAfter !== undefined && step - firstStep >= opts.stopAfter) || opts.signal?.aborted) {
      stopped = true;
      break;
    }
    const batch = plan(cursor.epoch)[cursor.batch];
    // Without bucketing every batch is padded to max_seq_length (the baseline bucketing is measured against).
    const feeds = batchTensors(trainF.features, batch, {
      padId: Math.max(0, tokenizer.padId),
      maxLength: c.maxSeqLength,
      multiple: c.padMultiple,
      length: c.bucketBatches > 0 ? undefined : c.maxSeqLength,
    });
    const lr = finetuneLr(step, total, c);
    const r = await runner.stepWithStats(feeds, lr);
    step = runner.updates;
    const n = batch.reduce((a, i) => a + trainF.features[i].ids.length, 0);
    realTokens += n;
    paddedTokens += feeds.input_ids.data.length;
    wLoss += r.loss, wNorm += r.gradNorm, wSteps++, wTokens += n;
    cursor = { epoch: cursor.epoch, batch: cursor.batch + 1 };
    const epochEnd = cursor.batch >= plan(cursor.epoch).length;
    if (epochEnd) cursor = { epoch: cursor.epoch + 1, batch: 0 };

    const now = performance.now();
    const rate = realTokens / ((now - t0) / 1000);
    progress.update(
      { step, total, loss: r.loss, tokensPerSecond: rate, extra: { lr, epoch: cursor.epoch } },
      ((total - step) * (now - t0)) / 1000 / Math.max(1, step - firstStep),
    );
    if (step % c.logEvery === 0 || step === total || epochEnd) {
      await metrics.write({
        type: "train",
        step,
        epoch: cursor.epoch,
        loss: wLoss / wSteps,
        grad_norm: wNorm / wSteps,
        lr,
        tokens_per_s: wTokens / ((now - wStart) / 1000),
        window_tokens: wTokens,
        seconds: (now - wStart) / 1000,
      });
      wLoss =
        wNorm =
        wSteps =
        wTokens =
          0;
      wStart = now;
    }
    const evalNow = c.evalEvery > 0 ? step % c.evalEvery === 0 || step === total : epochEnd || step === total;
    if (evalNow && evaluator) {
      const e = await evaluate();
      const score = c.metric === "macro_f1" ? e.report.macro.f1 : e.report.micro.f1;
      await metrics.write({
        type: "eval",
        step,
        epoch: cursor.epoch,
        loss: e.loss ?? null,
        micro_f1: e.report.micro.f1,
        macro_f1: e.report.macro.f1,
        precision: e.report.micro.precision,
        recall: e.report.micro.recall,
        ...Object.fromEntries(
          Object.entries(e.report.subsets ?? {}).map(([k, s]) => [`${k}_micro_f1`, s.micro.f1]),
        ),
      });
      log(
        `eval step ${step} (epoch ${cursor.epoch}): loss ${e.loss?.toFixed(4)}  micro F1 ${
          e.report.micro.f1.toFixed(4)
        }  macro F1 ${e.report.macro.f1.toFixed(4)}`,
      );
      if (!best || score > best.score) {
        best = { step, score };
        bad = 0;
        bestReport = e.report;
        await saveFolder();
        await writeFileAtomic(join(opts.out, "dev_errors.jsonl"), utf8.encode(formatErrors(e.errors)));
        await writeFileAtomic(
          join(opts.out, "dev_report.json"),
          utf8.encode(JSON.stringify(e.report, null, 2) + "\n"),
        );
      } else if (c.patience > 0 && ++bad >= c.patience) {
        earlyStopped = true;
        log(
          `Early stop: no better dev ${c.metric} in ${bad} evaluations (best ${
            best.score.toFixed(4)
          } at step ${best.step})`,
        );
      }
    }
    if (evalNow || epochEnd || step === total || earlyStopped) {
      await saveCheckpoint(ckptDir, { ...runner.snapshot(), config: runState() }, c.keepCheckpoints);
    }
    if (earlyStopped) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  progress.done();
  if (!stopped) {
    if (!evaluator) {
      await saveFolder();
    }
    if (!bestReport && best && (await exists(join(opts.out, "dev_report.json")))) {
      bestReport = JSON.parse(await Deno.readTextFile(join(opts.out, "dev_report.json")));
    }
    const report = {
      steps: step,
      epochs: cursor.epoch + (cursor.batch > 0 ? cursor.batch / perEpoch : 0),
      earlyStopped,
      best: best ? { ...best, dev: bestReport ?? null } : null,
      labels,
      trainSentences: train.length,
      trainWindows: trainF.features.length,
      alignment: trainF.stats,
      secondsThisCall: seconds,
      tokensPerSecond: realTokens / Math.max(seconds, 1e-9),
      paddedTokensPerSecond: paddedTokens / Math.max(seconds, 1e-9),
      config: finetuneConfigToJson(c),
    };
    await writeFileAtomic(join(opts.out, "report.json"), utf8.encode(JSON.stringify(report, null, 2) + "\n"));
    if (bestReport) {
      await writeFileAtomic(
        join(opts.out, "report.txt"),
        utf8.encode(`Best dev evaluation (step ${best!.step}):\n${formatReport(bestReport)}`),
      );
      log(`Best dev ${c.metric} ${best!.score.toFixed(4)} at step ${best!.step}; model in "${opts.out}"`);
    } else log(`Model in "${opts.out}"`);
  }
  const params: Record<string, Tensor> = {};
  for (const [n, v] of Object.entries(runner.parameters())) {
    params[n] = { dtype: v.dtype, dims: [...v.dims], data: v.data.slice() } as Tensor;
  }
  metrics.close();
  await runner.release();
  await evaluator?.release();
  return {
    step,
    epoch: cursor.epoch,
    finished: !stopped,
    earlyStopped,
    best: best && bestReport ? { ...best, report: bestReport } : undefined,
    params,
    tokensPerSecond: realTokens / Math.max(seconds, 1e-9),
    paddedTokensPerSecond: paddedTokens / Math.max(seconds, 1e-9),
    resumedFrom,
    labels,
  };
}
