/**
 * ELECTRA replaced-token-detection pretraining: one flat loop (nanoGPT's `train.py` shape: plan a batch,
 * step, evaluate, save) over the shards of `deno task build-data`, driving the fused train-step artifact of
 * `onnx/artifacts.ts` through `onnx/trainer.ts`, inside the run skeleton it shares with fine-tuning
 * (train/run/training_run.ts): ELECTRA's schedule (`pretrainLr`), AdamW without bias correction, clipping,
 * gradient accumulation, periodic held-out evaluation (`pretrain_eval.ts`), checkpoints every N updates
 * (atomic, newest K kept) and an exact `resume`.
 *
 * Exact resume: every random choice is a function of the seed and the update number — data order is a
 * seeded permutation per epoch, masking and generator sampling draw from `new Rng(seed, "mask", step, k)`,
 * dropout uses `seed + step` — and the checkpoint stores parameters, Adam moments, the step and the data
 * cursor. A resumed run therefore repeats bit for bit what the uninterrupted run would have done (on CPU
 * with a fixed thread count).
 *
 * Output folder:
 * ```
 * OUT/run.json                  resolved config ({model, train}) and data description
 * OUT/metrics.jsonl             {"type":"train"|"eval", "step", …} one per line
 * OUT/checkpoints/step-N.safetensors
 * OUT/model/                    joint pretraining model (our format: config.json, generator_config.json, model.safetensors, vocab.txt)
 * OUT/discriminator/            Hugging Face ElectraForPreTraining folder (what fine-tuning starts from)
 * OUT/generator/                Hugging Face ElectraForMaskedLM folder
 * ```
 * With `objective: "mlm"` (masked LM on the full-width model, no generator or discriminator) OUT/model holds the
 * masked LM (kind "masked-lm") and OUT/hf its Hugging Face ElectraForMaskedLM folder; both are `--model`s for
 * fine-tuning and the probe, which keep the encoder. `whole_word_mask` masks every piece of a chosen word.
 * @module
 */
import { join } from "node:path";
import { NAMES } from "../../onnx/artifacts.ts";
import { initialState } from "../../onnx/checkpoint.ts";
import { Graph } from "../../onnx/graph.ts";
import { mul } from "../../onnx/ops.ts";
import {
  openSession,
  type OrtTensor,
  type Provider,
  type Session,
  type SessionOptions,
} from "../../onnx/runtime.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { TrainRunner } from "../../onnx/trainer.ts";
import {
  continuationTable,
  DEFAULT_SPECIAL_IDS,
  gumbelNoise,
  maskBatch,
  maxPredictions,
  pretrainFeeds,
  sampleUniform,
  type SpecialIds,
  specialIdsFromVocab,
} from "../pretrain_data/masking.ts";
import { openShards, type ShardSet } from "../pretrain_data/shards.ts";
import { toHf } from "../release/hf_folder.ts";
import { writePretrainFolder } from "./checkpoint_folder.ts";
import type { MetricsRecord } from "../run/metrics_log.ts";
import { checkResumeMatches } from "../run/run_folder.ts";
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
  type PretrainConfig,
  pretrainConfigFromJson,
  pretrainConfigToJson,
  pretrainLr,
  type TrainConfig,
} from "./pretrain_config.ts";
import { type EvalMetrics, evaluateHeldOut, type HeldOutBatch } from "./pretrain_eval.ts";
import { buildPretrainArtifacts } from "./pretrain_model.ts";

/** Options of `pretrain` (the run folder's, resume's and stop's are `RunOptions`'). */
export interface PretrainOptions extends RunOptions<PretrainConfig> {
  /** Shard folder from `deno task build-data`. */
  data: string;
  /** Held-out shard folder; default: `evalExamples` examples reserved from `data` by a seeded choice. */
  evalData?: string;
  /** `vocab.txt` to ship with the exported model; default: `DATA/vocab.txt` when present. */
  vocab?: string;
  provider?: Provider;
  /** Intra-op threads (1 makes CPU runs bit-reproducible). */
  threads?: number;
  /** CUDA execution-provider options as ONNX Runtime documents them (`deviceId`, `gpuMemLimit`, …). */
  cuda?: Record<string, unknown>;
  /** Training settings the user gave explicitly: a resume refuses any that differ from the run's saved config. */
  given?: Partial<TrainConfig>;
  /** End the run at this update of the schedule as if it were the last (checkpoint, evaluation, model folders):
   * a model taken partway through a longer schedule, its learning rate where the schedule had it. */
  stopAt?: number;
  /** On an early stop, still save a checkpoint and export the model folders (the CLI's graceful stop). */
  saveOnStop?: boolean;
  /** Write the model folders at the end (default true). */
  export?: boolean;
}

/** What `pretrain` returns. */
export interface PretrainResult {
  /** Updates done in total (including those before a resume). */
  step: number;
  /** Whether the run reached `trainSteps` or `stopAt` (false when stopped early). */
  finished: boolean;
  /** Final parameters (graph layout, joint names). */
  params: Record<string, Tensor>;
  /** Last evaluation, if any. */
  eval?: EvalMetrics;
  /** Training tokens (batch × sequence, padding included) per second in this call. */
  tokensPerSecond: number;
  /** Checkpoint resumed from, if any. */
  resumedFrom?: string;
}

/** Data position saved in checkpoints. */
interface Cursor {
  epoch: number;
  offset: number;
}

/** What a pretraining checkpoint's metadata holds besides the tensors. */
interface PretrainState extends RunState {
  format: "nersota-pretrain/1";
  cursor: Cursor;
  tokensSeen: number;
  /** Wall-clock seconds of training updates so far (evaluation and saving excluded), across resumes. */
  trainSeconds?: number;
  /** Those seconds × the intra-op threads of the session that ran them: a run's CPU time across resumes that
   * changed the thread count. */
  cpuSeconds?: number;
}

/** The shards, the held-out split and the masking a pretraining run trains with. */
interface PretrainData {
  cfg: PretrainConfig;
  data: ShardSet;
  evalSet: ShardSet;
  trainIdx: Int32Array;
  evalIdx: Int32Array;
  vocabPath?: string;
  special: SpecialIds;
  /** Which tokens continue a word (`whole_word_mask`). */
  continuation?: Uint8Array;
}

/** The sessions of a run: the train step, the gradient accumulation step (accumulate > 1) and the eval graph. */
interface PretrainSessions {
  runner: TrainRunner;
  accumulate?: Session;
  evaluator: Session;
  /** The parameters' initial values (their names and shapes). */
  params: Record<string, Tensor>;
}

/** Runs pretraining (see the module doc); resumable, and stoppable through `stopAfter`/`signal`. */
export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  await probeProvider(opts.provider ?? "cpu", sessionOptions(opts)); // fail fast, before building anything
  await using run = await TrainingRun.open(opts, pretrainRun(opts));
  await Deno.mkdir(run.checkpointDir, { recursive: true });
  // run.json as the resumed run left it, read once before begin() writes this session's.
  const before = await run.recorded();
  const d = await loadPretrainData(opts, run, before);
  const t = d.cfg.train;
  const { runner, accumulate, evaluator, params } = await openSessions(opts, run, d);
  // A checkpoint from before cpuSeconds was kept counts its seconds at the thread count its run.json recorded.
  const threadsBefore = before ? (before.threads as number | null | undefined) : opts.threads;
  await run.begin(runRecord(opts, d));
  const saved = run.resumed?.saved;
  const order = new ExampleOrder(d.trainIdx, t.batchSize, t.seed, saved?.cursor ?? { epoch: 0, offset: 0 });
  let tokensSeen = saved?.tokensSeen ?? 0, trainSeconds = saved?.trainSeconds ?? 0;
  let cpuSeconds = saved?.cpuSeconds ?? (threadsBefore ? trainSeconds * threadsBefore : undefined);
  const runState = (): PretrainState => ({
    format: "nersota-pretrain/1",
    config: pretrainConfigToJson(d.cfg),
    cursor: order.cursor,
    tokensSeen,
    trainSeconds,
    cpuSeconds,
  });
  const save = () => run.save({ ...runner.snapshot(), config: runState() }, t.keepCheckpoints, t.keepEvery);
  const evaluate = async (step: number) => {
    const e = d.evalIdx.length
      ? await evaluateHeldOut(evaluator, runner.parameters(), heldOutBatches(d), t.objective === "mlm")
      : undefined;
    await logEvaluation(run, step, e, t.objective === "mlm");
    return e;
  };

  const tokensPerUpdate = t.batchSize * t.maxSeqLength * t.accumulate;
  const lastStep = Math.min(t.trainSteps, opts.stopAt ?? Infinity);
  let step = runner.updates, lastEval: EvalMetrics | undefined, stopped = false;
  run.startClock();
  if (step === 0 && t.evalEvery > 0) lastEval = await evaluate(0);
  while (step < lastStep) {
    if (run.stopRequested(step)) {
      stopped = true;
      break;
    }
    const lr = pretrainLr(step, t);
    const stepStart = performance.now();
    // Micro-batch k of this update, its masks drawn from (seed, step, k).
    const microBatch = (k: number) => maskedFeeds(d, d.data, order.next(), new Rng(t.seed, "mask", step, k));
    const acc = accumulate
      ? await accumulateGradients(accumulate, runner, params, microBatch, t, step)
      : { loss: 0, feeds: {} };
    const r = await runner.stepWithStats({ ...acc.feeds, ...microBatch(t.accumulate - 1) }, lr);
    const loss = (acc.loss + r.loss) / t.accumulate;
    step = runner.updates;
    tokensSeen += tokensPerUpdate;
    const dt = (performance.now() - stepStart) / 1000;
    trainSeconds += dt;
    // Unknown without a thread count (ONNX Runtime's default depends on the machine).
    cpuSeconds = cpuSeconds === undefined || !opts.threads ? undefined : cpuSeconds + dt * opts.threads;
    run.count({ step, total: lastStep, loss, gradNorm: r.gradNorm, tokens: tokensPerUpdate }, { lr });
    if (step % t.logEvery === 0 || step === lastStep) {
      const w = run.takeWindow();
      await run.write({
        type: "train",
        step,
        loss: w.loss,
        grad_norm: w.gradNorm,
        lr,
        tokens_per_s: w.tokensPerSecond,
        tokens: tokensSeen,
        epoch: order.cursor.epoch,
        seconds: w.seconds,
      });
    }
    if (t.evalEvery > 0 && step % t.evalEvery === 0 && step !== lastStep) lastEval = await evaluate(step);
    if (t.saveEvery > 0 && step % t.saveEvery === 0 && step !== lastStep) await save();
  }
  const seconds = run.seconds();
  run.progress.done();
  // A finished run, or a stopped one told to save, ends with a checkpoint (a finished one with an evaluation
  // too) and the model folders.
  if (!stopped || (opts.saveOnStop && step > run.firstStep)) {
    await save();
    if (!stopped) lastEval = await evaluate(step);
    if (opts.export ?? true) {
      await exportModels(opts.out, d.cfg, runner.parameters(), d.vocabPath, (m) => run.log(m));
    }
  }
  return {
    step,
    finished: !stopped,
    params: copyTensors(runner.parameters()),
    eval: lastEval,
    tokensPerSecond: run.tokens / Math.max(seconds, 1e-9),
    resumedFrom: run.resumed?.path,
  };
}

/** Pretraining checkpoints, and the config a resume continues with (refusing changed explicit settings). */
function pretrainRun(opts: PretrainOptions): RunKind<PretrainState, PretrainConfig> {
  return {
    format: "nersota-pretrain/1",
    what: "pretraining",
    resumedConfig(saved, path) {
      const cfg = pretrainConfigFromJson(saved.config, `${path} (saved config)`);
      const given = Object.entries(opts.given ?? {}) as [keyof TrainConfig, unknown][];
      checkResumeMatches(opts.out, given.map(([k, v]) => [k, cfg.train[k], v]));
      return cfg;
    },
  };
}

/** The session options of every session of the run. */
function sessionOptions(opts: PretrainOptions): SessionOptions {
  return { provider: opts.provider ?? "cpu", threads: opts.threads, cuda: opts.cuda };
}

/** Opens a trivial session on `provider` so a missing runtime (e.g. no CUDA libraries) fails before any real work. */
export async function probeProvider(provider: Provider, options: SessionOptions = {}): Promise<void> {
  const g = new Graph("probe");
  g.output(mul(g.input("x", "float32", [1]), 2), "y");
  const s = await openSession(g.toBytes(), { ...options, provider });
  await s.release();
}

/** Reads `vocab.txt`: its tokens in id order. */
async function readVocabTokens(path: string): Promise<string[]> {
  const lines = (await Deno.readTextFile(path)).split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** The shards, the vocabulary's special tokens and word pieces, and the held-out split; checked against run.json. */
async function loadPretrainData(
  opts: PretrainOptions,
  run: TrainingRun<PretrainState, PretrainConfig>,
  /** The resumed run's run.json, whose data the resume must match (undefined on a fresh start). */
  record: Record<string, unknown> | undefined,
): Promise<PretrainData> {
  const cfg = run.config, t = cfg.train;
  const data = await openShards(opts.data);
  const vocabPath = opts.vocab ??
    ((await exists(join(opts.data, "vocab.txt"))) ? join(opts.data, "vocab.txt") : undefined);
  const tokens = vocabPath ? await readVocabTokens(vocabPath) : undefined;
  const special: SpecialIds = tokens
    ? specialIdsFromVocab(new Map(tokens.map((tok, i) => [tok, i])), vocabPath)
    : DEFAULT_SPECIAL_IDS;
  if (t.wholeWordMask && !tokens) {
    throw new Error(
      `whole_word_mask needs the vocabulary (--vocab, or vocab.txt in "${opts.data}") to find word pieces`,
    );
  }
  const continuation = t.wholeWordMask ? continuationTable(tokens!) : undefined;
  if (data.index.vocabSize > cfg.model.vocabSize) {
    throw new Error(
      `"${opts.data}" was built with a ${data.index.vocabSize}-token vocabulary, the model has vocab_size ${cfg.model.vocabSize}`,
    );
  }
  const { evalSet, trainIdx, evalIdx } = await splitHeldOut(opts, data, t);
  if (trainIdx.length < t.batchSize) {
    throw new Error(
      `"${opts.data}" has ${trainIdx.length} training examples, fewer than one batch of ${t.batchSize}`,
    );
  }
  if (record) {
    checkResumeMatches(opts.out, [
      ["the data", record.data, opts.data],
      ["the eval data", record.evalData, opts.evalData ?? null],
      ["the training examples", record.trainExamples, trainIdx.length],
    ]);
  }
  return { cfg, data, evalSet, trainIdx, evalIdx, vocabPath, special, continuation };
}

/** The held-out examples: `--eval-data`'s first `eval_examples`, or a seeded choice from the data. */
async function splitHeldOut(
  opts: PretrainOptions,
  data: ShardSet,
  t: TrainConfig,
): Promise<{ evalSet: ShardSet; trainIdx: Int32Array; evalIdx: Int32Array }> {
  if (opts.evalData) {
    const evalSet = await openShards(opts.evalData);
    return {
      evalSet,
      trainIdx: Int32Array.from({ length: data.length }, (_, i) => i),
      evalIdx: Int32Array.from(
        { length: Math.min(evalSet.length, t.evalExamples || evalSet.length) },
        (_, i) => i,
      ),
    };
  }
  // A seeded held-out choice: at most a tenth of the data, so tiny corpora still train on most of it.
  const perm = new Rng(t.seed, "split").permutation(data.length);
  const nEval = Math.min(t.evalExamples, Math.floor(data.length / 10));
  return { evalSet: data, trainIdx: perm.slice(nEval).sort(), evalIdx: perm.slice(0, nEval).sort() };
}

/** The train-step runner (from the checkpoint on a resume), the accumulation step and the eval session; the run owns them. */
async function openSessions(
  opts: PretrainOptions,
  run: TrainingRun<PretrainState, PretrainConfig>,
  d: PretrainData,
): Promise<PretrainSessions> {
  const { cfg } = d, t = cfg.train;
  const artifacts = buildPretrainArtifacts(cfg);
  const runner = run.own(
    await TrainRunner.open(
      t.accumulate > 1 ? artifacts.trainStepAccum! : artifacts.trainStep,
      run.resumed?.state ?? initialState(artifacts.params),
      { ...sessionOptions(opts), seed: t.seed },
    ),
  );
  const accumulate = t.accumulate > 1
    ? run.own(await openSession(artifacts.accumulate!, sessionOptions(opts)))
    : undefined;
  const evaluator = run.own(await openSession(artifacts.eval, sessionOptions(opts)));
  return { runner, accumulate, evaluator, params: artifacts.params };
}

/** What run.json records: the resolved config ({model, train}) and the data. */
function runRecord(opts: PretrainOptions, d: PretrainData): Record<string, unknown> {
  return {
    ...pretrainConfigToJson(d.cfg),
    data: opts.data,
    evalData: opts.evalData ?? null,
    trainExamples: d.trainIdx.length,
    evalExamples: d.evalIdx.length,
    provider: opts.provider ?? "cpu",
    threads: opts.threads ?? null,
  };
}

/** The training examples' order: each epoch a seeded permutation read a batch at a time, its short tail dropped. */
class ExampleOrder {
  private order: Int32Array | undefined;
  private orderOf = -1;

  /** An order over `indices` continuing at `cursor`. */
  constructor(
    private readonly indices: Int32Array,
    private readonly batchSize: number,
    private readonly seed: number,
    /** The position of the next batch (saved in checkpoints). */
    public cursor: Cursor,
  ) {}

  /** The next batch's example indices. */
  next(): Int32Array {
    const B = this.batchSize;
    if (this.cursor.offset + B > this.indices.length) {
      this.cursor = { epoch: this.cursor.epoch + 1, offset: 0 };
    }
    if (this.orderOf !== this.cursor.epoch) {
      this.order = new Rng(this.seed, "epoch", this.cursor.epoch).shuffle(this.indices.slice());
      this.orderOf = this.cursor.epoch;
    }
    const idx = this.order!.slice(this.cursor.offset, this.cursor.offset + B);
    this.cursor = { epoch: this.cursor.epoch, offset: this.cursor.offset + B };
    return idx;
  }
}

/** The masked feeds of one batch of `set` (deterministic in `rng`): the generator's noise too, for RTD. */
function maskedFeeds(
  d: PretrainData,
  set: ShardSet,
  indices: ArrayLike<number>,
  rng: Rng,
): Record<string, Tensor> {
  const t = d.cfg.train, P = maxPredictions(t.maskProb, t.maxSeqLength);
  const masked = maskBatch(set.batch(indices, t.maxSeqLength), {
    maskProb: t.maskProb,
    numPredictions: P,
    special: d.special,
    continuation: d.continuation,
  }, rng);
  if (t.objective === "mlm") return pretrainFeeds(masked);
  const n = masked.batchSize;
  const noise = t.sampler === "gumbel"
    ? { name: "gumbel_noise" as const, data: gumbelNoise(n, P, d.cfg.generator.vocabSize, rng) }
    : { name: "sample_uniform" as const, data: sampleUniform(n, P, rng) };
  return pretrainFeeds(masked, noise);
}

/** The held-out batches with masks fixed by their number (the same at every evaluation). */
function* heldOutBatches(d: PretrainData): Generator<HeldOutBatch> {
  const t = d.cfg.train;
  for (let i = 0, batchNo = 0; i < d.evalIdx.length; i += t.evalBatchSize, batchNo++) {
    const idx = d.evalIdx.slice(i, i + t.evalBatchSize);
    yield { feeds: maskedFeeds(d, d.evalSet, idx, new Rng(t.seed, "eval", batchNo)), size: idx.length };
  }
}

/**
 * Micro-batches 0..N−2 of an update with gradient accumulation, run through the accumulation step: the
 * summed gradients (`<p>.grad`) and their scale, which the last micro-batch's train step feeds on, and
 * the micro-batches' summed loss.
 */
async function accumulateGradients(
  accumulate: Session,
  runner: TrainRunner,
  init: Record<string, Tensor>,
  microBatch: (k: number) => Record<string, Tensor>,
  t: TrainConfig,
  step: number,
): Promise<{ loss: number; feeds: Record<string, Tensor | OrtTensor> }> {
  const paramNames = Object.keys(init);
  let grads: Record<string, OrtTensor> = {};
  for (const [n, p] of Object.entries(init)) {
    grads[NAMES.grad(n)] = accumulate.toOrt({ ...p, data: new Float32Array(p.data.length) });
  }
  const params: Record<string, OrtTensor> = {};
  for (const [n, v] of Object.entries(runner.parameters())) params[n] = accumulate.toOrt(v);
  let loss = 0;
  for (let k = 0; k < t.accumulate - 1; k++) {
    const feeds: Record<string, OrtTensor> = { ...params, ...grads };
    for (const [n, v] of Object.entries(microBatch(k))) feeds[n] = accumulate.toOrt(v);
    if (accumulate.inputNames.includes(NAMES.seed)) {
      feeds[NAMES.seed] = accumulate.toOrt({
        dtype: "float32",
        dims: [],
        data: Float32Array.of((t.seed + step * 977 + k * 131 + 32768) % 65536),
      });
    }
    const out = await accumulate.runOrt(feeds, [NAMES.loss, ...paramNames.map(NAMES.newGrad)]);
    loss += Number(out[NAMES.loss].data[0]);
    grads = {};
    for (const n of paramNames) grads[NAMES.grad(n)] = out[NAMES.newGrad(n)];
  }
  const scale: Tensor = { dtype: "float32", dims: [], data: Float32Array.of(1 / t.accumulate) };
  return { loss, feeds: { ...grads, [NAMES.gradScale]: scale } };
}

/** An evaluation's metrics line and log line (nothing without held-out examples). */
async function logEvaluation(
  run: TrainingRun<PretrainState, PretrainConfig>,
  step: number,
  e: EvalMetrics | undefined,
  mlm: boolean,
): Promise<void> {
  if (!e) return;
  if (mlm) {
    await run.write({ type: "eval", step, loss: e.loss, mlm_accuracy: e.mlm_accuracy });
    run.log(`eval step ${step}: loss ${e.loss.toFixed(4)}  mlm acc ${e.mlm_accuracy.toFixed(3)}`);
    return;
  }
  await run.write({ type: "eval", step, ...e } as MetricsRecord);
  run.log(
    `eval step ${step}: loss ${e.loss.toFixed(4)}  gen ${e.generator_loss.toFixed(4)}  disc ${
      e.discriminator_loss.toFixed(4)
    }  ` +
      `mlm acc ${e.mlm_accuracy.toFixed(3)}  disc acc ${e.discriminator_accuracy.toFixed(3)}  AUC ${
        e.discriminator_auc.toFixed(3)
      }`,
  );
}

/**
 * Writes OUT/model (joint, our format) and, when a vocabulary is known, the Hugging Face folders
 * OUT/discriminator and OUT/generator (via `train/release/hf_folder.ts`).
 */
export async function exportModels(
  out: string,
  cfg: PretrainConfig,
  params: Record<string, Tensor>,
  vocabPath: string | undefined,
  log: (m: string) => void = console.error,
): Promise<void> {
  const modelDir = join(out, "model");
  await writePretrainFolder(modelDir, cfg, copyTensors(params));
  const mlm = cfg.train.objective === "mlm";
  if (!vocabPath) {
    log(
      `warning: no vocab.txt given (--vocab) or found beside the data; wrote "${modelDir}" but not the Hugging Face folders`,
    );
    return;
  }
  await writeFileAtomic(join(modelDir, "vocab.txt"), await Deno.readFile(vocabPath));
  if (mlm) {
    await toHf(modelDir, join(out, "hf"));
    log(`Wrote "${modelDir}" and the Hugging Face ElectraForMaskedLM folder "${join(out, "hf")}"`);
    return;
  }
  await toHf(modelDir, join(out, "discriminator"), join(out, "generator"));
  log(
    `Wrote "${modelDir}" and Hugging Face folders "${join(out, "discriminator")}", "${
      join(out, "generator")
    }"`,
  );
}
