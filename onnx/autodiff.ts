/**
 * Reverse-mode autodiff over a `Graph`: emits, into the same graph, the gradient subgraph of a scalar loss
 * with respect to trainable initializers, using the rules of `gradients.ts` (standard ONNX ops only).
 * Stop-gradient is explicit: an `Identity` made by `stopGradient` (output named `stop_gradient_N`).
 * @module
 */
import type { Graph, Node, Value } from "./graph.ts";
import { differentiable, gradContext, GRADIENTS, zerosLike } from "./gradients.ts";
import { tensor } from "./tensor.ts";
import { scalar } from "./ops.ts";

const STOP_PREFIX = "stop_gradient";

/** Marks `x` so that no gradient flows back through it (an `Identity` named `stop_gradient_N`). */
export function stopGradient(x: Value): Value {
  return x.graph.op("Identity", [x], {}, { names: [x.graph.fresh(STOP_PREFIX)] })[0];
}

/** Whether a node blocks gradients (the name convention survives saving and `Graph.fromModel`). */
export function isStopGradient(node: Node): boolean {
  return node.opType === "Identity" && node.outputs[0].startsWith(STOP_PREFIX);
}

/**
 * Emits the gradient of scalar `loss` w.r.t. each of `params` (values or initializer names) into `g`,
 * returning `param name → gradient value` (same shape and dtype as the parameter). A parameter the loss
 * does not depend on gets zeros. Throws, naming the op, when a node on the path has no gradient rule.
 */
export function buildBackward(g: Graph, loss: Value, params: (Value | string)[]): Map<string, Value> {
  const names = params.map((p) => (typeof p === "string" ? p : p.name));
  for (const n of names) {
    if (!g.values.has(n)) throw new Error(`buildBackward(): no value named "${n}" in graph "${g.name}"`);
  }
  if (loss.shape.some((d) => d !== 1)) throw new Error(`buildBackward(): loss must be a scalar, got ${loss}`);
  const value = (n: string) => (n ? g.values.get(n) : undefined);

  // Forward sweep: which float values depend on a parameter (only those can carry gradients).
  const live = new Set(names);
  const nodes = [...g.nodes]; // the gradient nodes appended below are not walked
  for (const node of nodes) {
    if (isStopGradient(node) || !node.inputs.some((n) => live.has(n))) continue;
    for (const o of node.outputs) if (o && differentiable(value(o)!)) live.add(o);
  }

  // Backward sweep: one loop in reverse, fan-out gradients collected per value and summed once when read.
  const pending = new Map<string, Value[]>();
  const memo = new Map<string, Value[]>(); // values rules share within this backward pass
  const gradOf = (n: string): Value | undefined => {
    const parts = pending.get(n);
    if (!parts?.length) return undefined;
    const sum = parts.length === 1 ? parts[0] : g.op("Sum", parts)[0];
    pending.set(n, [sum]);
    return sum;
  };
  if (!live.has(loss.name)) {
    throw new Error(`buildBackward(): the loss "${loss.name}" does not depend on any of the parameters`);
  }

  // d loss / d loss = 1 (a scalar, or a [1, …] tensor when the loss kept its reduced axes).
  pending.set(loss.name, [
    loss.rank === 0 ? scalar(g, 1, loss.dtype) : g.constant(tensor(loss.dtype, loss.shape as number[], [1])),
  ]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (isStopGradient(node)) continue;
    const grads = node.outputs.map((o) => (live.has(o) ? gradOf(o) : undefined));
    if (!grads.some((d) => d)) continue;
    const inputs = node.inputs.map(value);
    const needs = node.inputs.map((n) => live.has(n));
    if (!needs.some((x) => x)) continue;
    const rule = GRADIENTS[node.opType];
    if (!rule) {
      throw new Error(
        `buildBackward(): no gradient rule for ${node.opType} (node "${node.name}", output "${
          node.outputs[0]
        }"); ` +
          `add one to GRADIENTS in onnx/gradients.ts or stop the gradient before it`,
      );
    }
    let dx: (Value | undefined)[];
    try {
      dx = rule(
        gradContext({ g, node, inputs, outputs: node.outputs.map((o) => value(o)!), grads, needs, memo }),
      );
    } catch (e) {
      throw new Error(
        `buildBackward(): gradient of ${node.opType} (node "${node.name}"): ${(e as Error).message}`,
        { cause: e },
      );
    }
    node.inputs.forEach((n, k) => {
      const d = dx[k];
      if (!d || !needs[k]) return;
      const x = inputs[k]!;
      if (d.rank !== x.rank || d.dtype !== x.dtype) {
        throw new Error(
          `buildBackward(): ${node.opType} rule gave ${d} for input ${x} (node "${node.name}")`,
        );
      }
      pending.set(n, [...(pending.get(n) ?? []), d]);
    });
  }

  const out = new Map<string, Value>();
  for (const n of names) {
    const p = value(n)!;
    out.set(n, gradOf(n) ?? zerosLike(p));
  }
  return out;
}
