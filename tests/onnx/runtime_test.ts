import assert from "node:assert/strict";
import { Graph } from "../../onnx/graph.ts";
import { add, gelu, matMul, mul } from "../../onnx/ops.ts";
import { decodeModel } from "../../onnx/proto.ts";
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

Deno.test("openSession() writes the ORT-optimised model and skips the named graph transformers", async () => {
  // 3-D x keeps MatMul+Add from becoming Gemm, so ORT fuses bias+Gelu (BiasGelu) and MatMul·0.5 (FusedMatMul).
  const g = new Graph("fusable");
  const x = g.input("x", "float32", ["n", 3, 4]);
  const w = (name: string, dims: number[]) =>
    g.param(
      name,
      tensor(
        "float32",
        dims,
        Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => (i % 7) / 7 - 0.4),
      ),
    );
  const h = gelu(add(matMul(x, w("w1", [4, 4])), w("b1", [4])));
  g.output(mul(matMul(h, w("w2", [4, 2])), 0.5), "y");
  const dir = await Deno.makeTempDir();
  try {
    const ops = async (disabledOptimizers?: string[]) => {
      const path = `${dir}/optimized.onnx`;
      const session = await openSession(g.toBytes(), { optimizedModelFilePath: path, disabledOptimizers });
      const { y } = await session.run({
        x: tensor("float32", [1, 3, 4], Array.from({ length: 12 }, (_, i) => i / 6 - 1)),
      });
      await session.release();
      const nodes = decodeModel(await Deno.readFile(path)).graph?.node ?? [];
      return { ops: nodes.map((n) => n.opType).sort(), y: Array.from(y.data as Float32Array) };
    };
    const fused = await ops();
    assert.deepEqual(fused.ops, ["BiasGelu", "FusedMatMul", "MatMul"]);
    const plain = await ops(["BiasGeluFusion", "MatMulScaleFusion"]);
    assert.deepEqual(plain.ops, ["Add", "Gelu", "MatMul", "MatMul", "Mul"]);
    plain.y.forEach((v, i) => assert.ok(Math.abs(v - fused.y[i]) < 1e-6));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
