/**
 * The parts of a pretraining train step, for the profiler (`train/run/step_profile.ts`): which forward
 * node belongs to which part, read from the scopes the graph builders put in node names
 * (onnx/electra/pretraining.ts, masked_lm.ts) and the creation index every name ends with.
 * - ELECTRA: nodes up to the generator's encoder (`generator/electra/…`, with the shared mask and
 *   attention-bias preparation before it) are the generator encoder; the rest of the `generator/` scope is
 *   its masked-LM head (vocabulary projection, softmax, loss); the unscoped nodes after it, up to the
 *   discriminator's encoder (`electra/…`), are the sampler and the replaced ids; the rest of the forward is
 *   the discriminator (encoder, head, loss).
 * - Masked LM: nodes up to the end of the encoder (`electra/…`) are the encoder; the rest is the head.
 * @module
 */
import type { TrainStepLayout } from "../../onnx/artifacts.ts";
import { GENERATOR_PREFIX } from "../../onnx/electra/pretraining.ts";
import { decodeModel } from "../../onnx/proto.ts";
import { nodeIndex, partsByIndex } from "../run/step_profile.ts";
import type { Objective } from "./pretrain_config.ts";

/** Part names of a pretraining step's forward pass. */
export const PRETRAIN_PARTS = {
  generatorEncoder: "generator forward: encoder",
  generatorHead: "generator forward: MLM head (vocab projection, softmax, loss)",
  sampler: "sampler (+ replaced ids)",
  discriminator: "discriminator forward (encoder, head, loss)",
  encoder: "forward: encoder",
  mlmHead: "MLM head (vocab projection, softmax, loss)",
} as const;

/** Index range [first, last] of the nodes whose names start with one of `prefixes` (and index > `after`). */
function span(names: readonly string[], prefixes: string[], after = -1): [number, number] {
  let first = Infinity, last = -1;
  for (const n of names) {
    const i = nodeIndex(n);
    if (i === undefined || i <= after || !prefixes.some((p) => n.startsWith(p))) continue;
    first = Math.min(first, i);
    last = Math.max(last, i);
  }
  if (last < 0) throw new Error(`No node named ${prefixes.join(" or ")}… in the pretraining graph`);
  return [first, last];
}

/** Names the forward part of each node index of a pretraining graph, from its node names (see the module doc). */
export function pretrainForwardParts(
  names: readonly string[],
  objective: Objective,
): (index: number) => string {
  if (objective === "mlm") {
    const [, encoderLast] = span(names, ["electra/"]);
    return (i) => i <= encoderLast ? PRETRAIN_PARTS.encoder : PRETRAIN_PARTS.mlmHead;
  }
  const [, generatorLast] = span(names, [`${GENERATOR_PREFIX}/`]);
  const [, generatorEncoderLast] = span(names, [`${GENERATOR_PREFIX}/electra/`]);
  const [discriminatorFrom] = span(names, ["electra/", "discriminator_predictions/"], generatorLast);
  return (i) =>
    i <= generatorEncoderLast
      ? PRETRAIN_PARTS.generatorEncoder
      : i <= generatorLast
      ? PRETRAIN_PARTS.generatorHead
      : i < discriminatorFrom
      ? PRETRAIN_PARTS.sampler
      : PRETRAIN_PARTS.discriminator;
}

/** Classifies a pretraining train_step's (profile) node names into forward parts, backward and optimizer. */
export function pretrainStepParts(
  trainStep: Uint8Array,
  layout: TrainStepLayout,
  objective: Objective,
): (name: string) => string {
  const names = (decodeModel(trainStep, "train_step.onnx").graph?.node ?? []).map((n) => n.name ?? "");
  return partsByIndex(layout, pretrainForwardParts(names, objective));
}
