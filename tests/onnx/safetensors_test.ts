import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors } from "../../onnx/safetensors.ts";
import { type Tensor, tensor } from "../../onnx/tensor.ts";

const f32 = (dims: number[], values: number[]) => tensor("float32", dims, values);

/** A safetensors file assembled by hand from a header object and raw data bytes. */
function handMade(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  if (pad && json.length % 8) {
    const padded = new Uint8Array(json.length + 8 - (json.length % 8)).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("encodeSafetensors() matches the reference writer's bytes", async (t) => {
  // Byte vectors from the reference Rust implementation's own tests (huggingface/safetensors).
  await t.step("one F32 tensor, header already aligned", () => {
    const out = encodeSafetensors({ "attn.0": f32([1, 2, 3], [0, 1, 2, 3, 4, 5]) });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    assert.equal(new DataView(out.buffer).getBigUint64(0, true), 64n);
    assert.equal(new TextDecoder().decode(out.subarray(8, 72)), header);
    assert.deepEqual(Array.from(out.subarray(72, 80)), [0, 0, 0, 0, 0, 0, 128, 63]);
    assert.equal(out.length, 8 + 64 + 24);
  });
  await t.step("padding with spaces", () => {
    const out = encodeSafetensors({ attn0: f32([1, 1, 2, 3], [0, 1, 2, 3, 4, 5]) });
    assert.equal(new DataView(out.buffer).getBigUint64(0, true), 72n);
    const text = new TextDecoder().decode(out.subarray(8, 80));
    assert.equal(text, '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
  });
  await t.step("empty, with and without metadata", () => {
    assert.deepEqual(Array.from(encodeSafetensors({})), [
      8,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      123,
      125,
      32,
      32,
      32,
      32,
      32,
      32,
    ]);
    const out = encodeSafetensors({}, { framework: "pt" });
    assert.equal(new TextDecoder().decode(out.subarray(8)), '{"__metadata__":{"framework":"pt"}}     ');
    assert.equal(out[0], 40);
  });
});

Deno.test("encodeSafetensors() orders by dtype alignment, then name, and aligns every tensor", () => {
  const tensors: Record<string, Tensor> = {
    "b": f32([2], [1, 2]),
    "a": f32([1], [3]),
    "10": tensor("uint8", [3], [1, 2, 3]),
    "2": tensor("int64", [1], [7]),
    "h": { dtype: "float16", dims: [1], data: new Uint16Array([0x3c00]) },
    "d": tensor("float64", [1], [0.5]),
  };
  const out = encodeSafetensors(tensors);
  const n = Number(new DataView(out.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(out.subarray(8, 8 + n)));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(out.subarray(8, 8 + n));
  const order = ["2", "d", "a", "b", "h", "10"];
  const positions = order.map((k) => text.indexOf(`"${k}":{`));
  assert.deepEqual([...positions].sort((x, y) => x - y), positions);
  assert.deepEqual(header["2"].data_offsets, [0, 8]);
  assert.deepEqual(header["10"].data_offsets, [30, 33]);
  const back = decodeSafetensors(out);
  for (const [k, v] of Object.entries(tensors)) {
    assert.equal(back.tensors[k].dtype, v.dtype, k);
    assert.deepEqual(back.tensors[k].dims, v.dims, k);
    assert.deepEqual(
      Array.from(back.tensors[k].data as ArrayLike<unknown>),
      Array.from(v.data as ArrayLike<unknown>),
      k,
    );
  }
});

Deno.test("decodeSafetensors() reads every dtype and round-trips byte-identically", () => {
  const tensors: Record<string, Tensor> = {
    f64: tensor("float64", [2], [1.5, -2]),
    f32: f32([2, 2], [1, 2, 3, 4]),
    f16: { dtype: "float16", dims: [2], data: new Uint16Array([0x3c00, 0xc000]) },
    i64: tensor("int64", [2], [-1, 2 ** 40]),
    i32: tensor("int32", [1], [-5]),
    i8: tensor("int8", [2], [-128, 127]),
    u8: tensor("uint8", [1], [255]),
    bool: tensor("bool", [3], [1, 0, 1]),
    empty: f32([0, 4], []),
    scalar: f32([], [3.25]),
  };
  const bytes = encodeSafetensors(tensors, { format: "pt" });
  const { tensors: back, metadata } = decodeSafetensors(bytes, "x.safetensors");
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(Object.keys(back).sort(), Object.keys(tensors).sort());
  assert.equal((back.i64.data as BigInt64Array)[1], 2n ** 40n);
  assert.deepEqual(back.scalar.dims, []);
  assert.deepEqual(back.empty.dims, [0, 4]);
  assert.deepEqual(encodeSafetensors(back, metadata), bytes);
});

Deno.test("decodeSafetensors() widens BF16 to float32", () => {
  // bf16 bits of 1.0, -2.0 and 0.15625: the upper halves of their float32 encodings.
  const data = new Uint8Array(new Uint16Array([0x3f80, 0xc000, 0x3e20]).buffer);
  const bytes = handMade({ w: { dtype: "BF16", shape: [3], data_offsets: [0, 6] } }, data);
  const { tensors } = decodeSafetensors(bytes);
  assert.equal(tensors.w.dtype, "float32");
  assert.deepEqual(Array.from(tensors.w.data as Float32Array), [1, -2, 0.15625]);
});

Deno.test("decodeSafetensors() accepts any tensor order in the header and unpadded headers", () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
  const bytes = handMade(
    {
      z: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      a: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    },
    data,
    false,
  );
  const { tensors } = decodeSafetensors(bytes);
  assert.deepEqual(Array.from(tensors.a.data as Float32Array), [2, 3]);
  assert.deepEqual(Array.from(tensors.z.data as Float32Array), [1]);
});

Deno.test("decodeSafetensors() names the file and tensor in its errors", async (t) => {
  const four = new Uint8Array(4);
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["too short", () => new Uint8Array(3), /"m\.safetensors".*too short/],
    ["huge header length", () => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
      return b;
    }, /header length .* exceeds/],
    ["header past the end", () => {
      const b = new Uint8Array(16);
      b[0] = 100;
      return b;
    }, /runs past the end/],
    ["pickle, not safetensors", () => {
      const b = new Uint8Array(24);
      b[0] = 8;
      b.set([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46], 8);
      return b;
    }, /not valid UTF-8|does not start with "\{"/],
    ["bad JSON", () => handMade("x", new Uint8Array()).map((c, i) => (i === 8 ? 0x7b : c)), /not valid JSON/],
    [
      "unknown dtype",
      () => handMade({ w: { dtype: "F8_E4M3", shape: [4], data_offsets: [0, 4] } }, four),
      /tensor "w".*unsupported dtype "F8_E4M3"/,
    ],
    [
      "made-up dtype",
      () => handMade({ w: { dtype: "Q4", shape: [4], data_offsets: [0, 4] } }, four),
      /tensor "w".*unsupported dtype "Q4"/,
    ],
    [
      "shape/offset mismatch",
      () => handMade({ w: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, four),
      /tensor "w".*needs 8/,
    ],
    [
      "bad shape",
      () => handMade({ w: { dtype: "U8", shape: [-4], data_offsets: [0, 4] } }, four),
      /tensor "w".*shape/,
    ],
    [
      "bad offsets",
      () => handMade({ w: { dtype: "U8", shape: [4], data_offsets: [4] } }, four),
      /tensor "w".*data_offsets/,
    ],
    [
      "gap",
      () => handMade({ w: { dtype: "U8", shape: [2], data_offsets: [2, 4] } }, four),
      /tensor "w".*gap/,
    ],
    ["overlap", () =>
      handMade({
        v: { dtype: "U8", shape: [3], data_offsets: [0, 3] },
        w: { dtype: "U8", shape: [2], data_offsets: [2, 4] },
      }, four), /tensor "w".*overlap/],
    [
      "truncated",
      () => handMade({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, four),
      /tensor "w".*past the end/,
    ],
    [
      "trailing bytes",
      () => handMade({ w: { dtype: "U8", shape: [2], data_offsets: [0, 2] } }, four),
      /cover 2 of 4/,
    ],
    ["metadata not strings", () => handMade({ __metadata__: { a: 1 } }, new Uint8Array()), /metadata "a"/],
  ];
  for (const [name, make, pattern] of cases) {
    await t.step(name, () => {
      assert.throws(() => decodeSafetensors(make(), "m.safetensors"), (e: Error) => {
        assert.match(e.message, pattern);
        assert.match(e.message, /m\.safetensors/);
        return true;
      });
    });
  }
});

Deno.test("encodeSafetensors() refuses a tensor whose data does not fill its shape", () => {
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "float32", dims: [3], data: new Float32Array(2) } }),
    /tensor "w" has 2 elements but shape \[3\] needs 3/,
  );
});
