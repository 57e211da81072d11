/**
 * The RTD pretraining model (`onnx/electra/pretraining.ts`) as a forward builder for
 * `buildTrainingArtifacts`: which outputs each artifact (train, eval, inference) gets.
 * @module
 */
import {
  type BuildForward,
  buildTrainingArtifacts,
  type ForwardResult,
  type TrainingArtifacts,
} from "../../onnx/artifacts.ts";
import type { Value } from "../../onnx/graph.ts";
import {
  buildMaskedLmGraph,
  buildPretrainingGraph,
  type ElectraConfig,
  type ParamSource,
  type Sampler,
} from "../../onnx/electra/mod.ts";
import { electraAdam } from "../../onnx/optimizer.ts";
import type { PretrainConfig } from "./pretrain_config.ts";

/** What the pretraining forward builder needs. */
export interface PretrainModelOptions {
  discriminator: ElectraConfig;
  generator: ElectraConfig;
  /** Initial weights (joint graph-layout names); default: fresh init from `seed`. */
  params?: ParamSource;
  seed: number;
  discriminatorWeight: number;
  sampler: Sampler;
}

/** Scalar outputs of the pretraining graph, reported by training and evaluation. */
export const SCALAR_OUTPUTS = [
  "generator_loss",
  "discriminator_loss",
  "mlm_accuracy",
  "discriminator_accuracy",
] as const;

/**
 * A `BuildForward` for RTD pretraining. Train mode: dropout from the artifact's `dropout_seed`; eval mode:
 * no dropout, plus per-token `discriminator_logits` and `is_replaced` (for the ROC-AUC computed in TS);
 * inference mode: `discriminator_logits` only.
 */
export function pretrainingForward(o: PretrainModelOptions): BuildForward {
  return (_g, ctx): ForwardResult => {
    // The ELECTRA builder makes its own graph; the artifact writer then uses that graph (the values
    // returned belong to it). `ctx.dropout` declares `dropout_seed` in whichever graph it is used in.
    const src = buildPretrainingGraph({
      discriminator: o.discriminator,
      generator: o.generator,
      params: o.params,
      seed: o.seed,
      sampler: o.sampler,
      discriminatorWeight: o.discriminatorWeight,
      dropout: ctx.dropout,
      debugOutputs: ctx.mode !== "train",
    });
    const out = new Map(src.outputs.map((v) => [v.name, v]));
    if (ctx.mode === "inference") {
      return { outputs: { discriminator_logits: out.get("discriminator_logits")! } };
    }
    const outputs: Record<string, Value> = {};
    for (const n of SCALAR_OUTPUTS) outputs[n] = out.get(n)!;
    if (ctx.mode === "eval") {
      outputs.discriminator_logits = out.get("discriminator_logits")!;
      outputs.is_replaced = out.get("is_replaced")!;
    }
    return { loss: out.get("loss")!, outputs };
  };
}

/** Scalar outputs of the masked-LM graph besides `loss`. */
export const MLM_SCALAR_OUTPUTS = ["mlm_accuracy"] as const;

/**
 * A `BuildForward` for masked-LM pretraining on the full-width model (`buildMaskedLmGraph`): train mode with
 * dropout from the artifact's `dropout_seed`, eval mode without; inference mode outputs the (B, P, V) logits.
 */
export function maskedLmForward(
  o: { config: ElectraConfig; params?: ParamSource; seed: number },
): BuildForward {
  return (_g, ctx): ForwardResult => {
    const src = buildMaskedLmGraph({
      config: o.config,
      params: o.params,
      seed: o.seed,
      dropout: ctx.dropout,
      debugOutputs: ctx.mode === "inference",
    });
    const out = new Map(src.outputs.map((v) => [v.name, v]));
    if (ctx.mode === "inference") return { outputs: { mlm_logits: out.get("mlm_logits")! } };
    return { loss: out.get("loss")!, outputs: { mlm_accuracy: out.get("mlm_accuracy")! } };
  };
}

/** The forward builder of a config's objective: masked LM on the full-width model, or generator + discriminator. */
export function objectiveForward(cfg: PretrainConfig): BuildForward {
  const t = cfg.train;
  return t.objective === "mlm" ? maskedLmForward({ config: cfg.model, seed: t.seed }) : pretrainingForward({
    discriminator: cfg.model,
    generator: cfg.generator,
    seed: t.seed,
    discriminatorWeight: t.discWeight,
    sampler: t.sampler,
  });
}

/**
 * The artifacts a pretraining run trains with (its objective's graph, ELECTRA's AdamW with the config's
 * settings, the accumulation pair when it accumulates); the profiler builds the same ones.
 */
export function buildPretrainArtifacts(cfg: PretrainConfig): TrainingArtifacts {
  const t = cfg.train;
  const optimizer = electraAdam({
    eps: t.adamEpsilon,
    weightDecay: t.weightDecay,
    maxGradNorm: t.maxGradNorm,
  });
  return buildTrainingArtifacts(objectiveForward(cfg), { optimizer, accumulation: t.accumulate > 1 });
}
