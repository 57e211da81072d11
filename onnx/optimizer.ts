/**
 * AdamW as an ONNX subgraph: one implementation with presets as thin wrappers (tinygrad `optim.py`).
 * `adamw` is PyTorch/Hugging Face AdamW (bias-corrected, eps 1e-8); `electraAdam` is ELECTRA's
 * `AdamWeightDecayOptimizer` (no bias correction, eps 1e-6, LayerNorm and bias excluded from decay,
 * global-norm clipping to 1.0). Learning rate and step are graph inputs, so schedules live outside.
 * @module
 */
import type { Value } from "./graph.ts";
import { add, div, min, mul, scalar, sqrt, sub } from "./ops.ts";

/** Hyperparameters of the one AdamW implementation. */
export interface OptimizerConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay rate (multiplied by the learning rate). */
  weightDecay: number;
  /** Divide the moments by 1 − βᵗ (PyTorch/HF) or not (ELECTRA's TF optimizer). */
  biasCorrection: boolean;
  /** Clip gradients to this global L2 norm; 0 or undefined: no clipping. */
  maxGradNorm?: number;
  /** Added to the norm in the clip coefficient maxNorm/(norm + clipEps): 1e-6 in PyTorch, 0 in TF. */
  clipEps?: number;
  /** Parameter names excluded from weight decay match any of these substrings. */
  noDecay: string[];
}

/** Hugging Face / PyTorch AdamW: bias-corrected, eps 1e-8, decay excludes `bias` and `LayerNorm.weight`. */
export function adamw(overrides: Partial<OptimizerConfig> = {}): OptimizerConfig {
  return {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    biasCorrection: true,
    maxGradNorm: 1.0,
    clipEps: 1e-6,
    noDecay: ["bias", "LayerNorm.weight"],
    ...overrides,
  };
}

/** ELECTRA's `AdamWeightDecayOptimizer`: no bias correction, eps 1e-6, decay 0.01 except LayerNorm/bias, clip 1.0. */
export function electraAdam(overrides: Partial<OptimizerConfig> = {}): OptimizerConfig {
  return {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-6,
    weightDecay: 0.01,
    biasCorrection: false,
    maxGradNorm: 1.0,
    clipEps: 0,
    noDecay: ["LayerNorm", "layer_norm", "bias"],
    ...overrides,
  };
}

/** Whether parameter `name` gets weight decay under `config`. */
export function decays(config: OptimizerConfig, name: string): boolean {
  return config.weightDecay > 0 && !config.noDecay.some((s) => name.includes(s));
}

/** One parameter's slot in the update: its value, gradient and moments, and the names of its outputs. */
export interface ParamSlot {
  name: string;
  param: Value;
  grad: Value;
  m: Value;
  v: Value;
  /** Output names for the new parameter and moments (default: generated). */
  outNames?: { param?: string; m?: string; v?: string };
}

/** Outputs of `adamwUpdate`. */
export interface UpdateResult {
  params: Map<string, { param: Value; m: Value; v: Value }>;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: Value;
}

/** √(Σ‖g‖²) over all gradients (`ReduceSumSquare`: one pass per gradient instead of Mul + ReduceSum). */
export function globalNorm(grads: Value[]): Value {
  const squares = grads.map((g) => g.graph.op("ReduceSumSquare", [g], { keepdims: 0 })[0]);
  const total = squares.length === 1 ? squares[0] : squares[0].graph.op("Sum", squares)[0];
  return sqrt(total);
}

/**
 * Emits the AdamW update for every slot. With t = `step` (1 for the first update), ĝ = g·c where
 * c = min(1, maxNorm/(‖g‖ + clipEps)) when clipping:
 *   m' = β₁m + (1 − β₁)ĝ,  v' = β₂v + (1 − β₂)ĝ²,
 *   p' = p − lr·(m'/b₁)/(√(v'/b₂) + ε) − lr·λ·p   (b = 1 − βᵗ, or 1 without bias correction;
 *   λ = 0 for parameters in `noDecay`).
 * `lr` and `step` are scalars of the parameters' dtype.
 *
 * Every full-size pass counts (the word embeddings alone are V×E), so all scalar factors are folded into
 * per-step scalars computed once: c·(1 − β₁) and c²·(1 − β₂) scale g and g² directly (no clipped copy of
 * g), the bias corrections move out of the square root as
 * (lr/b₁)·m'/(√(v'/b₂) + ε) = (lr·√b₂/b₁)·m'/(√v' + ε·√b₂), and decay is p·(1 − lr·λ). That is 13
 * elementwise passes per parameter instead of 15, and one (`ReduceSumSquare`) for the norm instead of 2.
 */
export function adamwUpdate(
  slots: ParamSlot[],
  lr: Value,
  step: Value,
  config: OptimizerConfig,
): UpdateResult {
  if (!slots.length) throw new Error("adamwUpdate(): no parameters");
  const g = lr.graph;
  const dtype = slots[0].param.dtype;
  const c = (v: number) => scalar(g, v, dtype);
  const gradNorm = globalNorm(slots.map((s) => s.grad));
  let mScale: Value = c(1 - config.beta1), vScale: Value = c(1 - config.beta2);
  if (config.maxGradNorm && config.maxGradNorm > 0) {
    const clip = min(div(c(config.maxGradNorm), add(gradNorm, c(config.clipEps ?? 0))), c(1));
    mScale = mul(clip, c(1 - config.beta1));
    vScale = mul(mul(clip, clip), c(1 - config.beta2));
  }
  // Per-step scalars shared by every parameter: the step size and ε, with the bias corrections folded in.
  let stepSize = lr, eps = c(config.eps);
  if (config.biasCorrection) {
    const b1 = sub(c(1), g.op("Pow", [c(config.beta1), step])[0]);
    const sqrtB2 = sqrt(sub(c(1), g.op("Pow", [c(config.beta2), step])[0]));
    stepSize = div(mul(lr, sqrtB2), b1);
    eps = mul(c(config.eps), sqrtB2);
  }
  const keep = config.weightDecay > 0 ? sub(c(1), mul(lr, c(config.weightDecay))) : undefined; // 1 − lr·λ
  const params = new Map<string, { param: Value; m: Value; v: Value }>();
  for (const s of slots) {
    const m = g.op("Add", [mul(s.m, c(config.beta1)), mul(s.grad, mScale)], {}, {
      names: [s.outNames?.m],
    })[0];
    const v = g.op("Add", [mul(s.v, c(config.beta2)), mul(mul(s.grad, s.grad), vScale)], {}, {
      names: [s.outNames?.v],
    })[0];
    const update = mul(div(m, add(sqrt(v), eps)), stepSize);
    const base = decays(config, s.name) ? mul(s.param, keep!) : s.param;
    const param = g.op("Sub", [base, update], {}, { names: [s.outNames?.param] })[0];
    params.set(s.name, { param, m, v });
  }
  return { params, gradNorm };
}
