// The profiler's parts of a pretraining train step (train/pretrain/step_parts.ts), on the tiny config's graphs
// as the trainer builds them: every node lands in the part its scope and creation index say.
import assert from "node:assert/strict";
import { decodeModel, type NodeProto } from "../../../onnx/proto.ts";
import { type Objective, presetConfig } from "../../../train/pretrain/pretrain_config.ts";
import { buildPretrainArtifacts } from "../../../train/pretrain/pretrain_model.ts";
import { PRETRAIN_PARTS, pretrainStepParts } from "../../../train/pretrain/step_parts.ts";
import { nodeIndex } from "../../../train/run/step_profile.ts";

/** The tiny train step's nodes, each with its part, and the layout. */
async function classified(objective: Objective, sampler: "inverse-cdf" | "gumbel" = "inverse-cdf") {
  const a = buildPretrainArtifacts(await presetConfig("tiny", { objective, sampler, accumulate: 1 }));
  const layout = a.trainStepLayout!;
  const classify = pretrainStepParts(a.trainStep, layout, objective);
  const nodes = decodeModel(a.trainStep).graph!.node!;
  const parts = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    const p = classify(`${n.name}_kernel_time`);
    parts.set(p, [...(parts.get(p) ?? []), n]);
  }
  return { nodes, parts, layout, classify };
}

/** Op types of the nodes of a part. */
const ops = (nodes: NodeProto[] | undefined) => new Set((nodes ?? []).map((n) => n.opType));

/** The checks every train step's layout must pass: indices in order, backward unscoped, optimizer reads lr. */
function checkLayout(r: Awaited<ReturnType<typeof classified>>) {
  const { nodes, layout, classify } = r;
  assert.ok(0 < layout.backwardFrom && layout.backwardFrom < layout.optimizerFrom);
  assert.ok(layout.optimizerFrom < nodes.length);
  for (const n of nodes) {
    const name = n.name!, i = nodeIndex(name);
    assert.ok(i !== undefined, name);
    const reads = (name: string) => n.input!.some((x) => x === name || x.endsWith(`.${name}`));
    // The update reads lr and the moments; nothing before it does.
    if (reads("lr") || reads("m") || reads("v")) assert.equal(classify(name), "optimizer", name);
    if (i >= layout.backwardFrom && i < layout.optimizerFrom) {
      assert.equal(classify(name), "backward");
      assert.ok(!name.includes("/"), `gradient node ${name} has no scope`);
    }
  }
  assert.ok(r.parts.get("backward")!.length > r.parts.get("optimizer")!.length / 4);
}

Deno.test("ELECTRA step parts: generator encoder, its MLM head, sampler, discriminator, backward, optimizer", async () => {
  const r = await classified("electra");
  checkLayout(r);
  const P = PRETRAIN_PARTS;
  assert.deepEqual(
    new Set(r.parts.keys()),
    new Set([P.generatorEncoder, P.generatorHead, P.sampler, P.discriminator, "backward", "optimizer"]),
  );
  for (const n of r.nodes) {
    const name = n.name!, part = r.classify(name);
    if (name.startsWith("generator/electra/")) assert.equal(part, P.generatorEncoder, name);
    if (name.startsWith("generator/generator_predictions/")) assert.equal(part, P.generatorHead, name);
    if (name.startsWith("discriminator_predictions/")) assert.equal(part, P.discriminator, name);
    if (name.startsWith("electra/encoder/")) assert.equal(part, P.discriminator, name);
    if (n.opType === "CumSum") assert.equal(part, P.sampler, name); // the inverse-cdf sampler's two levels
  }
  // The head: the tied vocabulary projection (one Gemm), the softmax (ReduceMax, Exp) and the picked label logit.
  for (const op of ["Gemm", "Exp", "ReduceMax", "GatherElements", "LayerNormalization"]) {
    assert.ok(ops(r.parts.get(P.generatorHead)).has(op), op);
  }
  assert.ok(!ops(r.parts.get(P.generatorEncoder)).has("Gemm"));
  assert.ok(
    !ops(r.parts.get(P.generatorHead)).has("ArgMax"),
    "the accuracy needs no ArgMax over the vocabulary",
  );
  // The sampler ends in the replaced ids: the discriminator's targets are compared there.
  assert.ok(ops(r.parts.get(P.sampler)).has("CumSum"));
  assert.ok(
    ops(r.parts.get(P.discriminator)).has("Softmax") || ops(r.parts.get(P.discriminator)).has("MatMul"),
  );
});

Deno.test("ELECTRA step parts with the Gumbel sampler: its ArgMax over the noisy logits is the sampler", async () => {
  const r = await classified("electra", "gumbel");
  checkLayout(r);
  const sampler = r.parts.get(PRETRAIN_PARTS.sampler)!;
  assert.ok(sampler.some((n) => n.opType === "ArgMax"));
  assert.ok(!sampler.some((n) => n.opType === "CumSum"));
});

Deno.test("masked-LM step parts: encoder forward, MLM head, backward, optimizer", async () => {
  const r = await classified("mlm");
  checkLayout(r);
  const P = PRETRAIN_PARTS;
  assert.deepEqual(new Set(r.parts.keys()), new Set([P.encoder, P.mlmHead, "backward", "optimizer"]));
  for (const n of r.nodes) {
    const name = n.name!;
    if (name.startsWith("electra/")) assert.equal(r.classify(name), P.encoder, name);
    if (name.startsWith("generator_predictions/")) assert.equal(r.classify(name), P.mlmHead, name);
  }
  for (const op of ["Gemm", "Exp", "ReduceMax", "GatherElements"]) {
    assert.ok(ops(r.parts.get(P.mlmHead)).has(op), op);
  }
  assert.ok(!ops(r.parts.get(P.encoder)).has("Gemm"));
  assert.ok(!ops(r.parts.get(P.mlmHead)).has("ArgMax"), "the accuracy needs no ArgMax over the vocabulary");
});
