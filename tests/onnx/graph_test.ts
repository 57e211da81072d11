/** `Graph`: write → read (`Graph.fromModel(decodeModel(bytes))`) → write, and errors on bad models. */
import assert from "node:assert/strict";
import { type Attrs, float, FloatAttr, floats, FloatsAttr, Graph } from "../../onnx/graph.ts";
import {
  add,
  cast,
  concat,
  gather,
  gelu,
  layerNorm,
  matMul,
  reshape,
  reshapeLike,
  shapeOf,
  slice,
  softmax,
  transpose,
  where,
} from "../../onnx/ops.ts";
import { AttributeType, DataType, decodeModel, encodeModel, type ModelProto } from "../../onnx/proto.ts";
import { openSession, type Provider } from "../../onnx/runtime.ts";
import { type Tensor, tensor } from "../../onnx/tensor.ts";

const fixture = (name: string) => new URL(`../../fixtures/onnx/${name}`, import.meta.url);

/** Writes, reads back and writes again; asserts the bytes agree and returns the re-read graph. */
function roundTrip(bytes: Uint8Array, source = "model.onnx"): Graph {
  const g2 = Graph.fromModel(decodeModel(bytes, source), undefined, source);
  const again = g2.toBytes();
  assert.equal(again.length, bytes.length, "length after write → read → write");
  assert.deepEqual(again, bytes, "bytes after write → read → write");
  return g2;
}

const ALL_ATTRS: Attrs = {
  int: 3,
  negative: -7,
  big: 2 ** 40,
  half: 0.5,
  forced: float(1),
  alpha: 2, // a float attribute by name
  text: "gelu",
  korean: "강남역",
  empty_text: "",
  ints: [1, -2, 3],
  no_ints: [],
  fractions: [0.5, 1.5],
  forced_floats: floats([1, 2]),
  strings: ["a", "bc", "한"],
  tensor: tensor("int64", [2], [4, -5]),
  scalar_tensor: tensor("float32", [], [0.25]),
};

Deno.test("Graph.fromModel() round-trips attributes byte for byte", () => {
  const g = new Graph("attrs");
  const x = g.input("x", "float32", [2]);
  const [y] = g.op("Identity", [x], ALL_ATTRS);
  g.opsets["com.nersota.test"] = 1;
  const [z, w] = g.op("Custom", [y], { mode: "fast", k: float(3) }, {
    domain: "com.nersota.test",
    types: [{ dtype: "int64", shape: ["n", 3] }, { dtype: "bool", shape: [] }],
  });
  g.output(add(cast(z, "float32"), 1), "out");
  g.output(w, "flag");
  const bytes = g.toBytes();
  const m = decodeModel(bytes, "attrs.onnx");
  const types = Object.fromEntries(m.graph!.node![0].attribute!.map((a) => [a.name, a.type]));
  assert.deepEqual(types, {
    int: AttributeType.INT,
    negative: AttributeType.INT,
    big: AttributeType.INT,
    half: AttributeType.FLOAT,
    forced: AttributeType.FLOAT,
    alpha: AttributeType.FLOAT,
    text: AttributeType.STRING,
    korean: AttributeType.STRING,
    empty_text: AttributeType.STRING,
    ints: AttributeType.INTS,
    no_ints: AttributeType.INTS,
    fractions: AttributeType.FLOATS,
    forced_floats: AttributeType.FLOATS,
    strings: AttributeType.STRINGS,
    tensor: AttributeType.TENSOR,
    scalar_tensor: AttributeType.TENSOR,
  });
  assert.deepEqual(m.graph!.node![0].attribute!.map((a) => a.name), Object.keys(ALL_ATTRS).sort(), "sorted");
  assert.deepEqual(
    m.graph!.valueInfo!.map((v) => v.name),
    [z.name, w.name],
    "the custom op's outputs get value_info",
  );
  const g2 = roundTrip(bytes);
  const a = g2.nodes[0].attrs;
  assert.equal(a.int, 3);
  assert.equal(a.big, 2 ** 40);
  assert.ok(a.half instanceof FloatAttr && a.half.value === 0.5);
  assert.ok(a.forced instanceof FloatAttr && a.forced.value === 1);
  assert.equal(a.korean, "강남역");
  assert.deepEqual(a.no_ints, []);
  assert.ok(a.forced_floats instanceof FloatsAttr);
  assert.deepEqual(a.strings, ["a", "bc", "한"]);
  assert.deepEqual((a.tensor as Tensor).data, new BigInt64Array([4n, -5n]));
  assert.deepEqual(g2.nodes[1].domain, "com.nersota.test");
  assert.deepEqual(g2.values.get(z.name)!.shape, ["n", 3]);
  assert.deepEqual(g2.opsets, { "": 20, "com.nersota.test": 1 });
});

Deno.test("Graph.fromModel() round-trips initializers of every dtype", () => {
  const g = new Graph("inits");
  const x = g.input("x", "float32", [3]);
  const inits: Record<string, Tensor> = {
    f32: tensor("float32", [3], [0.1, -2, 3e-8]),
    f64: tensor("float64", [2, 2], [Math.PI, -0, 1e300, -1e-300]),
    f16: tensor("float16", [2], [0x3c00, 0x7bff]),
    i64: tensor("int64", [3], [-(2 ** 53), 0, 2 ** 53]),
    i32: tensor("int32", [2], [-(2 ** 31), 2 ** 31 - 1]),
    i8: tensor("int8", [2], [-128, 127]),
    u8: tensor("uint8", [3], [0, 128, 255]),
    b: tensor("bool", [2], [1, 0]),
    empty: tensor("float32", [0, 4], []),
    scalar: tensor("int64", [], [42]),
  };
  for (const [name, t] of Object.entries(inits)) g.initializer(name, t);
  g.output(add(x, g.values.get("f32")!), "y");
  const g2 = roundTrip(g.toBytes());
  assert.deepEqual([...g2.initializers.keys()], Object.keys(inits), "order kept");
  for (const [name, t] of Object.entries(inits)) assert.deepEqual(g2.initializers.get(name), t, name);
  assert.deepEqual(
    [...g2.parameters].sort(),
    ["empty", "f16", "f32", "f64"],
    "float initializers become parameters",
  );
  const only = Graph.fromModel(decodeModel(g.toBytes()), ["i64"]);
  assert.deepEqual([...only.parameters], ["i64"], "or the ones asked for");
});

/** A small encoder-like graph with scopes, symbolic dims, parameters, and a gelu/softmax/layerNorm path. */
function encoderLike(): Graph {
  const g = new Graph("encoder");
  const ids = g.input("input_ids", "int64", ["batch", "seq"]);
  const mask = g.input("attention_mask", "bool", ["batch", "seq"]);
  const emb = g.scope(
    "embeddings",
    () =>
      gather(
        g.param(
          "word_embeddings.weight",
          tensor(
            "float32",
            [5, 4],
            Array.from({ length: 20 }, (_, i) => i / 10),
          ),
        ),
        ids,
      ),
  ); // (batch, seq, 4)
  g.push("encoder");
  g.push("layer.0");
  const w = g.param(
    "weight",
    tensor("float32", [4, 4], Array.from({ length: 16 }, (_, i) => ((i * 7) % 5) / 5 - 0.4)),
  );
  const h = gelu(matMul(emb, w));
  const heads = transpose(reshape(h, [0, 0, 2, 2]), [0, 2, 1, 3]); // (batch, 2, seq, 2)
  const scores = softmax(matMul(heads, transpose(heads, [0, 1, 3, 2]))); // (batch, 2, seq, seq)
  const ctx = reshape(transpose(matMul(scores, heads), [0, 2, 1, 3]), [0, 0, 4]); // (batch, seq, 4)
  const ln = layerNorm(
    add(ctx, emb),
    g.param("LayerNorm.weight", tensor("float32", [4], [1, 1, 1, 1])),
    g.param("LayerNorm.bias", tensor("float32", [4], [0, 0, 0, 0])),
  );
  g.pop();
  g.pop();
  const masked = where(reshape(mask, [0, 0, 1]), ln, 0);
  g.output(masked, "last_hidden_state");
  g.output(reshape(masked, [-1, 4]), "flat");
  g.output(
    concat([slice(masked, [0], [1], [1]), slice(masked, [-1], [Number.MAX_SAFE_INTEGER], [1])], 1),
    "ends",
  );
  return g;
}

Deno.test("Graph.fromModel() round-trips symbolic dims, scopes and metadata, and the copy runs the same", async () => {
  const g = encoderLike();
  assert.ok(g.initializers.has("encoder.layer.0.LayerNorm.weight"));
  assert.ok(g.initializers.has("embeddings.word_embeddings.weight"));
  assert.ok(g.nodes.some((n) => n.name.startsWith("encoder/layer.0/MatMul_")));
  const options = {
    producerName: "nersota-test",
    producerVersion: "9.9.9",
    docString: "a tiny encoder",
    metadata: { vocab: "5", labels: "O,B-PS,I-PS", "한국어": "예" },
  };
  const bytes = g.toBytes(options);
  const m = decodeModel(bytes);
  assert.deepEqual(m.metadataProps!.map((p) => p.key), ["labels", "vocab", "한국어"], "sorted metadata");
  assert.deepEqual(
    m.graph!.output!.map((o) => o.type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? d.dimValue)),
    [
      ["batch", "seq", 4],
      ["batch*seq", 4],
      ["batch", "1+slice0", 4], // the last position of a symbolic axis has an unknown (fresh) extent
    ],
  );
  const g2 = roundTrip(bytes);
  assert.deepEqual(g2.modelOptions, options);
  assert.deepEqual(g2.nodes.map((n) => n.name), g.nodes.map((n) => n.name));
  assert.notDeepEqual(
    g2.toBytes({ producerVersion: "1.0.0" }),
    bytes,
    "options given to toBytes override read ones",
  );
  const feeds = {
    input_ids: tensor("int64", [2, 3], [1, 4, 0, 2, 2, 3]),
    attention_mask: tensor("bool", [2, 3], [1, 1, 0, 1, 1, 1]),
  };
  for (const provider of ["cpu", "wasm"] as Provider[]) {
    const a = await openSession(bytes, { provider });
    const b = await openSession(g2.toBytes(), { provider });
    const ra = await a.run(feeds), rb = await b.run(feeds);
    assert.deepEqual(rb, ra, provider);
    assert.deepEqual(ra.last_hidden_state.dims, [2, 3, 4]);
    assert.deepEqual(ra.flat.dims, [6, 4]);
    assert.deepEqual(
      Array.from(ra.last_hidden_state.data as Float32Array).slice(8, 12),
      [0, 0, 0, 0],
      "masked",
    );
    // each unmasked row is layer-normalised: mean 0
    const row = Array.from(ra.last_hidden_state.data as Float32Array).slice(0, 4);
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0)) < 1e-5, `${provider} row mean`);
    await a.release();
    await b.release();
  }
});

Deno.test("Graph.toBytes() gives identical bytes for identical builds, even with run-time shapes", () => {
  const build = () => {
    const g = new Graph("dyn");
    const x = g.input("x", "float32", ["n", 6]);
    const s = g.input("s", "int64", [3]);
    g.output(reshapeLike(x, s), "y");
    g.output(reshapeLike(x, shapeOf(g.input("z", "float32", [2, 3, 6]))), "y2");
    return g.toBytes();
  };
  const a = build(), b = build();
  assert.deepEqual(b, a);
  roundTrip(a);
});

Deno.test("Graph.fromModel() errors name the model and what is wrong", async (t) => {
  const base = (): ModelProto => {
    const g = new Graph("affine");
    const x = g.input("x", "float32", ["n", 2]);
    g.output(add(matMul(x, g.param("w", tensor("float32", [2, 2], [1, 2, 3, 4]))), 1), "y");
    return g.toModel();
  };
  const read = (m: ModelProto, source = "bad.onnx") => () =>
    Graph.fromModel(decodeModel(encodeModel(m), source), undefined, source);
  await t.step("a node reading an undefined value (fixture)", async () => {
    const bytes = await Deno.readFile(fixture("undefined_input.onnx"));
    assert.throws(
      () => Graph.fromModel(decodeModel(bytes, "undefined_input.onnx"), undefined, "undefined_input.onnx"),
      {
        message:
          'Cannot read ONNX model "undefined_input.onnx": node "MatMul_0" (MatMul) reads "missing", which is not defined before it',
      },
    );
  });
  await t.step("nodes out of topological order", () => {
    const m = base();
    m.graph!.node!.reverse();
    assert.throws(
      read(m),
      /^Error: Cannot read ONNX model "bad\.onnx": node "Identity_2" \(Identity\) reads "val_\d+", which is not defined/,
    );
  });
  await t.step("an output nothing computes", () => {
    const m = base();
    m.graph!.output![0].name = "nothing";
    assert.throws(read(m), {
      message: 'Cannot read ONNX model "bad.onnx": output "nothing" is never computed',
    });
  });
  await t.step("an input without a tensor type", () => {
    const m = base();
    delete m.graph!.input![0].type;
    assert.throws(read(m), { message: 'Cannot read ONNX model "bad.onnx": input "x" has no tensor type' });
  });
  await t.step("an initializer whose data does not fill its shape", () => {
    const m = base();
    m.graph!.initializer![0].dims = [3, 2];
    assert.throws(read(m), {
      message: 'Cannot read ONNX model "bad.onnx": tensor "w" has 4 elements but shape [3, 2] needs 6',
    });
  });
  await t.step("an initializer of an unsupported type", () => {
    const m = base();
    m.graph!.initializer![0].dataType = DataType.STRING;
    assert.throws(read(m), {
      message: 'Cannot read ONNX model "bad.onnx": Unsupported ONNX data type 8 in tensor "w"',
    });
  });
  await t.step("shapes that do not fit name the node", () => {
    const m = base();
    m.graph!.input![0].type!.tensorType!.shape!.dim = [{ dimParam: "n" }, { dimValue: 3 }];
    assert.throws(
      read(m),
      /^Error: Cannot read ONNX model "bad\.onnx": MatMul_0: MatMul inner dimensions differ: \[n, 3\] × \[2, 2\]/,
    );
  });
  await t.step("an op without a shape rule and without value_info", () => {
    const m = base();
    m.graph!.node![1].opType = "FusedThing";
    m.graph!.node![1].domain = "com.example";
    assert.throws(read(m), /"bad\.onnx": .*no shape rule for com\.example\.FusedThing.*gives no value_info/);
  });
  await t.step("an attribute of a type the builder does not read", () => {
    const m = base();
    m.graph!.node![0].attribute = [{ name: "body", type: AttributeType.GRAPH, g: { name: "sub" } }];
    assert.throws(read(m), /"bad\.onnx": Attribute "body" has type 5, which this builder does not read/);
  });
  await t.step("a model without a graph, given as an object", () => {
    assert.throws(() => Graph.fromModel({ irVersion: 9 }, undefined, "obj"), {
      message: 'Cannot read ONNX model "obj": it has no graph',
    });
    assert.throws(() => Graph.fromModel({ irVersion: 9 }), /Cannot read ONNX model "<model>"/);
  });
});

Deno.test("Graph builder basics: names, constants, outputs", () => {
  const g = new Graph("basics");
  const x = g.input("x", "float32", [2]);
  assert.throws(() => g.input("x", "float32", [2]), /Graph "basics": value "x" is already defined/);
  const y = add(x, 1);
  assert.match(y.name, /^val_\d+$/);
  assert.equal(add(x, 1).graph, g);
  assert.equal(
    g.constant(tensor("float32", [], [1])),
    g.constant(tensor("float32", [], [1])),
    "constants are shared",
  );
  g.output(y);
  assert.throws(() => g.output(y), /"val_\d+" is already an output/);
  const named = g.output(y, "named");
  assert.equal(named.name, "named");
  assert.equal(g.nodes.at(-1)!.opType, "Identity");
  assert.equal(g.scoped("w"), "w");
  assert.equal(g.scope("a", () => g.scope("b", () => g.scoped("w"))), "a.b.w");
  assert.equal(g.param("p", tensor("float32", [1], [0])).name, "p");
  assert.ok(g.parameters.has("p"));
  assert.equal(g.constValue("p"), undefined, "a parameter is not a constant");
});
