/**
 * Portable dropout: the keep mask is a float hash of each element's position and a seed input, built from
 * standard ops (Range, Floor, Sin, Mul, Add), so it runs on every execution provider. ONNX `Dropout` in
 * training mode breaks WebGPU session creation and `RandomUniformLike` falls back to CPU there.
 * The mask enters as a plain `Mul`, so the gradient is the same mask, and it never needs a gradient rule.
 * @module
 */
import type { Graph, Value } from "./graph.ts";
import { add, cast, ints, mul, scalar, sub } from "./ops.ts";

/** `(x, rate) → x` with dropout applied (the `Dropout` type of `onnx/electra`). */
export type DropoutFn = (x: Value, rate: number) => Value;

/** fract(v) = v − ⌊v⌋. */
function fract(v: Value): Value {
  return sub(v, v.graph.op("Floor", [v])[0]);
}

/** 0, 1, …, n − 1 as float32 (n an int64 scalar). */
function iota(g: Graph, n: Value): Value {
  return g.op("Range", [scalar(g, 0), cast(n, "float32"), scalar(g, 1)], {}, {
    types: [{ dtype: "float32", shape: [g.fresh("dropout_n")] }],
  })[0];
}

/** fract(i·k + offset): a Weyl sequence, equidistributed and collision-free for the i < 4096 used here. */
function weyl(i: Value, k: number, offset: Value): Value {
  return fract(add(mul(i, k), offset));
}

/**
 * A float32 uniform-[0, 1) value per element of `x` (…, C), a function of (position, seed, site) only.
 * Separable for speed: per-column offsets A_c and per-row offsets B_r come from Weyl sequences on small
 * vectors (rows split as r = 4096·hi + lo, exact in float32), and the full-size work is one broadcast Add
 * and one hash round h = fract(sin(A_c + B_r)·4375.85453). Arguments stay below ~2000 so that float32
 * sin is accurate, and the multiplier is small enough to leave ~11 bits below the point (keep-rate
 * resolution ≈ 5e-4) yet large enough to decorrelate rows whose offsets differ by ≥ 1e-2.
 */
export function uniformLike(x: Value, seed: Value, site: number): Value {
  const g = x.graph;
  const s = seed.dtype === "float32" ? seed : cast(seed, "float32");
  const offset = (k: number) => fract(add(mul(s, k), fractional(site * 0.7071067812 + k)));
  const shape = g.op("Shape", [x])[0];
  const last = x.shape[x.rank - 1];
  const cols = typeof last === "number"
    ? scalar(g, last, "int64")
    : g.op("Squeeze", [g.op("Shape", [x], { start: -1 })[0]])[0];
  const rows = g.op("Div", [g.op("Size", [x])[0], cols])[0];
  const a = mul(weyl(iota(g, cols), 0.569840291, offset(0.1234567)), 1000); // (C)
  const r = iota(g, rows);
  const hi = g.op("Floor", [mul(r, 1 / 4096)])[0];
  const lo = sub(r, mul(hi, 4096));
  const b0 = add(
    mul(weyl(lo, 0.6180339887, offset(0.3183099)), 1000),
    weyl(hi, 0.7548776662, offset(0.2718282)),
  ); // (R)
  const rowShape =
    g.op("Concat", [g.op("Slice", [shape, ints(g, [0]), ints(g, [-1])])[0], ints(g, [1])], { axis: 0 })[0];
  const b = g.op("Reshape", [b0, rowShape], {}, {
    types: [{ dtype: "float32", shape: [...x.shape.slice(0, -1), 1] }],
  })[0]; // (…, 1)
  return fract(mul(g.op("Sin", [add(b, a)])[0], 4375.85453)); // (…, C)
}

const fractional = (v: number): number => v - Math.floor(v);

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
