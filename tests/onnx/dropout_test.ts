/**
 * Portable dropout: over 65,536 elements the keep rate is within 0.006 of 1 − p (≈ 4.5σ), neighbours along
 * rows and columns are uncorrelated (P(both dropped) within 0.006 of p²), masks repeat for equal seeds and sites and differ
 * otherwise, kept values are scaled by 1/(1 − p), and the gradient is the same mask.
 */
import assert from "node:assert/strict";
import { buildBackward } from "../../onnx/autodiff.ts";
import { makeDropout } from "../../onnx/dropout.ts";
import { Graph } from "../../onnx/graph.ts";
import { reduceSum } from "../../onnx/ops.ts";
import { openSession } from "../../onnx/runtime.ts";
import { tensor } from "../../onnx/tensor.ts";

const RATE = 0.1;
const SHAPE = [64, 32, 32];
const N = 64 * 32 * 32;

async function session() {
  const g = new Graph("drop");
  const x = g.input("x", "float32", ["b", 32, 32]);
  const drop = makeDropout();
  const y1 = drop(x, RATE), y2 = drop(x, RATE);
  g.output(y1, "y1");
  g.output(y2, "y2");
  g.output(buildBackward(g, reduceSum(y1), [x]).get("x")!, "dx");
  return await openSession(g.toBytes());
}

Deno.test("dropout keeps 1 − p of elements, scaled, with the mask as gradient", async () => {
  const s = await session();
  const ones = tensor("float32", SHAPE, new Float32Array(N).fill(1));
  const out = await s.run({ x: ones, dropout_seed: tensor("float32", [], [7]) });
  const y = out.y1.data as Float32Array;
  let kept = 0, bothDropped = 0, rowsBothDropped = 0;
  for (let i = 0; i < N; i++) {
    if (y[i] !== 0) {
      kept++;
      assert.ok(Math.abs(y[i] - 1 / (1 - RATE)) < 1e-6);
    }
    if (i + 1 < N && y[i] === 0 && y[i + 1] === 0) bothDropped++;
    if (i + 32 < N && y[i] === 0 && y[i + 32] === 0) rowsBothDropped++; // same column, next row
  }
  assert.ok(Math.abs(kept / N - (1 - RATE)) < 0.006, `keep rate ${kept / N}`);
  assert.ok(
    Math.abs(bothDropped / (N - 1) - RATE * RATE) < 0.006,
    `P(both dropped) ${bothDropped / (N - 1)}`,
  );
  assert.deepEqual(
    Array.from(out.dx.data as Float32Array),
    Array.from(y),
    "gradient of Σ y w.r.t. x is the mask",
  );
  await s.release();
});

Deno.test("dropout masks are deterministic per seed and differ between seeds and sites", async () => {
  const s = await session();
  const ones = tensor("float32", SHAPE, new Float32Array(N).fill(1));
  const run = async (seed: number) => await s.run({ x: ones, dropout_seed: tensor("float32", [], [seed]) });
  const a = await run(3), b = await run(3), c = await run(4);
  assert.deepEqual(Array.from(a.y1.data as Float32Array), Array.from(b.y1.data as Float32Array));
  const diff = (p: Float32Array, q: Float32Array) =>
    p.reduce((n, v, i) => n + ((v === 0) !== (q[i] === 0) ? 1 : 0), 0) / N;
  // Independent masks disagree at 2p(1 − p) = 18% of positions.
  const seeds = diff(a.y1.data as Float32Array, c.y1.data as Float32Array);
  const sites = diff(a.y1.data as Float32Array, a.y2.data as Float32Array);
  assert.ok(Math.abs(seeds - 0.18) < 0.01, `seed 3 vs 4 differ at ${seeds}`);
  assert.ok(Math.abs(sites - 0.18) < 0.01, `site 0 vs 1 differ at ${sites}`);
  await s.release();
});
