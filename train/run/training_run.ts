/**
 * The skeleton both training loops (pretraining, fine-tuning) run in: a run folder that belongs to one run
 * (`run_folder.ts`), a resume from the newest valid checkpoint with the config it recorded, `run.json`,
 * `metrics.jsonl` cut back to the resumed step, checkpoints with rotation, the stop request (`stopAfter`,
 * an AbortSignal, `stopOnSignal` for SIGINT/SIGTERM), a window of training statistics per metrics line, the
 * call's clock for progress, and the ONNX Runtime sessions, released however the run ends
 * (`await using run = await TrainingRun.open(…)`).
 * @module
 */
import { join } from "node:path";
import type { CheckpointState } from "../../onnx/checkpoint.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { loadLatestCheckpoint, saveCheckpoint } from "./checkpoints.ts";
import { MetricsLog, type MetricsRecord, truncateAfter } from "./metrics_log.ts";
import { Progress } from "./progress.ts";
import { prepareRunFolder, readRunRecord } from "./run_folder.ts";

/** What a loop stores in its checkpoints' metadata: a format tag and its config as JSON, then its own fields. */
export interface RunState {
  format: string;
  config: Record<string, unknown>;
}

/** The options of a training call that the skeleton reads. */
export interface RunOptions<C> {
  /** The run's config; a resume replaces it with the one the checkpoint recorded. */
  config: C;
  out: string;
  /** Continue from the newest valid checkpoint in OUT/checkpoints (fresh start when there is none). */
  resume?: boolean;
  /** A new run empties an OUT that holds another run (without it, a non-empty OUT is refused). */
  clear?: boolean;
  /** Stop after this many updates in this call, without the final save (a killed run, in tests). */
  stopAfter?: number;
  /** Stops the loop at the next update when aborted. */
  signal?: AbortSignal;
  quiet?: boolean;
}

/** How a loop's checkpoints are recognised and its config recovered from them. */
export interface RunKind<S extends RunState, C> {
  /** The `format` tag of the loop's run state. */
  format: S["format"];
  /** What the loop does, for errors: "fine-tuning", "pretraining". */
  what: string;
  /** The config to continue with, from a checkpoint's run state; throws when the call asks for other settings. */
  resumedConfig(saved: S, path: string): C;
}

/** The checkpoint a run continues from. */
export interface Resumed<S> {
  state: CheckpointState;
  /** Its run state (`state.config`). */
  saved: S;
  path: string;
}

/** Anything holding runtime memory: a session, a `TrainRunner`. */
export interface Releasable {
  release(): Promise<void>;
}

/** The means over the updates of one metrics line, and their token rate. */
export interface WindowStats {
  loss: number;
  gradNorm: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
}

/** Running sums of the updates since the last metrics line. */
export class StatsWindow {
  private loss = 0;
  private gradNorm = 0;
  private steps = 0;
  private tokens = 0;

  /** A window opened at `start` (a `performance.now()` time). */
  constructor(private start: number) {}

  /** Adds one update. */
  add(loss: number, gradNorm: number, tokens: number): void {
    this.loss += loss;
    this.gradNorm += gradNorm;
    this.steps++;
    this.tokens += tokens;
  }

  /** The window's means and rate at `now`; the next window opens there. */
  take(now: number): WindowStats {
    const seconds = (now - this.start) / 1000;
    const stats = {
      loss: this.loss / this.steps,
      gradNorm: this.gradNorm / this.steps,
      tokens: this.tokens,
      seconds,
      tokensPerSecond: this.tokens / seconds,
    };
    this.loss =
      this.gradNorm =
      this.steps =
      this.tokens =
        0;
    this.start = now;
    return stats;
  }
}

/** Copies of tensors (a runner's parameters are views of buffers that later steps overwrite and release frees). */
export function copyTensors(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [n, t] of Object.entries(tensors)) {
    out[n] = { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() } as Tensor;
  }
  return out;
}

/**
 * An AbortSignal fired by SIGINT/SIGTERM, for a loop's `signal`: an interrupted run ends at a step boundary
 * (with a checkpoint where the loop saves on stop); a second signal exits at once. `name` starts the message.
 */
export function stopOnSignal(name: string): AbortSignal {
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      if (controller.signal.aborted) Deno.exit(130); // a second signal: stop now
      console.error(`${name}: ${sig}: stopping after this step (send again to stop at once)`);
      controller.abort();
    });
  }
  return controller.signal;
}

/** One training run in its output folder (see the module doc). */
export class TrainingRun<S extends RunState, C> implements AsyncDisposable {
  readonly progress: Progress;
  readonly checkpointDir: string;
  private metricsLog?: MetricsLog;
  private readonly owned: Releasable[] = [];
  private t0 = 0;
  private window = new StatsWindow(0);
  private tokensThisCall = 0;

  private constructor(
    private readonly opts: RunOptions<C>,
    /** The config the run trains with (the recorded one on a resume). */
    readonly config: C,
    /** The checkpoint this call continues from (undefined: a fresh start). */
    readonly resumed: Resumed<S> | undefined,
    progress: Progress,
  ) {
    this.progress = progress;
    this.checkpointDir = join(opts.out, "checkpoints");
  }

  /**
   * Starts a run in `opts.out`: a new run's folder must be empty (or `clear`ed); a resume loads the newest
   * checkpoint that verifies and continues under the config it recorded.
   */
  static async open<S extends RunState, C>(
    opts: RunOptions<C>,
    kind: RunKind<S, C>,
  ): Promise<TrainingRun<S, C>> {
    const progress = new Progress({ quiet: opts.quiet, every: 10 });
    const checkpointDir = join(opts.out, "checkpoints");
    if (!opts.resume) {
      await prepareRunFolder(opts.out, opts.clear);
      return new TrainingRun<S, C>(opts, opts.config, undefined, progress);
    }
    // Not progress.log: --quiet silences progress, never a damaged checkpoint.
    const found = await loadLatestCheckpoint(checkpointDir, (m) => console.error(m));
    if (!found) {
      progress.log(`No checkpoint in "${checkpointDir}": starting from scratch`);
      return new TrainingRun<S, C>(opts, opts.config, undefined, progress);
    }
    const saved = found.state.config as S;
    if (saved?.format !== kind.format) {
      throw new Error(`Checkpoint "${found.path}" is not a ${kind.what} checkpoint`);
    }
    // The run continues under the config it started with (a changed schedule would not be the same run).
    const config = kind.resumedConfig(saved, found.path);
    progress.log(`Resuming from "${found.path}" at step ${found.state.step}`);
    return new TrainingRun(opts, config, { state: found.state, saved, path: found.path }, progress);
  }

  /** The step the run starts this call at. */
  get firstStep(): number {
    return this.resumed?.state.step ?? 0;
  }

  /** Prints a line above the progress line (nothing when quiet). */
  log(message: string): void {
    this.progress.log(message);
  }

  /** `run.json` as the resumed run recorded it (undefined on a fresh start). */
  async recorded(): Promise<Record<string, unknown> | undefined> {
    return this.resumed ? await readRunRecord(this.opts.out) : undefined;
  }

  /** Releases `resource` when the run ends, in the order taken; returns it. */
  own<R extends Releasable>(resource: R): R {
    this.owned.push(resource);
    return resource;
  }

  /**
   * Writes `run.json` and opens `metrics.jsonl`: a fresh run's starts empty, a resumed run's keeps the lines
   * up to the checkpoint (the ones after it belong to the abandoned future).
   */
  async begin(record: Record<string, unknown>): Promise<void> {
    await Deno.mkdir(this.opts.out, { recursive: true });
    await writeFileAtomic(
      join(this.opts.out, "run.json"),
      new TextEncoder().encode(JSON.stringify(record, null, 2) + "\n"),
    );
    const path = join(this.opts.out, "metrics.jsonl");
    if (this.resumed) await truncateAfter(path, this.resumed.state.step);
    else await Deno.remove(path).catch(() => {});
    this.metricsLog = await MetricsLog.open(path);
  }

  /** Appends one line to `metrics.jsonl`. */
  async write(record: MetricsRecord): Promise<void> {
    if (!this.metricsLog) throw new Error("TrainingRun.write() before begin(): metrics.jsonl is not open");
    await this.metricsLog.write(record);
  }

  /** Starts the call's clock (tokens per second, ETA) and the first statistics window. */
  startClock(): void {
    this.t0 = performance.now();
    this.window = new StatsWindow(this.t0);
  }

  /** Seconds since `startClock`. */
  seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Tokens trained on in this call. */
  get tokens(): number {
    return this.tokensThisCall;
  }

  /** Whether to stop before the next update: `stopAfter` updates done in this call, or the signal aborted. */
  stopRequested(step: number): boolean {
    const { stopAfter, signal } = this.opts;
    return (stopAfter !== undefined && step - this.firstStep >= stopAfter) || !!signal?.aborted;
  }

  /**
   * Counts one update (its loss, gradient norm and tokens) into the statistics window and redraws the
   * progress line, `extra` fields after the rate.
   */
  count(
    u: { step: number; total: number; loss: number; gradNorm: number; tokens: number },
    extra: Record<string, number>,
  ): void {
    this.window.add(u.loss, u.gradNorm, u.tokens);
    this.tokensThisCall += u.tokens;
    const elapsed = (performance.now() - this.t0) / 1000;
    this.progress.update(
      { step: u.step, total: u.total, loss: u.loss, tokensPerSecond: this.tokensThisCall / elapsed, extra },
      ((u.total - u.step) * elapsed) / Math.max(1, u.step - this.firstStep),
    );
  }

  /** The statistics window since the last metrics line; a new one opens. */
  takeWindow(): WindowStats {
    return this.window.take(performance.now());
  }

  /** Writes `state` as a checkpoint, keeping the newest `keep` (and multiples of `keepEvery`); returns its path. */
  async save(state: CheckpointState, keep: number, keepEvery = 0): Promise<string> {
    return await saveCheckpoint(this.checkpointDir, state, keep, keepEvery);
  }

  /**
   * Ends the progress line, closes `metrics.jsonl` and releases every session taken, however the run ended; a
   * release that fails does not keep the others from running, and its error is thrown after them.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.progress.done();
    this.metricsLog?.close();
    this.metricsLog = undefined;
    const errors: unknown[] = [];
    for (const r of this.owned.splice(0)) await r.release().catch((e) => errors.push(e));
    if (errors.length === 1) throw errors[0];
    if (errors.length) throw new AggregateError(errors, `${errors.length} sessions failed to release`);
  }
}
