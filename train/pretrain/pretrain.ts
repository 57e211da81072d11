/**
 * ELECTRA replaced-token-detection pretraining: one flat loop (nanoGPT's `train.py` shape) over the
 * shards of `deno task build-data`, driving the fused train-step artifact of `onnx/artifacts.ts` through
 * `onnx/trainer.ts`: ELECTRA's schedule (`pretrainLr`), AdamW without bias correction, clipping, gradient
 * accumulation, periodic held-out evaluation, checkpoints every N updates (atomic, newest K kept) and an
 * exact `resume`.
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
import { buildTrainingArtifacts, NAMES, type TrainingArtifacts } from "../../onnx/artifacts.ts";
import { type CheckpointState, initialState } from "../../onnx/checkpoint.ts";
import { Graph } from "../../onnx/graph.ts";
import { mul } from "../../onnx/ops.ts";
import { electraAdam } from "../../onnx/optimizer.ts";
import {
  openSession,
  type OrtTensor,
  type Provider,
  type Session,
  type SessionOptions,
} from "../../onnx/runtime.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { TrainRunner } from "../../onnx/trainer.ts";
import { toHf, writeModelFolder } from "../release/hf_folder.ts";
import { writeFileAtomic } from "../run/artifacts_io.ts";
import { checkResumeMatches, prepareRunFolder, readRunRecord } from "../run/run_folder.ts";
import { loadLatestCheckpoint, saveCheckpoint } from "../run/checkpoints.ts";
import {
  continuationTable,
  DEFAULT_SPECIAL_IDS,
  gumbelNoise,
  maskBatch,
  type MaskedBatch,
  maxPredictions,
  pretrainFeeds,
  sampleUniform,
  type SpecialIds,
  specialIdsFromVocab,
} from "../pretrain_data/masking.ts";
import { MetricsLog, type MetricsRecord, truncateAfter } from "../run/metrics_log.ts";
import {
  type PretrainConfig,
  pretrainConfigFromJson,
  pretrainConfigToJson,
  pretrainLr,
  type TrainConfig,
} from "./pretrain_config.ts";
import { maskedLmForward, MLM_SCALAR_OUTPUTS, pretrainingForward, SCALAR_OUTPUTS } from "./pretrain_model.ts";
import { Progress } from "../run/progress.ts";
import { Rng } from "../util/rng.ts";
import { openShards, type ShardSet } from "../pretrain_data/shards.ts";
import { exists } from "../util/fs.ts";

/** Options of `pretrain`. */
export interface PretrainOptions {
  config: PretrainConfig;
  /** Shard folder from `deno task build-data`. */
  data: string;
  /** Held-out shard folder; default: `evalExamples` examples reserved from `data` by a seeded choice. */
  evalData?: string;
  out: string;
  /** `vocab.txt` to ship with the exported model; default: `DATA/vocab.txt` when present. */
  vocab?: string;
  provider?: Provider;
  /** Intra-op threads (1 makes CPU runs bit-reproducible). */
  threads?: number;
  /** CUDA execution-provider options as ONNX Runtime documents them (`deviceId`, `gpuMemLimit`, …). */
  cuda?: Record<string, unknown>;
  /** Continue from the newest valid checkpoint in OUT/checkpoints (fresh start when there is none). */
  resume?: boolean;
  /** A new run empties an OUT that holds another run (without it, a non-empty OUT is refused). */
  clear?: boolean;
  /** Training settings the user gave explicitly: a resume refuses any that differ from the run's saved config. */
  given?: Partial<TrainConfig>;
  /** Stop after this many updates in this call without a final save: simulates a killed run in tests. */
  stopAfter?: number;
  /** End the run at this update of the schedule as if it were the last (checkpoint, evaluation, model folders):
   * a model taken partway through a longer schedule, its learning rate where the schedule had it. */
  stopAt?: number;
  /** Stops the loop (like `stopAfter`) when aborted. */
  signal?: AbortSignal;
  /** On an early stop, still save a checkpoint and export the model folders (the CLI's graceful stop). */
  saveOnStop?: boolean;
  quiet?: boolean;
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

/** Evaluation results on held-out data. */
export interface EvalMetrics {
  loss: number;
  generator_loss: number;
  discriminator_loss: number;
  /** Generator accuracy at masked positions. */
  mlm_accuracy: number;
  /** Discriminator accuracy over real tokens. */
  discriminator_accuracy: number;
  /** ROC-AUC of the discriminator's logits for "replaced" over real tokens (0.5: chance). */
  discriminator_auc: number;
  /** Share of replaced tokens the discriminator flags. */
  replaced_recall: number;
  /** Share of original tokens it leaves unflagged. */
  original_accuracy: number;
  /** Share of real tokens that the generator replaced (a harder generator replaces fewer). */
  replaced_fraction: number;
}

/** Data position saved in checkpoints. */
interface Cursor {
  epoch: number;
  offset: number;
}

/** What a checkpoint's `config` metadata holds besides the tensors. */
interface RunState {
  format: "nersota-pretrain/1";
  config: Record<string, unknown>;
  cursor: Cursor;
  tokensSeen: number;
  /** Wall-clock seconds of training updates so far (evaluation and saving excluded), across resumes. */
  trainSeconds?: number;
}

/** ROC-AUC by the rank-sum (Mann–Whitney) formula, ties counted half; NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0, rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] > 0.5) {
        pos++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (!pos || !neg) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
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

/** Runs pretraining (see the module doc); resumable, and stoppable through `stopAfter`/`signal`. */
export async function pretrain(opts: PretrainOptions): Promise<PretrainResult> {
  const progress = new Progress({ quiet: opts.quiet, every: 10 });
  const provider = opts.provider ?? "cpu";
  const sessionOptions: SessionOptions = { provider, threads: opts.threads, cuda: opts.cuda };
  await probeProvider(provider, sessionOptions); // fail fast, before building anything

  // --- resume state ---
  const ckptDir = join(opts.out, "checkpoints");
  if (!opts.resume) await prepareRunFolder(opts.out, opts.clear);
  await Deno.mkdir(ckptDir, { recursive: true });
  let cfg = opts.config;
  let start: CheckpointState | undefined;
  let cursor: Cursor = { epoch: 0, offset: 0 };
  let tokensSeen = 0, trainSeconds = 0;
  let resumedFrom: string | undefined;
  if (opts.resume) {
    // Not progress.log: --quiet silences progress, never a damaged checkpoint.
    const found = await loadLatestCheckpoint(ckptDir, (m) => console.error(m));
    if (found) {
      const run = found.state.config as RunState;
      if (run?.format !== "nersota-pretrain/1") {
        throw new Error(`Checkpoint "${found.path}" is not a pretraining checkpoint`);
      }
      // The run continues under the config it started with (a changed schedule would not be the same run).
      cfg = pretrainConfigFromJson(run.config, `${found.path} (saved config)`);
      const given = Object.entries(opts.given ?? {}) as [keyof TrainConfig, unknown][];
      checkResumeMatches(opts.out, given.map(([k, v]) => [k, cfg.train[k], v]));
      start = found.state;
      cursor = run.cursor;
      tokensSeen = run.tokensSeen;
      trainSeconds = run.trainSeconds ?? 0;
      resumedFrom = found.path;
      progress.log(`Resuming from "${found.path}" at step ${found.state.step}`);
    } else progress.log(`No checkpoint in "${ckptDir}": starting from scratch`);
  }
  const t = cfg.train;

  // --- data ---
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
  const mlm = t.objective === "mlm";
  if (data.index.vocabSize > cfg.model.vocabSize) {
    throw new Error(
      `"${opts.data}" was built with a ${data.index.vocabSize}-token vocabulary, the model has vocab_size ${cfg.model.vocabSize}`,
    );
  }
  let evalSet: ShardSet = data;
  let trainIdx: Int32Array, evalIdx: Int32Array;
  if (opts.evalData) {
    evalSet = await openShards(opts.evalData);
    trainIdx = Int32Array.from({ length: data.length }, (_, i) => i);
    evalIdx = Int32Array.from(
      { length: Math.min(evalSet.length, t.evalExamples || evalSet.length) },
      (_, i) => i,
    );
  } else {
    // A seeded held-out choice: at most a tenth of the data, so tiny corpora still train on most of it.
    const perm = new Rng(t.seed, "split").permutation(data.length);
    const nEval = Math.min(t.evalExamples, Math.floor(data.length / 10));
    evalIdx = perm.slice(0, nEval).sort();
    trainIdx = perm.slice(nEval).sort();
  }
  if (trainIdx.length < t.batchSize) {
    throw new Error(
      `"${opts.data}" has ${trainIdx.length} training examples, fewer than one batch of ${t.batchSize}`,
    );
  }
  const record = start ? await readRunRecord(opts.out) : undefined;
  if (record) {
    checkResumeMatches(opts.out, [
      ["the data", record.data, opts.data],
      ["the eval data", record.evalData, opts.evalData ?? null],
      ["the training examples", record.trainExamples, trainIdx.length],
    ]);
  }
  const T = t.maxSeqLength, B = t.batchSize, P = maxPredictions(t.maskProb, T);

  // --- artifacts and sessions ---
  const forward = mlm ? maskedLmForward({ config: cfg.model, seed: t.seed }) : pretrainingForward({
    discriminator: cfg.model,
    generator: cfg.generator,
    seed: t.seed,
    discriminatorWeight: t.discWeight,
    sampler: t.sampler,
  });
  const optimizer = electraAdam({
    eps: t.adamEpsilon,
    weightDecay: t.weightDecay,
    maxGradNorm: t.maxGradNorm,
  });
  const artifacts: TrainingArtifacts = buildTrainingArtifacts(forward, {
    optimizer,
    accumulation: t.accumulate > 1,
  });
  const runState = (): RunState => ({
    format: "nersota-pretrain/1",
    config: pretrainConfigToJson(cfg),
    cursor,
    tokensSeen,
    trainSeconds,
  });
  const runner = await TrainRunner.open(
    t.accumulate > 1 ? artifacts.trainStepAccum! : artifacts.trainStep,
    start ?? initialState(artifacts.params),
    { ...sessionOptions, seed: t.seed },
  );
  const accumulate: Session | undefined = t.accumulate > 1
    ? await openSession(artifacts.accumulate!, sessionOptions)
    : undefined;
  const evaluator = await openSession(artifacts.eval, sessionOptions);
  const paramNames = Object.keys(artifacts.params);

  // --- logs ---
  await Deno.mkdir(opts.out, { recursive: true });
  await writeFileAtomic(
    join(opts.out, "run.json"),
    new TextEncoder().encode(
      JSON.stringify(
        {
          ...pretrainConfigToJson(cfg),
          data: opts.data,
          evalData: opts.evalData ?? null,
          trainExamples: trainIdx.length,
          evalExamples: evalIdx.length,
          provider,
          threads: opts.threads ?? null,
        },
        null,
        2,
      ) + "\n",
    ),
  );
  const metricsPath = join(opts.out, "metrics.jsonl");
  // Lines written after the checkpoint we resume from belong to the abandoned future: drop them.
  if (start) await truncateAfter(metricsPath, start.step);
  else await Deno.remove(metricsPath).catch(() => {});
  const metrics = await MetricsLog.open(metricsPath);

  /** The masked feeds of one micro-batch (deterministic in step and micro-batch index). */
  const makeFeeds = (set: ShardSet, indices: ArrayLike<number>, rng: Rng): Record<string, Tensor> => {
    const masked: MaskedBatch = maskBatch(set.batch(indices, T), {
      maskProb: t.maskProb,
      numPredictions: P,
      special,
      continuation,
    }, rng);
    if (mlm) return pretrainFeeds(masked);
    const n = masked.batchSize;
    const noise = t.sampler === "gumbel"
      ? { name: "gumbel_noise" as const, data: gumbelNoise(n, P, cfg.generator.vocabSize, rng) }
      : { name: "sample_uniform" as const, data: sampleUniform(n, P, rng) };
    return pretrainFeeds(masked, noise);
  };

  /** The next micro-batch's example indices; epochs are seeded permutations, tails shorter than a batch dropped. */
  let epochOrder: Int32Array | undefined, epochOf = -1;
  const nextIndices = (): Int32Array => {
    if (cursor.offset + B > trainIdx.length) cursor = { epoch: cursor.epoch + 1, offset: 0 };
    if (epochOf !== cursor.epoch) {
      epochOrder = new Rng(t.seed, "epoch", cursor.epoch).shuffle(trainIdx.slice());
      epochOf = cursor.epoch;
    }
    const idx = epochOrder!.slice(cursor.offset, cursor.offset + B);
    cursor = { epoch: cursor.epoch, offset: cursor.offset + B };
    return idx;
  };

  /** Evaluation on the held-out examples with fixed masks (the same every time, so curves compare). */
  const evaluate = async (): Promise<EvalMetrics | undefined> => {
    if (!evalIdx.length) return undefined;
    const params: Record<string, OrtTensor> = {};
    for (const [n, v] of Object.entries(runner.parameters())) params[n] = evaluator.toOrt(v);
    const sums: Record<string, number> = {};
    let examples = 0, replaced = 0, flagged = 0, originals = 0, kept = 0;
    const scores: number[] = [], labels: number[] = [];
    for (let i = 0, batchNo = 0; i < evalIdx.length; i += t.evalBatchSize, batchNo++) {
      const idx = evalIdx.slice(i, i + t.evalBatchSize);
      const feeds = makeFeeds(evalSet, idx, new Rng(t.seed, "eval", batchNo));
      const ortFeeds: Record<string, OrtTensor> = { ...params };
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = evaluator.toOrt(v);
      const out = await evaluator.runOrt(ortFeeds);
      for (const k of ["loss", ...(mlm ? MLM_SCALAR_OUTPUTS : SCALAR_OUTPUTS)]) {
        sums[k] = (sums[k] ?? 0) + Number(out[k].data[0]) * idx.length;
      }
      examples += idx.length;
      if (mlm) continue;
      const logits = out.discriminator_logits.data as Float32Array,
        isRep = out.is_replaced.data as Float32Array;
      const mask = feeds.attention_mask.data as BigInt64Array;
      for (let j = 0; j < logits.length; j++) {
        if (!mask[j]) continue;
        scores.push(logits[j]);
        labels.push(isRep[j]);
        if (isRep[j] > 0.5) {
          replaced++;
          if (logits[j] > 0) flagged++;
        } else {
          originals++;
          if (logits[j] <= 0) kept++;
        }
      }
    }
    const mean = (k: string) => sums[k] / examples;
    if (mlm) {
      // The masked-LM loss is the generator loss of ELECTRA's; there is no discriminator to score.
      const none = NaN;
      return {
        loss: mean("loss"),
        generator_loss: mean("loss"),
        discriminator_loss: none,
        mlm_accuracy: mean("mlm_accuracy"),
        discriminator_accuracy: none,
        discriminator_auc: none,
        replaced_recall: none,
        original_accuracy: none,
        replaced_fraction: none,
      };
    }
    return {
      loss: mean("loss"),
      generator_loss: mean("generator_loss"),
      discriminator_loss: mean("discriminator_loss"),
      mlm_accuracy: mean("mlm_accuracy"),
      discriminator_accuracy: mean("discriminator_accuracy"),
      discriminator_auc: rocAuc(scores, labels),
      replaced_recall: replaced ? flagged / replaced : NaN,
      original_accuracy: originals ? kept / originals : NaN,
      replaced_fraction: scores.length ? replaced / scores.length : NaN,
    };
  };

  const logEval = async (step: number, e: EvalMetrics | undefined) => {
    if (!e) return;
    if (mlm) {
      await metrics.write({ type: "eval", step, loss: e.loss, mlm_accuracy: e.mlm_accuracy });
      progress.log(`eval step ${step}: loss ${e.loss.toFixed(4)}  mlm acc ${e.mlm_accuracy.toFixed(3)}`);
      return;
    }
    await metrics.write({ type: "eval", step, ...e } as MetricsRecord);
    progress.log(
      `eval step ${step}: loss ${e.loss.toFixed(4)}  gen ${e.generator_loss.toFixed(4)}  disc ${
        e.discriminator_loss.toFixed(4)
      }  ` +
        `mlm acc ${e.mlm_accuracy.toFixed(3)}  disc acc ${e.discriminator_accuracy.toFixed(3)}  AUC ${
          e.discriminator_auc.toFixed(3)
        }`,
    );
  };

  // --- the loop ---
  let step = runner.updates;
  const firstStep = step;
  const t0 = performance.now();
  let windowLoss = 0, windowNorm = 0, windowSteps = 0, windowStart = t0, lastEval: EvalMetrics | undefined;
  const tokensPerUpdate = B * T * t.accumulate;
  let stopped = false;
  const lastStep = Math.min(t.trainSteps, opts.stopAt ?? Infinity);
  if (step === 0 && t.evalEvery > 0) await logEval(0, lastEval = await evaluate());
  while (step < lastStep) {
    if ((opts.stopAfter !== undefined && step - firstStep >= opts.stopAfter) || opts.signal?.aborted) {
      stopped = true;
      break;
    }
    const lr = pretrainLr(step, t);
    const stepStart = performance.now();
    let loss = 0;
    const batch: Record<string, Tensor | OrtTensor> = {};
    if (accumulate) {
      // Micro-batches 1..N−1 add their gradients into `<p>.grad`; the last runs the fused update on the sum.
      let grads: Record<string, OrtTensor> = {};
      for (const [n, p] of Object.entries(artifacts.params)) {
        grads[NAMES.grad(n)] = accumulate.toOrt({ ...p, data: new Float32Array(p.data.length) });
      }
      const params: Record<string, OrtTensor> = {};
      for (const [n, v] of Object.entries(runner.parameters())) params[n] = accumulate.toOrt(v);
      for (let k = 0; k < t.accumulate - 1; k++) {
        const feeds: Record<string, OrtTensor> = { ...params, ...grads };
        for (
          const [n, v] of Object.entries(makeFeeds(data, nextIndices(), new Rng(t.seed, "mask", step, k)))
        ) feeds[n] = accumulate.toOrt(v);
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
      Object.assign(batch, grads);
      batch[NAMES.gradScale] = {
        dtype: "float32",
        dims: [],
        data: Float32Array.of(1 / t.accumulate),
      } as Tensor;
    }
    Object.assign(batch, makeFeeds(data, nextIndices(), new Rng(t.seed, "mask", step, t.accumulate - 1)));
    const r = await runner.stepWithStats(batch, lr);
    loss = (loss + r.loss) / t.accumulate;
    step = runner.updates;
    tokensSeen += tokensPerUpdate;
    trainSeconds += (performance.now() - stepStart) / 1000;
    windowLoss += loss;
    windowNorm += r.gradNorm;
    windowSteps++;

    const now = performance.now();
    const rate = ((step - firstStep) * tokensPerUpdate) / ((now - t0) / 1000);
    progress.update(
      { step, total: lastStep, loss, tokensPerSecond: rate, extra: { lr } },
      ((lastStep - step) * tokensPerUpdate) / rate,
    );
    if (step % t.logEvery === 0 || step === lastStep) {
      await metrics.write({
        type: "train",
        step,
        loss: windowLoss / windowSteps,
        grad_norm: windowNorm / windowSteps,
        lr,
        tokens_per_s: (windowSteps * tokensPerUpdate) / ((now - windowStart) / 1000),
        tokens: tokensSeen,
        epoch: cursor.epoch,
        seconds: (now - windowStart) / 1000,
      });
      windowLoss = windowNorm = windowSteps = 0;
      windowStart = now;
    }
    if (t.evalEvery > 0 && step % t.evalEvery === 0 && step !== lastStep) {
      await logEval(step, lastEval = await evaluate());
    }
    if (t.saveEvery > 0 && step % t.saveEvery === 0 && step !== lastStep) {
      await saveCheckpoint(
        ckptDir,
        { ...runner.snapshot(), config: runState() },
        t.keepCheckpoints,
        t.keepEvery,
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const tokensPerSecond = ((step - firstStep) * tokensPerUpdate) / Math.max(seconds, 1e-9);
  progress.done();

  if (stopped && opts.saveOnStop && step > firstStep) {
    await saveCheckpoint(
      ckptDir,
      { ...runner.snapshot(), config: runState() },
      t.keepCheckpoints,
      t.keepEvery,
    );
    if (opts.export ?? true) {
      await exportModels(opts.out, cfg, runner.parameters(), vocabPath, (m) => progress.log(m));
    }
  }
  if (!stopped) {
    await saveCheckpoint(
      ckptDir,
      { ...runner.snapshot(), config: runState() },
      t.keepCheckpoints,
      t.keepEvery,
    );
    await logEval(step, lastEval = await evaluate());
    if (opts.export ?? true) {
      await exportModels(opts.out, cfg, runner.parameters(), vocabPath, (m) => progress.log(m));
    }
  }
  const params: Record<string, Tensor> = {};
  // Copies: the runner's buffers are released with its session.
  for (const [n, v] of Object.entries(runner.parameters())) {
    params[n] = { dtype: v.dtype, dims: [...v.dims], data: v.data.slice() };
  }
  metrics.close();
  await runner.release();
  await accumulate?.release();
  await evaluator.release();
  return { step, finished: !stopped, params, eval: lastEval, tokensPerSecond, resumedFrom };
}

/**
 * Writes OUT/model (joint, our format) and, when a vocabulary is known, the Hugging Face folders
 * OUT/discriminator and OUT/generator (via `cli/export.ts`).
 */
export async function exportModels(
  out: string,
  cfg: PretrainConfig,
  params: Record<string, Tensor>,
  vocabPath: string | undefined,
  log: (m: string) => void = console.error,
): Promise<void> {
  const modelDir = join(out, "model");
  const weights: Record<string, Tensor> = {};
  for (const [n, v] of Object.entries(params)) {
    weights[n] = { dtype: v.dtype, dims: [...v.dims], data: v.data.slice() };
  }
  const mlm = cfg.train.objective === "mlm";
  await writeModelFolder(
    mlm
      ? { kind: "masked-lm", config: cfg.model, weights }
      : { kind: "pretraining", config: cfg.model, generator: cfg.generator, weights },
    modelDir,
  );
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
