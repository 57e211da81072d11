import assert from "node:assert/strict";
import { Graph } from "../../onnx/graph.ts";
import { add, mul } from "../../onnx/ops.ts";
import { openSession, type Provider } from "../../onnx/runtime.ts";
import { tensor } from "../../onnx/tensor.ts";

function affine(): Uint8Array {
  const g = new Graph("affine");
  const x = g.input("x", "float32", ["n", 2]);
  g.output(add(mul(x, 2), 1), "y");
  return g.toBytes();
}

for (const provider of ["cpu", "wasm"] as Provider[]) {
  Deno.test(`openSession() runs a graph on ${provider}`, async () => {
    const session = await openSession(affine(), { provider });
    assert.deepEqual(session.inputNames, ["x"]);
    assert.deepEqual(session.outputNames, ["y"]);
    const { y } = await session.run({ x: tensor("float32", [2, 2], [1, 2, -3, 0.5]) });
    assert.deepEqual(y.dims, [2, 2]);
    assert.deepEqual(Array.from(y.data as Float32Array), [3, 5, -5, 2]);
    await session.release();
  });
}

Deno.test("openSession() names the install step when CUDA is missing", async () => {
  await assert.rejects(
    openSession(affine(), { provider: "cuda" }),
    (e: Error) => /provider "cuda"/.test(e.message) && /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(e.message),
  );
});

Deno.test("openSession() rejects an unknown provider", async () => {
  await assert.rejects(openSession(affine(), { provider: "tpu" as Provider }), /Unknown provider "tpu"/);
});
