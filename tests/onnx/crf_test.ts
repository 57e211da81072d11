/**
 * The ONNX CRF loss (onnx/crf.ts) against the float64 TypeScript reference (train/finetune/crf_loss_reference.ts,
 * itself checked by brute force): value and autodiff gradients of emissions, transitions, start and end,
 * in float64 on onnxruntime-node CPU, for a padded batch whose sequence size is shorter than the unrolled
 * length (the symbolic-length path), plus central finite differences of the graph itself.
 */
import assert from "node:assert/strict";
import { buildBackward } from "../../onnx/autodiff.ts";
import { CRF_NAMES, crfLoss, crfParams, initCrfTensors } from "../../onnx/crf.ts";
import { Graph } from "../../onnx/graph.ts";
import { openSession, type Session } from "../../onnx/runtime.ts";
import { type Tensor, tensor } from "../../onnx/tensor.ts";
import { crfNllBatch } from "../../train/finetune/crf_loss_reference.ts";

function rng(seed: number) {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  };
}

const B = 3, T = 5, L = 4, MAX = 7;
const lengths = [5, 2, 1];

function makeCase(seed: number) {
  const r = rng(seed);
  const emissions = Array.from(
    { length: B },
    () => Array.from({ length: T }, () => Array.from({ length: L }, () => r(-2, 2))),
  );
  const tags = Array.from(
    { length: B },
    (_, b) => Array.from({ length: T }, (_, t) => (t < lengths[b] ? Math.floor(r(0, L)) : -100)),
  );
  const crf = initCrfTensors(L, seed, "float64");
  // Larger than pytorch-crf's init so the transitions matter in the check.
  for (const t of Object.values(crf)) {
    for (let i = 0; i < t.data.length; i++) (t.data as Float64Array)[i] *= 10;
  }
  return { emissions, tags, crf };
}

/** The loss graph with emissions as an input, and its gradient outputs. */
async function lossSession(crf: Record<string, Tensor>): Promise<Session> {
  const g = new Graph("crf_loss");
  const e = g.input("emissions", "float64", ["batch", "sequence", L]);
  const labels = g.input("labels", "int64", ["batch", "sequence"]);
  const loss = crfLoss(e, labels, crfParams(g, crf), MAX);
  g.output(loss, "loss");
  const grads = buildBackward(g, loss, ["emissions", CRF_NAMES.transitions, CRF_NAMES.start, CRF_NAMES.end]);
  for (const [n, v] of grads) g.output(v, `grad:${n}`);
  return await openSession(g.toBytes(), { provider: "cpu", threads: 1 });
}

function feeds(emissions: number[][][], tags: number[][]): Record<string, Tensor> {
  return {
    emissions: tensor("float64", [B, T, L], emissions.flat(2)),
    labels: tensor("int64", [B, T], tags.flat()),
  };
}

Deno.test("crfLoss() equals the float64 reference NLL (mean reduction) and its gradients", async () => {
  const { emissions, tags, crf } = makeCase(3);
  const s = await lossSession(crf);
  const out = await s.run(feeds(emissions, tags));
  const params = {
    transitions: Array.from(
      { length: L },
      (_, i) => Array.from((crf[CRF_NAMES.transitions].data as Float64Array).slice(i * L, i * L + L)),
    ),
    start: Array.from(crf[CRF_NAMES.start].data as Float64Array),
    end: Array.from(crf[CRF_NAMES.end].data as Float64Array),
  };
  const ref = crfNllBatch(emissions, tags, lengths, params, "mean");
  assert.ok(Math.abs(Number(out.loss.data[0]) - ref.loss) < 1e-10, `loss ${out.loss.data[0]} vs ${ref.loss}`);
  const close = (got: ArrayLike<number>, want: number[], what: string) => {
    assert.equal(got.length, want.length, what);
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(got[i] - want[i]) < 1e-10, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
    }
  };
  close(out["grad:emissions"].data as Float64Array, ref.grad.emissions.flat(2), "d emissions");
  close(
    out[`grad:${CRF_NAMES.transitions}`].data as Float64Array,
    ref.grad.transitions.flat(),
    "d transitions",
  );
  close(out[`grad:${CRF_NAMES.start}`].data as Float64Array, ref.grad.start, "d start");
  close(out[`grad:${CRF_NAMES.end}`].data as Float64Array, ref.grad.end, "d end");
  await s.release();
});

Deno.test("crfLoss() emission gradient matches central finite differences of the graph", async () => {
  const { emissions, tags, crf } = makeCase(11);
  const s = await lossSession(crf);
  const base = await s.run(feeds(emissions, tags));
  const grad = base["grad:emissions"].data as Float64Array;
  const h = 1e-6;
  for (let k = 0; k < B * T * L; k += 3) {
    const [b, t, l] = [Math.floor(k / (T * L)), Math.floor(k / L) % T, k % L];
    const plus = structuredClone(emissions), minus = structuredClone(emissions);
    plus[b][t][l] += h;
    minus[b][t][l] -= h;
    const lp = Number((await s.run(feeds(plus, tags), ["loss"])).loss.data[0]);
    const lm = Number((await s.run(feeds(minus, tags), ["loss"])).loss.data[0]);
    const numeric = (lp - lm) / (2 * h);
    assert.ok(
      Math.abs(numeric - grad[k]) < 1e-7 * Math.max(1, Math.abs(numeric)),
      `[${b},${t},${l}] ${grad[k]} vs ${numeric}`,
    );
  }
  await s.release();
});
