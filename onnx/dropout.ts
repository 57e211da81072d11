/**
 * Portable dropout: the keep mask is a float hash of each element's position and a seed input, built from
 * standard ops (Range, Floor, Sin, Mul, Add), so it runs on every execution provider. ONNX `Dropout` in
 * training mode breaks WebGPU session creation and `RandomUniformLike` falls back to CPU there.
 * The mask enters as a plain `Mul`, so the gradient is the same mask, and it never needs a gradient rule.
 * @module
 */
import type { Graph, Value } from "./graph.ts";
import { add, cast, mul, scalar, sub } from "./ops.ts";

/** `(x, rate) → x` with dropout applied (the `Dropout` type of `onnx/electra`). */
export type DropoutFn = (x: Value, rate: number) => Value;

/** fract(v) = v − ⌊v⌋. */
function fract(v: Value): Value {
  return sub(v, v.graph.op("Floor", [v])[0]);
}

/** The classic shader hash fract(sin(a)·43758.5453), uniform enough on [0, 1) for moderate |a|. */
function hash(a: Value): Value {
  return fract(mul(a.graph.op("Sin", [a])[0], 43758.5453));
}

/**
 * A float32 uniform-[0, 1) value per element of `x`, a function of (position, seed, site) only. Positions
 * are split into i mod 4096 and ⌊i/4096⌋ so that the hashed arguments stay small (float32 keeps sin exact
 * enough), and two hash rounds decorrelate neighbours.
 */
export function uniformLike(x: Value, seed: Value, site: number): Value {
  const g = x.graph;
  const n = cast(g.op("Size", [x])[0], "float32");
  // A distinct symbolic size per site: ORT treats equal dim_params as equal sizes and reuses buffers by them.
  const i = g.op("Range", [scalar(g, 0), n, scalar(g, 1)], {}, {
    types: [{ dtype: "float32", shape: [g.fresh("dropout_n")] }],
  })[0];
  const hi = g.op("Floor", [mul(i, 1 / 4096)])[0];
  const lo = sub(i, mul(hi, 4096));
  const s = seed.dtype === "float32" ? seed : cast(seed, "float32");
  const h1 = hash(add(add(mul(lo, 12.9898), mul(hi, 78.233)), add(mul(s, 0.618034), site * 3.14159)));
  const h2 = hash(add(mul(h1, 113.5453), add(mul(lo, 0.1731), mul(s, 0.3183))));
  const shape = g.op("Shape", [x])[0];
  return g.op("Reshape", [h2, shape], {}, { types: [{ dtype: "float32", shape: [...x.shape] }] })[0];
}

/** The dropout mask of `x`: 1/(1 − rate) where kept, 0 where dropped, in x's dtype. */
export function dropoutMask(x: Value, rate: number, seed: Value, site = 0): Value {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  const g = x.graph;
  const keep = g.op("GreaterOrEqual", [uniformLike(x, seed, site), scalar(g, rate)], {}, {
    types: [{ dtype: "bool", shape: [...x.shape] }],
  })[0];
  return mul(cast(keep, x.dtype), 1 / (1 - rate));
}

/** x·mask with an inverted-dropout mask (expected value unchanged). */
export function dropout(x: Value, rate: number, seed: Value, site = 0): Value {
  return rate > 0 ? mul(x, dropoutMask(x, rate, seed, site)) : x;
}

/**
 * A dropout function for model builders: each call is a new site (its own mask stream); the seed input
 * (float32 scalar, default name `dropout_seed`) is declared in the value's graph on first use, so graphs
 * without dropout lack it.
 */
export function makeDropout(seedName = "dropout_seed"): DropoutFn {
  let site = 0;
  return (x, rate) => {
    if (!(rate > 0)) return x;
    const g: Graph = x.graph;
    const seed = g.values.get(seedName) ?? g.input(seedName, "float32", []);
    return dropout(x, rate, seed, site++);
  };
}
