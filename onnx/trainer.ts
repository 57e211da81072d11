/**
 * Drives `train_step.onnx` step after step. Parameters and Adam moments live as ONNX Runtime tensors:
 * each run's `<p>.new`, `<p>.m.new`, `<p>.v.new` outputs become the next run's `<p>`, `<p>.m`, `<p>.v`
 * inputs by reference (no JS-side copy of the weights); the `step`, `lr` and `dropout_seed` scalars are
 * single reused buffers. Checkpoints are `snapshot()` → `encodeCheckpoint` and `decodeCheckpoint` →
 * `TrainRunner.open`; the caller writes the files, so this module stays browser-safe.
 * @module
 */
import { NAMES } from "./artifacts.ts";
import type { CheckpointState } from "./checkpoint.ts";
import { fromOrt, openSession, type OrtTensor, type Session, type SessionOptions } from "./runtime.ts";
import type { DType, Tensor } from "./tensor.ts";

/** Options of `TrainRunner.open`. */
export interface TrainRunnerOptions extends SessionOptions {
  /**
   * Let ORT write each step's new parameters and moments into a second, reused set of buffers (double
   * buffering) instead of allocating fresh ones every step (default true). Native providers only: onnxruntime-web
   * 1.30 returns a pre-allocated CPU output unwritten, so on `wasm` and `webgpu` this is always off.
   */
  preallocateOutputs?: boolean;
  /** Base of the per-step dropout seed (seed = (base + step) mod 65536, so resuming repeats the masks). */
  seed?: number;
}

/** Result of one training step. */
export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** Runs a train-step artifact, holding parameters and moments as runtime tensors. */
export class TrainRunner {
  private state = new Map<string, OrtTensor>();
  /** Second set of state buffers for ORT to write the next state into (when preallocating). */
  private spare = new Map<string, OrtTensor>();
  private readonly preallocate: boolean;
  private readonly scalars: Record<string, { buf: Float32Array | Float64Array; ort: OrtTensor }> = {};
  private readonly outputNames: string[];
  private constructor(
    readonly session: Session,
    readonly params: readonly string[],
    dtype: DType,
    private readonly options: TrainRunnerOptions,
    private done: number,
  ) {
    // onnxruntime-web hands a pre-allocated CPU output back untouched (a training step then "updates" the
    // weights to the spare buffers' zeros): only native sessions get double buffering.
    const web = options.provider === "wasm" || options.provider === "webgpu";
    this.preallocate = (options.preallocateOutputs ?? true) && !web;
    for (const name of [NAMES.step, NAMES.lr, NAMES.seed]) {
      const buf = dtype === "float64" && name !== NAMES.seed ? new Float64Array(1) : new Float32Array(1);
      this.scalars[name] = {
        buf,
        ort: session.toOrt({
          dtype: buf instanceof Float64Array ? "float64" : "float32",
          dims: [],
          data: buf,
        }),
      };
    }
    this.outputNames = [
      NAMES.loss,
      NAMES.gradNorm,
      ...params.flatMap((p) => [NAMES.newParam(p), NAMES.newM(p), NAMES.newV(p)]),
    ];
  }

  /**
   * Opens `train_step.onnx` (bytes or path) and loads a starting state: `initialState(artifacts.params)`, or
   * a checkpoint's `decodeCheckpoint` to resume from its step.
   */
  static async open(
    model: Uint8Array | string,
    start: CheckpointState,
    options: TrainRunnerOptions = {},
  ): Promise<TrainRunner> {
    // A train step runs one input shape over and over, so ORT's memory pattern buys nothing after the first
    // run, yet its planned block comes on top of the arena chunks the first run left (peak memory: see
    // docs/benchmarks.md, "Measurements behind the code"). Callers can still pass `enableMemPattern: true`.
    // Idle threads do not spin: a training step's kernels are long, and spinning starves other work.
    const session = await openSession(model, { enableMemPattern: false, allowSpinning: false, ...options });
    const params = Object.keys(start.params);
    const inputs = new Set(session.inputNames);
    for (const p of params) {
      if (!inputs.has(p)) {
        throw new Error(
          `TrainRunner: the train step has no input "${p}" (is it a train_step.onnx for this model?)`,
        );
      }
    }
    const missing = [...inputs].filter((n) => n.endsWith(".m") && !(n.slice(0, -2) in start.params));
    if (missing.length) {
      throw new Error(
        `TrainRunner: the starting state lacks parameters ${missing.map((n) => n.slice(0, -2)).join(", ")}`,
      );
    }
    const runner = new TrainRunner(session, params, start.params[params[0]].dtype, options, start.step);
    runner.load(start);
    return runner;
  }

  /** Number of updates applied so far. */
  get updates(): number {
    return this.done;
  }

  private load(s: CheckpointState): void {
    this.state.clear();
    this.spare.clear();
    for (const p of this.params) {
      for (const [name, t] of [[p, s.params[p]], [NAMES.m(p), s.m[p]], [NAMES.v(p), s.v[p]]] as const) {
        if (!t) throw new Error(`TrainRunner: state lacks "${name}"`);
        // One copy at load time: the runner then owns (and overwrites) these buffers, never the caller's.
        this.state.set(name, this.session.toOrt({ dtype: t.dtype, dims: [...t.dims], data: t.data.slice() }));
        if (this.preallocate) {
          const data = new (t.data.constructor as new (n: number) => Tensor["data"])(t.data.length);
          this.spare.set(name, this.session.toOrt({ dtype: t.dtype, dims: [...t.dims], data }));
        }
      }
    }
    this.done = s.step;
  }

  /** One optimizer update on `batch` with learning rate `lr`; returns the loss (before the update) and grad norm. */
  async stepWithStats(batch: Record<string, Tensor | OrtTensor>, lr: number): Promise<StepResult> {
    const feeds: Record<string, OrtTensor> = {};
    // Plain tensors have `dtype`, ORT tensors `type`: wrap the former (no copy), pass the latter through.
    for (const [k, v] of Object.entries(batch)) feeds[k] = "dtype" in v ? this.session.toOrt(v as Tensor) : v;
    for (const [k, v] of this.state) feeds[k] = v;
    const t = this.done + 1;
    this.scalars[NAMES.step].buf[0] = t;
    this.scalars[NAMES.lr].buf[0] = lr;
    this.scalars[NAMES.seed].buf[0] = ((this.options.seed ?? 0) + t) % 65536;
    for (const name of [NAMES.step, NAMES.lr, NAMES.seed]) {
      if (name !== NAMES.seed || this.session.inputNames.includes(name)) feeds[name] = this.scalars[name].ort;
    }
    const outName = (key: string) => `${key}.new`; // <p>.new, <p>.m.new, <p>.v.new
    if (this.preallocate) {
      // Double buffering: ORT writes the new state into the spare buffers, which then become the state.
      const fetches: Record<string, OrtTensor | null> = { [NAMES.loss]: null, [NAMES.gradNorm]: null };
      for (const [key, t] of this.spare) fetches[outName(key)] = t;
      // deno-lint-ignore no-explicit-any
      const out = await this.session.runOrt(feeds, fetches as any);
      const swapped = this.state;
      this.state = this.spare;
      this.spare = swapped;
      this.done = t;
      return { loss: Number(out[NAMES.loss].data[0]), gradNorm: Number(out[NAMES.gradNorm].data[0]) };
    }
    const out = await this.session.runOrt(feeds, this.outputNames);
    for (const key of [...this.state.keys()]) this.state.set(key, out[outName(key)]);
    this.done = t;
    return { loss: Number(out[NAMES.loss].data[0]), gradNorm: Number(out[NAMES.gradNorm].data[0]) };
  }

  /** One update; returns the loss on `batch` before the update. */
  async step(batch: Record<string, Tensor | OrtTensor>, lr: number): Promise<number> {
    return (await this.stepWithStats(batch, lr)).loss;
  }

  /** Current parameters as plain tensors: views of the runner's buffers, overwritten by later steps (copy to keep). */
  parameters(): Record<string, Tensor> {
    return Object.fromEntries(this.params.map((p) => [p, fromOrt(this.state.get(p))]));
  }

  /** The training state (parameters, moments, step): views of the runner's buffers, for `encodeCheckpoint`. */
  snapshot(): CheckpointState {
    const s: CheckpointState = { params: {}, m: {}, v: {}, step: this.done };
    for (const p of this.params) {
      s.params[p] = fromOrt(this.state.get(p));
      s.m[p] = fromOrt(this.state.get(NAMES.m(p)));
      s.v[p] = fromOrt(this.state.get(NAMES.v(p)));
    }
    return s;
  }

  /** Releases the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
