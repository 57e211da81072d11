/**
 * Cross-entropy and binary cross-entropy graphs against values computed here in TypeScript (float64,
 * agreement to 1e-12), including ignored labels, extreme logits (no overflow), and the cross-entropy
 * gradient against its closed form (softmax − one-hot)/count.
 */
import assert from "node:assert/strict";
import { buildBackward } from "../../onnx/autodiff.ts";
import { Graph } from "../../onnx/graph.ts";
import { binaryCrossEntropyWithLogits, crossEntropy } from "../../onnx/losses.ts";
import { openSession } from "../../onnx/runtime.ts";
import { tensor } from "../../onnx/tensor.ts";

const LOGITS = [1, 2, 3, 0.5, -1, 0, 1, 2, 1000, -1000, 999, 0];
const LABELS = [2, -100, 1, 2];

function ceReference(logits: number[], labels: number[], c: number) {
  let sum = 0, count = 0;
  const grad = logits.map(() => 0);
  labels.forEach((y, i) => {
    if (y === -100) return;
    const row = logits.slice(i * c, i * c + c);
    const m = Math.max(...row);
    const z = row.map((x) => Math.exp(x - m));
    const s = z.reduce((a, b) => a + b, 0);
    sum += Math.log(s) + m - row[y];
    count++;
    row.forEach((_, k) => (grad[i * c + k] = z[k] / s - (k === y ? 1 : 0)));
  });
  return { loss: count ? sum / count : 0, grad: grad.map((d) => (count ? d / count : 0)) };
}

async function ce(labels: number[]) {
  const g = new Graph("ce");
  const x = g.input("logits", "float64", [4, 3]);
  const y = g.input("labels", "int64", [4]);
  const loss = crossEntropy(x, y);
  g.output(loss, "loss");
  g.output(buildBackward(g, loss, [x]).get("logits")!, "grad");
  const s = await openSession(g.toBytes());
  const out = await s.run({
    logits: tensor("float64", [4, 3], LOGITS),
    labels: tensor("int64", [4], labels),
  });
  await s.release();
  return out;
}

Deno.test("crossEntropy() matches log-sum-exp computed in TS, ignoring -100, stable at ±1000", async () => {
  const ref = ceReference(LOGITS, LABELS, 3);
  const out = await ce(LABELS);
  assert.ok(Math.abs(Number(out.loss.data[0]) - ref.loss) < 1e-12, `${out.loss.data[0]} vs ${ref.loss}`);
  ref.grad.forEach((d, i) =>
    assert.ok(Math.abs(Number(out.grad.data[i]) - d) < 1e-12, `grad[${i}] ${out.grad.data[i]} vs ${d}`)
  );
  assert.ok(Number.isFinite(ref.loss));
});

Deno.test("crossEntropy() is 0 with zero gradient when every label is ignored", async () => {
  const out = await ce([-100, -100, -100, -100]);
  assert.equal(Number(out.loss.data[0]), 0);
  assert.ok(Array.from(out.grad.data as Float64Array).every((d) => d === 0));
});

Deno.test("binaryCrossEntropyWithLogits() matches the stable TS form, masked and unmasked", async () => {
  const xs = [-2, 0.5, 30, -40, 800, -800], ts = [0, 1, 1, 0, 0, 1], mask = [1, 1, 1, 0, 1, 1];
  const per = xs.map((x, i) => Math.max(x, 0) - x * ts[i] + Math.log1p(Math.exp(-Math.abs(x))));
  const masked = per.reduce((s, l, i) => s + l * mask[i], 0) / mask.reduce((a, b) => a + b, 0);
  const mean = per.reduce((a, b) => a + b, 0) / per.length;
  const g = new Graph("bce");
  const x = g.input("x", "float64", [6]), t = g.input("t", "float64", [6]), m = g.input("m", "float64", [6]);
  g.output(binaryCrossEntropyWithLogits(x, t, m), "masked");
  g.output(binaryCrossEntropyWithLogits(x, t), "mean");
  const s = await openSession(g.toBytes());
  const out = await s.run({
    x: tensor("float64", [6], xs),
    t: tensor("float64", [6], ts),
    m: tensor("float64", [6], mask),
  });
  assert.ok(Math.abs(Number(out.masked.data[0]) - masked) < 1e-12, `${out.masked.data[0]} vs ${masked}`);
  assert.ok(Math.abs(Number(out.mean.data[0]) - mean) < 1e-12, `${out.mean.data[0]} vs ${mean}`);
  await s.release();
});
