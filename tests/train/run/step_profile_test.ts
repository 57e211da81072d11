// The profile summary (train/run/step_profile.ts) on a hand-made ORT profile: warm-up run left out, kernel
// time summed by part (node creation index against the train step's layout) and by op type.
import assert from "node:assert/strict";
import {
  nodeIndex,
  ORT_MADE,
  partsByIndex,
  type ProfileEvent,
  profileTotals,
  summarise,
} from "../../../train/run/step_profile.ts";

const run = (ts: number, dur: number): ProfileEvent => ({ cat: "Session", name: "model_run", ts, dur });
const kernel = (name: string, op: string, ts: number, dur: number): ProfileEvent => ({
  cat: "Node",
  name: `${name}_kernel_time`,
  ts,
  dur,
  args: { op_name: op },
});

Deno.test("nodeIndex reads the creation index after the last underscore-number, scopes and suffixes aside", () => {
  assert.equal(nodeIndex("electra/encoder/layer.0/attention/self/MatMul_12_kernel_time"), 12);
  assert.equal(nodeIndex("generator_predictions/dense/Gemm_7"), 7);
  assert.equal(nodeIndex("MatMul_40_Add_41"), 41);
  assert.equal(nodeIndex("MatmulTransposeFusion//MatMulScaleFusion/"), undefined);
});

Deno.test("partsByIndex: forward below backwardFrom (named by the caller), backward, optimizer, ORT-made", () => {
  const classify = partsByIndex(
    { backwardFrom: 10, optimizerFrom: 20 },
    (i) => i < 5 ? "a" : "b",
  );
  assert.deepEqual(
    ["x/Mul_0", "x/Mul_4", "Add_5", "Mul_10", "Mul_19", "Sqrt_20", "Fused"].map(classify),
    ["a", "a", "b", "backward", "backward", "optimizer", ORT_MADE],
  );
  assert.equal(partsByIndex({ backwardFrom: 1, optimizerFrom: 2 })("Mul_0"), "forward");
});

Deno.test("profileTotals and summarise leave out the warm-up run and sum kernels by part and op", () => {
  const events = [
    run(0, 9000),
    kernel("MatMul_1", "MatMul", 10, 5000), // warm-up: left out
    run(10_000, 3000),
    kernel("MatMul_1", "MatMul", 10_010, 1000),
    kernel("Mul_12", "Mul", 10_020, 500),
    run(20_000, 5000),
    kernel("MatMul_1", "MatMul", 20_010, 3000),
    kernel("Sqrt_25", "Sqrt", 20_020, 500),
  ];
  const classify = partsByIndex({ backwardFrom: 10, optimizerFrom: 20 });
  const t = profileTotals(events, classify);
  assert.equal(t.runs, 2);
  assert.equal(t.runMs, 4);
  assert.equal(t.kernelUs, 5000);
  assert.deepEqual(Object.fromEntries(t.byPart), { forward: 4000, backward: 500, optimizer: 500 });
  assert.deepEqual(t.byOp.get("MatMul"), { us: 4000, n: 2 });
  assert.deepEqual(Object.fromEntries(t.byPartOp.get("forward")!), { MatMul: 4000 });
  const md = summarise(events, classify);
  assert.match(md, /Profiled 2 step\(s\): model_run 4 ms\/step, kernels 2\.5 ms\/step/);
  assert.match(md, /\| forward \| 2\.0 \| 80\.0 \|/);
  assert.match(md, /\| MatMul \| 2\.0 \| 80\.0 \| 1 \|/);
  assert.match(md, /\| backward \| Mul 0\.3 \|/);
});
