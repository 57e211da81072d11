/** `onnx/proto.ts`: wire format details, typed-field tensors and malformed input. */
import assert from "node:assert/strict";
import { Graph } from "../../onnx/graph.ts";
import { add, matMul } from "../../onnx/ops.ts";
import {
  AttributeType,
  DataType,
  decodeModel,
  decodeTensor,
  encodeModel,
  encodeTensor,
  type ModelProto,
} from "../../onnx/proto.ts";
import { openSession } from "../../onnx/runtime.ts";
import { tensor, tensorFromProto } from "../../onnx/tensor.ts";

const fixture = (name: string) => new URL(`../../fixtures/onnx/${name}`, import.meta.url);

function affine(): Graph {
  const g = new Graph("affine");
  const x = g.input("x", "float32", ["n", 2]);
  g.output(add(matMul(x, g.param("w", tensor("float32", [2, 2], [1, 2, 3, 4]))), 1), "y");
  return g;
}

Deno.test("encodeModel() is deterministic and decodeModel() reads it back", () => {
  const g = affine();
  const bytes = g.toBytes();
  assert.deepEqual(g.toBytes(), bytes);
  const m = decodeModel(bytes, "affine.onnx");
  assert.equal(m.irVersion, 9);
  assert.deepEqual(m.opsetImport!.map((o) => [o.domain ?? "", o.version]), [["", 20]]);
  assert.equal(m.producerName, "nersota");
  assert.equal(m.graph!.name, "affine");
  assert.deepEqual(m.graph!.node!.map((n) => n.opType), ["MatMul", "Add", "Identity"]);
  assert.deepEqual(m.graph!.input![0].type!.tensorType!.shape!.dim, [{ dimParam: "n" }, { dimValue: 2 }]);
  assert.deepEqual(encodeModel(m), bytes, "decode → encode gives the same bytes");
});

Deno.test("encodeTensor() writes dims unpacked and typed data packed, as onnx.proto (proto2) does", () => {
  // field 1 (dims) as separate varints: 08 02 08 03; field 2 (data_type) = 1: 10 01
  const dims = encodeTensor({ dims: [2, 3], dataType: DataType.FLOAT });
  assert.deepEqual(Array.from(dims), [0x08, 2, 0x08, 3, 0x10, 1]);
  // field 4 (float_data) packed: 22 08 <two little-endian floats>
  const floats = encodeTensor({ floatData: [1, -2] });
  assert.deepEqual(Array.from(floats), [0x22, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  // field 7 (int64_data) packed varints: 3a 03 05 ac 02
  const longs = encodeTensor({ int64Data: [5, 300] });
  assert.deepEqual(Array.from(longs), [0x3a, 3, 5, 0xac, 0x02]);
  const back = decodeTensor(
    encodeTensor({ name: "t", dims: [2], dataType: DataType.INT64, int64Data: [-1, 2 ** 40] }),
  );
  assert.deepEqual(back, { name: "t", dims: [2], dataType: DataType.INT64, int64Data: [-1, 2 ** 40] });
});

Deno.test("decodeModel() accepts unpacked typed fields and packed dims, as other writers emit them", () => {
  // A TensorProto written field by field: dims packed (08 would be unpacked; 0a = packed field 1),
  // data_type FLOAT, float_data unpacked (25 = field 4, fixed32) — both forms are legal protobuf.
  const t = new Uint8Array([
    0x0a,
    2,
    2,
    1, // dims [2, 1] packed
    0x10,
    1, // data_type FLOAT
    0x25,
    0,
    0,
    0x40,
    0x40, // float_data 3
    0x25,
    0,
    0,
    0x80,
    0xbf, // float_data -1
    0x42,
    1,
    0x77, // name "w"
  ]);
  const p = decodeTensor(t, "w.pb");
  assert.deepEqual(p, { dims: [2, 1], dataType: DataType.FLOAT, floatData: [3, -1], name: "w" });
  assert.deepEqual(tensorFromProto(p).data, new Float32Array([3, -1]));
});

Deno.test("a model whose initializers use float_data and int64_data reads and runs", async () => {
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "pytorch",
    graph: {
      name: "typed",
      initializer: [
        { name: "w", dims: [2], dataType: DataType.FLOAT, floatData: [0.5, -2] },
        { name: "ids", dims: [2], dataType: DataType.INT64, int64Data: [1, 0] },
        { name: "d", dims: [1], dataType: DataType.DOUBLE, doubleData: [0.25] },
        { name: "m", dims: [2], dataType: DataType.BOOL, int32Data: [1, 0] },
      ],
      node: [
        { name: "mul", opType: "Mul", input: ["x", "w"], output: ["xw"] },
        {
          name: "gather",
          opType: "Gather",
          input: ["xw", "ids"],
          output: ["g"],
          attribute: [{ name: "axis", type: AttributeType.INT, i: 0 }],
        },
        { name: "where", opType: "Where", input: ["m", "g", "xw"], output: ["y"] },
      ],
      input: [{
        name: "x",
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } },
      }],
      output: [{
        name: "y",
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 2 }] } } },
      }],
    },
  };
  const decoded = decodeModel(encodeModel(model), "typed.onnx");
  assert.deepEqual(decoded.graph!.initializer![0].floatData, [0.5, -2]);
  const g = Graph.fromModel(decoded, undefined, "typed.onnx");
  assert.deepEqual(g.initializers.get("w")!.data, new Float32Array([0.5, -2]));
  assert.deepEqual(g.initializers.get("ids")!.data, new BigInt64Array([1n, 0n]));
  assert.deepEqual(g.initializers.get("d")!.data, new Float64Array([0.25]));
  assert.deepEqual(g.initializers.get("m"), { dtype: "bool", dims: [2], data: new Uint8Array([1, 0]) });
  assert.deepEqual([...g.parameters].sort(), ["d", "w"], "float initializers are parameters by default");
  assert.equal(g.modelOptions.producerName, "pytorch");
  // Written back with raw_data; ORT reads both and computes y = where([1,0], xw[[1,0]], xw).
  for (const bytes of [encodeModel(model), g.toBytes()]) {
    const session = await openSession(bytes, { provider: "cpu" });
    const { y } = await session.run({ x: tensor("float32", [2], [4, 3]) });
    assert.deepEqual(Array.from(y.data as Float32Array), [-6, -6]);
    await session.release();
  }
});

Deno.test("decodeModel() rejects malformed files with a message naming the file", async (t) => {
  const cases: [string, RegExp][] = [
    ["empty.onnx", /^Cannot read ONNX model "empty\.onnx": the file is empty$/],
    [
      "random.onnx",
      /^Cannot read ONNX model "random\.onnx": not a valid protobuf ModelProto \(invalid wire type/,
    ],
    [
      "truncated.onnx",
      /^Cannot read ONNX model "truncated\.onnx": .*ends inside a field \(a truncated file\?\)/,
    ],
    ["no_graph.onnx", /^Cannot read ONNX model "no_graph\.onnx": it has no graph$/],
  ];
  for (const [name, pattern] of cases) {
    await t.step(name, async () => {
      const bytes = await Deno.readFile(fixture(name));
      assert.throws(() => decodeModel(bytes, name), (e: Error) => {
        assert.ok(e instanceof Error);
        assert.match(e.message, pattern);
        return true;
      });
    });
  }
  await t.step("a model without an opset", () => {
    const bytes = encodeModel({ irVersion: 9, graph: { name: "g" } });
    assert.throws(() => decodeModel(bytes, "noopset.onnx"), {
      message: 'Cannot read ONNX model "noopset.onnx": it declares no opset',
    });
  });
  await t.step("every proper prefix of a valid model is refused", () => {
    const bytes = affine().toBytes();
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(
        () => decodeModel(bytes.subarray(0, n), "cut.onnx"),
        /^Error: Cannot read ONNX model "cut\.onnx": /,
        `${n} bytes`,
      );
    }
  });
  await t.step("random bytes of many seeds are refused, never decoded", () => {
    let s = 7;
    for (let trial = 0; trial < 200; trial++) {
      const bytes = new Uint8Array(1 + (trial % 97)).map(() =>
        ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff
      );
      assert.throws(
        () => decodeModel(bytes, "noise.onnx"),
        /Cannot read ONNX model "noise\.onnx"/,
        `trial ${trial}`,
      );
    }
  });
  await t.step("the default source is <bytes>", () => {
    assert.throws(() => decodeModel(new Uint8Array([0xff])), /Cannot read ONNX model "<bytes>"/);
  });
});

Deno.test("decodeTensor() names the source of bad tensor bytes", () => {
  assert.throws(
    () => decodeTensor(new Uint8Array([0x0a, 9, 1]), "input_0.pb"),
    /^Error: Cannot read tensor "input_0\.pb": /,
  );
});
