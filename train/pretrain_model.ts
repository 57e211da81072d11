/**
 * The pretraining model as a forward builder for `buildTrainingArtifacts`: the ELECTRA builders make
 * whole graphs of their own, while the artifact writer asks a builder to fill a graph it owns, so
 * `copyGraphInto` replays one graph into another (same names, so parameter names and the autodiff's
 * `stop_gradient_N` markers survive).
 * @module
 */
import type { BuildForward, ForwardResult } from "../onnx/artifacts.ts";
import { makeDropout } from "../onnx/dropout.ts";
import { Graph, type Value } from "../onnx/graph.ts";
import { buildPretrainingGraph, type ElectraConfig, type ParamSource, type Sampler } from "../onnx/electra/mod.ts";

/** Copies inputs, initializers (parameters stay parameters), nodes and outputs of `src` into `dst`. */
export function copyGraphInto(dst: Graph, src: Graph): Map<string, Value> {
  for (const v of src.inputs) dst.input(v.name, v.dtype, v.shape);
  for (const [name, t] of src.initializers) {
    dst.initializer(name, t);
    if (src.parameters.has(name)) dst.parameters.add(name);
  }
  for (const [domain, version] of Object.entries(src.opsets)) dst.opsets[domain] = version;
  const get = (n: string) => (n ? dst.values.get(n)! : undefined);
  for (const node of src.nodes) {
    const inputs = node.inputs.map(get);
    const options = { domain: node.domain, names: node.outputs, outputs: node.outputs.length };
    try {
      dst.op(node.opType, inputs, node.attrs, options);
    } catch {
      // An op the source built with explicit types (no shape rule): take its types from the source.
      const types = node.outputs.map((o) => ({ dtype: src.values.get(o)!.dtype, shape: [...src.values.get(o)!.shape] }));
      dst.op(node.opType, inputs, node.attrs, { ...options, types });
    }
  }
  const outputs = new Map<string, Value>();
  for (const o of src.outputs) outputs.set(o.name, dst.values.get(o.name)!);
  return outputs;
}

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
export const SCALAR_OUTPUTS = ["generator_loss", "discriminator_loss", "mlm_accuracy", "discriminator_accuracy"] as const;

/**
 * A `BuildForward` for RTD pretraining. Train mode: dropout from the artifact's `dropout_seed`; eval mode:
 * no dropout, plus per-token `discriminator_logits` and `is_replaced` (for the ROC-AUC computed in TS);
 * inference mode: `discriminator_logits` only.
 */
export function pretrainingForward(o: PretrainModelOptions): BuildForward {
  return (g, ctx): ForwardResult => {
    // The dropout function must build into the graph the ELECTRA builder makes (not `g`); one per graph,
    // declaring the same `dropout_seed` input the artifact writer feeds.
    const sites = new Map<Graph, (x: Value, rate: number) => Value>();
    const dropout = (x: Value, rate: number) => {
      if (!sites.has(x.graph)) sites.set(x.graph, makeDropout(x.graph, "dropout_seed"));
      return sites.get(x.graph)!(x, rate);
    };
    const src = buildPretrainingGraph({
      discriminator: o.discriminator,
      generator: o.generator,
      params: o.params,
      seed: o.seed,
      sampler: o.sampler,
      discriminatorWeight: o.discriminatorWeight,
      dropout: ctx.mode === "train" ? dropout : undefined,
      debugOutputs: ctx.mode !== "train",
    });
    const out = copyGraphInto(g, src);
    if (ctx.mode === "inference") return { outputs: { discriminator_logits: out.get("discriminator_logits")! } };
    const outputs: Record<string, Value> = {};
    for (const n of SCALAR_OUTPUTS) outputs[n] = out.get(n)!;
    if (ctx.mode === "eval") {
      outputs.discriminator_logits = out.get("discriminator_logits")!;
      outputs.is_replaced = out.get("is_replaced")!;
    }
    return { loss: out.get("loss")!, outputs };
  };
}
