/**
 * Training artifacts from one forward builder: `train_step.onnx` (forward, backward, clipping and AdamW
 * in one run), `eval.onnx` (loss and outputs, no dropout), `inference.onnx` (outputs only, weights inside),
 * optionally the gradient-accumulation pair, plus a step-0 checkpoint and a manifest.
 *
 * I/O naming convention (every name below is a graph input or output name):
 * - train_step inputs: the forward's batch inputs (as it declares them), `dropout_seed` (float32 scalar,
 *   only when the forward uses dropout), then for each trainable parameter `<p>`: `<p>`, `<p>.m`, `<p>.v`;
 *   then `step` (the update number t, 1 for the first update) and `lr`, scalars of the parameters' dtype.
 * - train_step outputs: `loss`, `grad_norm` (global L2 norm before clipping), and per parameter
 *   `<p>.new`, `<p>.m.new`, `<p>.v.new`.
 * - accumulate (grad_accum): batch inputs and `<p>`, `<p>.grad` in; `loss`, `<p>.grad.new` (= `<p>.grad` + ∇) out.
 * - train_step_accum: train_step's inputs plus `<p>.grad` (sum of the earlier micro-batches' gradients) and
 *   `grad_scale` (1/N for N micro-batches): the update uses (∇ + `<p>.grad`)·`grad_scale`.
 * - eval: batch inputs and `<p>` in; `loss` (when the forward makes one) and the forward's named outputs.
 * - inference: batch inputs in (the forward must not declare labels in "inference" mode); named outputs.
 * @module
 */
import { buildBackward } from "./autodiff.ts";
import { type DropoutFn, makeDropout } from "./dropout.ts";
import { type Dim, Graph, type Value } from "./graph.ts";
import { add, mul } from "./ops.ts";
import { adamw, adamwUpdate, type OptimizerConfig, type ParamSlot } from "./optimizer.ts";
import { type CheckpointState, encodeCheckpoint, initialState } from "./checkpoint.ts";
import type { DType, Tensor } from "./tensor.ts";

/** Which graph a forward builder is asked for. */
export type ForwardMode = "train" | "eval" | "inference";

/** What a forward builder receives besides the graph. */
export interface ForwardContext {
  mode: ForwardMode;
  /** Present in "train" mode only. */
  dropout?: DropoutFn;
}

/**
 * What a forward builder returns: a scalar loss (train/eval) and named outputs. They normally live in the
 * graph it was given; a builder that makes its own `Graph` returns values of that graph instead, and
 * that graph is used (its previously marked outputs are replaced by these).
 */
export interface ForwardResult {
  loss?: Value;
  outputs?: Record<string, Value>;
}

/** Builds the model into `g` (inputs, `g.param` weights, loss); called once per artifact. */
export type BuildForward = (g: Graph, ctx: ForwardContext) => ForwardResult;

/** Options of `buildTrainingArtifacts`. */
export interface ArtifactOptions {
  /** Trainable parameters: names, or a predicate on names (default: every float `g.param`). */
  params?: string[] | ((name: string) => boolean);
  optimizer?: OptimizerConfig;
  /** Also build `accumulate` and `train_step_accum` for gradient accumulation over micro-batches. */
  accumulation?: boolean;
  /** Initial weights overriding what the builder's `g.param` calls hold (same names, shapes, dtypes). */
  weights?: Record<string, Tensor>;
  /** Model metadata written into every artifact (e.g. the model config as JSON). */
  metadata?: Record<string, string>;
}

/** A graph input as the runner must feed it. */
export interface InputSpec {
  name: string;
  dtype: DType;
  shape: Dim[];
}

/** The built artifacts. */
export interface TrainingArtifacts {
  trainStep: Uint8Array;
  eval: Uint8Array;
  inference: Uint8Array;
  accumulate?: Uint8Array;
  trainStepAccum?: Uint8Array;
  /** Initial values of the trainable parameters, in input order. */
  params: Record<string, Tensor>;
  /** Batch inputs of train_step (without parameters, moments, step, lr, dropout_seed). */
  batchInputs: InputSpec[];
  /** Whether train_step takes `dropout_seed`. */
  dropout: boolean;
  optimizer: OptimizerConfig;
  /** Float type of parameters and of the `step`/`lr` scalars. */
  dtype: DType;
  /**
   * Where train_step's parts begin in its node list (forward from 0): what a profiler needs to tell the
   * forward pass, the gradient nodes and the clipping + optimizer update apart (only the first is scoped).
   */
  trainStepLayout?: TrainStepLayout;
}

/** Node indices of train_step where the backward pass and the optimizer update begin. */
export interface TrainStepLayout {
  backwardFrom: number;
  optimizerFrom: number;
}

/** Input/output names of the training graphs. */
export const NAMES = {
  loss: "loss",
  gradNorm: "grad_norm",
  step: "step",
  lr: "lr",
  seed: "dropout_seed",
  gradScale: "grad_scale",
  m: (p: string): string => `${p}.m`,
  v: (p: string): string => `${p}.v`,
  grad: (p: string): string => `${p}.grad`,
  newParam: (p: string): string => `${p}.new`,
  newM: (p: string): string => `${p}.m.new`,
  newV: (p: string): string => `${p}.v.new`,
  newGrad: (p: string): string => `${p}.grad.new`,
} as const;

const RESERVED = new Set<string>([NAMES.loss, NAMES.gradNorm, NAMES.step, NAMES.lr, NAMES.gradScale]);

/** Turns initializers into graph inputs of the same name (so the runner feeds their current values). */
function promoteToInputs(g: Graph, names: string[]): void {
  for (const n of names) {
    g.initializers.delete(n);
    g.inputs.push(g.values.get(n)!);
  }
}

function selectParams(g: Graph, sel: ArtifactOptions["params"]): string[] {
  const all = [...g.parameters].filter((n) => g.initializers.get(n)?.dtype.startsWith("float"));
  if (!sel) return all;
  if (typeof sel === "function") return all.filter(sel);
  for (const n of sel) {
    if (!g.parameters.has(n)) {
      throw new Error(`buildTrainingArtifacts(): "${n}" is not a parameter of the model`);
    }
  }
  return [...sel];
}

function overrideWeights(g: Graph, weights: Record<string, Tensor> | undefined, where: string): void {
  for (const [n, t] of Object.entries(weights ?? {})) {
    const old = g.initializers.get(n);
    if (!old) continue;
    if (old.dtype !== t.dtype || old.dims.join() !== t.dims.join()) {
      throw new Error(
        `${where}: weight "${n}" is ${t.dtype}[${t.dims}], the model has ${old.dtype}[${old.dims}]`,
      );
    }
    g.initializers.set(n, t);
  }
}

type Variant = "step" | "accumulate" | "stepAccum";

/** Runs the builder; returns the graph its values live in, with its outputs cleared. */
function forward(
  buildForward: BuildForward,
  given: Graph,
  ctx: ForwardContext,
): { g: Graph } & ForwardResult {
  const r = buildForward(given, ctx);
  const g = r.loss?.graph ?? Object.values(r.outputs ?? {})[0]?.graph ?? given;
  g.outputs.length = 0;
  return { g, ...r };
}

function buildTrainGraph(
  buildForward: BuildForward,
  options: ArtifactOptions,
  variant: Variant,
  weights: Record<string, Tensor> | undefined,
): { g: Graph; names: string[]; batchInputs: InputSpec[]; layout: TrainStepLayout } {
  const given = new Graph(
    variant === "step" ? "train_step" : variant === "accumulate" ? "accumulate" : "train_step_accum",
  );
  const { g, loss } = forward(buildForward, given, { mode: "train", dropout: makeDropout(NAMES.seed) });
  if (!loss) throw new Error("buildTrainingArtifacts(): the forward builder returned no loss in train mode");
  for (const i of g.inputs) {
    if (RESERVED.has(i.name)) {
      throw new Error(`buildTrainingArtifacts(): input name "${i.name}" is reserved`);
    }
  }
  const batchInputs = g.inputs.filter((v) => v.name !== NAMES.seed).map((v) => ({
    name: v.name,
    dtype: v.dtype,
    shape: [...v.shape],
  }));
  overrideWeights(g, weights, "buildTrainingArtifacts()");
  const names = selectParams(g, options.params);
  if (!names.length) throw new Error("buildTrainingArtifacts(): no trainable parameters");
  promoteToInputs(g, names);
  const backwardFrom = g.nodes.length;
  const grads = buildBackward(g, loss, names);
  g.output(loss, NAMES.loss);
  const layout = { backwardFrom, optimizerFrom: g.nodes.length };
  const dtype = g.values.get(names[0])!.dtype;
  const acc = variant === "step" ? undefined : new Map(names.map((n) => {
    const p = g.values.get(n)!;
    return [n, g.input(NAMES.grad(n), p.dtype, p.shape)] as const;
  }));
  if (variant === "accumulate") {
    for (const n of names) {
      g.outputs.push(g.op("Add", [grads.get(n)!, acc!.get(n)!], {}, { names: [NAMES.newGrad(n)] })[0]);
    }
    return { g, names, batchInputs, layout };
  }
  const scale = variant === "stepAccum" ? g.input(NAMES.gradScale, dtype, []) : undefined;
  const slots: ParamSlot[] = names.map((n) => {
    const param = g.values.get(n)!;
    const grad = scale ? mul(add(grads.get(n)!, acc!.get(n)!), scale) : grads.get(n)!;
    return {
      name: n,
      param,
      grad,
      m: g.input(NAMES.m(n), param.dtype, param.shape),
      v: g.input(NAMES.v(n), param.dtype, param.shape),
      outNames: { param: NAMES.newParam(n), m: NAMES.newM(n), v: NAMES.newV(n) },
    };
  });
  const step = g.input(NAMES.step, dtype, []);
  const lr = g.input(NAMES.lr, dtype, []);
  const { params, gradNorm } = adamwUpdate(slots, lr, step, options.optimizer ?? adamw());
  g.output(gradNorm, NAMES.gradNorm);
  for (const n of names) {
    const u = params.get(n)!;
    g.outputs.push(u.param, u.m, u.v);
  }
  return { g, names, batchInputs, layout };
}

/**
 * Builds train_step / eval / inference (and, with `accumulation`, accumulate / train_step_accum) from one
 * forward builder. The builder runs once per graph; the first (train) build's initial weights are used
 * for all of them unless `options.weights` gives others.
 */
export function buildTrainingArtifacts(
  buildForward: BuildForward,
  options: ArtifactOptions = {},
): TrainingArtifacts {
  const model = { metadata: options.metadata ?? {} };
  // Initial weights from one forward build, so that every graph starts from the same values.
  const { g: probe } = forward(buildForward, new Graph("probe"), {
    mode: "train",
    dropout: makeDropout(NAMES.seed),
  });
  overrideWeights(probe, options.weights, "buildTrainingArtifacts()");
  const weights: Record<string, Tensor> = {};
  for (const n of probe.parameters) weights[n] = probe.initializers.get(n)!;
  const { g: train, names, batchInputs, layout } = buildTrainGraph(buildForward, options, "step", weights);
  const params: Record<string, Tensor> = {};
  for (const n of names) params[n] = weights[n];

  const { g: evalGraph, ...ev } = forward(buildForward, new Graph("eval"), { mode: "eval" });
  overrideWeights(evalGraph, weights, "eval graph");
  promoteToInputs(evalGraph, names.filter((n) => evalGraph.initializers.has(n)));
  if (ev.loss) evalGraph.output(ev.loss, NAMES.loss);
  for (const [n, v] of Object.entries(ev.outputs ?? {})) evalGraph.output(v, n);

  const { g: infGraph, ...inf } = forward(buildForward, new Graph("inference"), { mode: "inference" });
  overrideWeights(infGraph, weights, "inference graph");
  const outs = Object.entries(inf.outputs ?? {});
  if (!outs.length) {
    throw new Error("buildTrainingArtifacts(): the forward builder returned no outputs in inference mode");
  }
  for (const [n, v] of outs) infGraph.output(v, n);

  const result: TrainingArtifacts = {
    trainStep: train.toBytes(model),
    eval: evalGraph.toBytes(model),
    inference: infGraph.toBytes(model),
    params,
    batchInputs,
    dropout: train.inputs.some((v) => v.name === NAMES.seed),
    optimizer: options.optimizer ?? adamw(),
    dtype: train.values.get(names[0])!.dtype,
    trainStepLayout: layout,
  };
  if (options.accumulation) {
    result.accumulate = buildTrainGraph(buildForward, options, "accumulate", weights).g.toBytes(model);
    result.trainStepAccum = buildTrainGraph(buildForward, options, "stepAccum", weights).g.toBytes(model);
  }
  return result;
}

/** The file set of an artifact folder: the graphs, `checkpoint.safetensors` (step 0) and `artifacts.json`. */
export async function artifactFiles(
  a: TrainingArtifacts,
  config?: unknown,
): Promise<Record<string, Uint8Array>> {
  const state: CheckpointState = initialState(a.params, config);
  const manifest = {
    format: "nersota-artifacts/1",
    files: {
      trainStep: "train_step.onnx",
      eval: "eval.onnx",
      inference: "inference.onnx",
      checkpoint: "checkpoint.safetensors",
      ...(a.accumulate ? { accumulate: "grad_accum.onnx", trainStepAccum: "train_step_accum.onnx" } : {}),
    },
    params: Object.keys(a.params),
    batchInputs: a.batchInputs,
    dropout: a.dropout,
    dtype: a.dtype,
    optimizer: a.optimizer,
    names:
      "inputs <p>, <p>.m, <p>.v, step, lr[, dropout_seed]; outputs loss, grad_norm, <p>.new, <p>.m.new, <p>.v.new",
  };
  const files: Record<string, Uint8Array> = {
    "train_step.onnx": a.trainStep,
    "eval.onnx": a.eval,
    "inference.onnx": a.inference,
    "checkpoint.safetensors": await encodeCheckpoint(state),
    "artifacts.json": new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
  };
  if (a.accumulate) files["grad_accum.onnx"] = a.accumulate;
  if (a.trainStepAccum) files["train_step_accum.onnx"] = a.trainStepAccum;
  return files;
}
