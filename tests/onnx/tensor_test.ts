import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DataType } from "../../onnx/proto.ts";
import {
  at,
  fromBytes,
  itemSize,
  onnxType,
  sizeOf,
  tensor,
  tensorFromProto,
  tensorToProto,
  toBytes,
  type TypedArray,
} from "../../onnx/tensor.ts";

const list = (a: TypedArray): (number | bigint)[] => Array.from(a as ArrayLike<number | bigint>);

Deno.test("fromBytes() views aligned bytes and copies unaligned ones", async (t) => {
  const f = new Float32Array([1.5, -2, 3.25]);
  await t.step("aligned: a view on the same buffer", () => {
    const bytes = toBytes(f);
    const view = fromBytes("float32", bytes);
    assert.equal(view.buffer, f.buffer);
    assert.deepEqual(list(view), [1.5, -2, 3.25]);
  });
  await t.step("unaligned: a copy with the same values", () => {
    const padded = new Uint8Array(1 + 12);
    padded.set(toBytes(f), 1);
    const bytes = padded.subarray(1);
    assert.equal(bytes.byteOffset % 4, 1);
    const copy = fromBytes("float32", bytes);
    assert.notEqual(copy.buffer, padded.buffer);
    assert.equal(copy.byteOffset % 4, 0);
    assert.deepEqual(list(copy), [1.5, -2, 3.25]);
  });
  await t.step(
    "unaligned Node Buffer (what protobufjs decodes raw_data to): a copy, not a Buffer view",
    () => {
      const pool = Buffer.alloc(1 + 12);
      pool.set(toBytes(f), 1);
      const bytes = pool.subarray(1);
      const copy = fromBytes("float32", bytes);
      assert.equal(copy.byteOffset % 4, 0);
      assert.notEqual(copy.buffer, pool.buffer);
      assert.deepEqual(list(copy), [1.5, -2, 3.25]);
    },
  );
  await t.step("unaligned int64 and float64 at every offset", () => {
    const ints = new BigInt64Array([1n, -(2n ** 62n), 2n ** 53n + 1n]);
    const doubles = new Float64Array([Math.PI, -0.1, 1e300]);
    for (let offset = 1; offset < 8; offset++) {
      const a = new Uint8Array(offset + 24);
      a.set(toBytes(ints), offset);
      assert.deepEqual(list(fromBytes("int64", a.subarray(offset))), Array.from(ints), `int64 at ${offset}`);
      a.set(toBytes(doubles), offset);
      assert.deepEqual(
        list(fromBytes("float64", a.subarray(offset))),
        Array.from(doubles),
        `float64 at ${offset}`,
      );
    }
  });
  await t.step("each dtype gets its typed array", () => {
    const bytes = new Uint8Array(8);
    const kinds = {
      float32: Float32Array,
      float64: Float64Array,
      float16: Uint16Array,
      int32: Int32Array,
      int64: BigInt64Array,
      int8: Int8Array,
      uint8: Uint8Array,
      bool: Uint8Array,
    } as const;
    for (const [dtype, ctor] of Object.entries(kinds)) {
      const a = fromBytes(dtype as keyof typeof kinds, bytes);
      assert.ok(a instanceof ctor, dtype);
      assert.equal(a.length, 8 / itemSize(dtype as keyof typeof kinds), dtype);
    }
  });
  await t.step("a byte count that is not a whole number of elements is refused", () => {
    assert.throws(() => fromBytes("float32", new Uint8Array(6)), {
      message: "Cannot view 6 bytes as float32: not a multiple of 4",
    });
  });
});

Deno.test("tensor() checks the element count and the int64 range", () => {
  assert.deepEqual(tensor("float32", [2, 2], [1, 2, 3, 4]).data, new Float32Array([1, 2, 3, 4]));
  assert.deepEqual(tensor("int64", [2], [3, -1]).data, new BigInt64Array([3n, -1n]));
  assert.deepEqual(tensor("int64", [1], [2n ** 62n]).data, new BigInt64Array([2n ** 62n]));
  assert.deepEqual(tensor("bool", [3], [1, 0, 1]).data, new Uint8Array([1, 0, 1]));
  const s = tensor("float64", [], [0.1]);
  assert.deepEqual([s.dims, s.data.length, at(s, 0)], [[], 1, 0.1]);
  assert.throws(() => tensor("float32", [2, 3], [1, 2, 3]), {
    message: "tensor(): 3 values do not fill shape [2, 3] (6)",
  });
  assert.throws(() => tensor("int64", [2], [1, 2, 3]), /3 values do not fill shape \[2\] \(2\)/);
  assert.throws(() => tensor("int64", [1], [2 ** 63]), /tensor\(\): 9223372036854776000 does not fit int64/);
  assert.throws(() => tensor("int64", [1], [1.5]), RangeError);
  const dims = [2, 3];
  const t = tensor("int32", dims, [1, 2, 3, 4, 5, 6]);
  dims[0] = 7;
  assert.deepEqual(t.dims, [2, 3], "dims are copied");
  assert.equal(sizeOf([]), 1);
  assert.equal(sizeOf([2, 0, 3]), 0);
});

Deno.test("tensorToProto() and tensorFromProto() round-trip every dtype", () => {
  const cases = [
    tensor("float32", [2], [0.5, -1]),
    tensor("float64", [1, 2], [Math.E, -0]),
    tensor("float16", [2], [0x3c00, 0xc000]),
    tensor("int32", [3], [-(2 ** 31), 0, 2 ** 31 - 1]),
    tensor("int64", [2], [-(2 ** 53), 2 ** 53]),
    tensor("int8", [2], [-128, 127]),
    tensor("uint8", [2], [0, 255]),
    tensor("bool", [2, 1], [1, 0]),
    tensor("float32", [0, 3], []),
  ];
  for (const t of cases) {
    const p = tensorToProto("w", t);
    assert.equal(p.dataType, onnxType(t.dtype));
    assert.notEqual(p.rawData!.buffer, t.data.buffer, "raw_data is a copy");
    const back = tensorFromProto(p);
    assert.deepEqual(back, t, t.dtype);
  }
});

Deno.test("tensorFromProto() reads the typed fields other exporters write", () => {
  const f = tensorFromProto({
    name: "f",
    dataType: DataType.FLOAT,
    dims: [2, 2],
    floatData: [1, 2.5, -3, 0],
  });
  assert.deepEqual(f, { dtype: "float32", dims: [2, 2], data: new Float32Array([1, 2.5, -3, 0]) });
  const d = tensorFromProto({ name: "d", dataType: DataType.DOUBLE, dims: [2], doubleData: [0.1, 1e-300] });
  assert.deepEqual(d.data, new Float64Array([0.1, 1e-300]));
  const l = tensorFromProto({ name: "l", dataType: DataType.INT64, dims: [3], int64Data: [-5, 0, 2 ** 40] });
  assert.deepEqual(l.data, new BigInt64Array([-5n, 0n, 2n ** 40n]));
  const i = tensorFromProto({ name: "i", dataType: DataType.INT32, dims: [2], int32Data: [-7, 7] });
  assert.deepEqual(i.data, new Int32Array([-7, 7]));
  const b = tensorFromProto({ name: "b", dataType: DataType.BOOL, dims: [3], int32Data: [1, 0, 1] });
  assert.deepEqual(b, { dtype: "bool", dims: [3], data: new Uint8Array([1, 0, 1]) });
  const u = tensorFromProto({ name: "u", dataType: DataType.UINT8, dims: [2], int32Data: [0, 200] });
  assert.deepEqual(u.data, new Uint8Array([0, 200]));
  const h = tensorFromProto({ name: "h", dataType: DataType.FLOAT16, dims: [1], int32Data: [0x3c00] });
  assert.deepEqual(h.data, new Uint16Array([0x3c00]));
  const scalar = tensorFromProto({ name: "s", dataType: DataType.FLOAT, floatData: [4] });
  assert.deepEqual([scalar.dims, list(scalar.data)], [[], [4]]);
});

Deno.test("tensorFromProto() errors name the tensor and what is wrong", () => {
  assert.throws(
    () => tensorFromProto({ name: "w", dataType: DataType.FLOAT, dims: [2, 2], floatData: [1, 2, 3] }),
    { message: 'tensor "w" has 3 elements but shape [2, 2] needs 4' },
  );
  assert.throws(
    () => tensorFromProto({ name: "w", dataType: DataType.FLOAT, dims: [2], rawData: new Uint8Array(12) }),
    { message: 'tensor "w" has 3 elements but shape [2] needs 2' },
  );
  assert.throws(
    () => tensorFromProto({ name: "w", dataType: DataType.FLOAT, dims: [2], rawData: new Uint8Array(7) }),
    { message: 'tensor "w": Cannot view 7 bytes as float32: not a multiple of 4' },
  );
  assert.throws(
    () => tensorFromProto({ name: "names", dataType: DataType.STRING, dims: [1] }),
    { message: 'Unsupported ONNX data type 8 in tensor "names"' },
  );
  assert.throws(
    () => tensorFromProto({ name: "u", dims: [1] }),
    /Unsupported ONNX data type 0 in tensor "u"/,
  );
  assert.throws(
    () => tensorFromProto({ dataType: DataType.INT64, dims: [2], int64Data: [1] }, 'attribute "value"'),
    { message: 'attribute "value" has 1 elements but shape [2] needs 2' },
  );
  assert.throws(
    () => tensorFromProto({ name: "x", dataType: DataType.DOUBLE, dims: [1] }),
    /tensor "x" has 0 elements but shape \[1\] needs 1/,
  );
});
