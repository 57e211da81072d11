import assert from "node:assert/strict";
import { join } from "node:path";
import { quantizeFolder } from "../../../train/release/quantize_folder.ts";
import { loadRecognizer } from "../../../infer/pipeline.ts";
import { decodeModel } from "../../../onnx/proto.ts";

Deno.test("quantizeFolder() writes a loadable int8 copy of a model folder and refuses a quantised one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "int8");
    const q = await quantizeFolder({ model: "fixtures/ner-tiny", weights: "int8", out, minElements: 16 });
    const meta = JSON.parse(await Deno.readTextFile(join(out, "nersota.json")));
    assert.equal(meta.quantized, "int8");
    const [a, b] = await Promise.all(
      ["fixtures/ner-tiny/inference.onnx", join(out, "inference.onnx")].map((p) => Deno.stat(p)),
    );
    assert.ok(b.size < 0.4 * a.size, `${b.size} vs ${a.size} bytes`);
    assert.deepEqual(q, { fromBytes: a.size, toBytes: b.size, int8VariantBytes: undefined });
    const ner = await loadRecognizer(out);
    assert.ok(Array.isArray(await ner.recognize("어제 강남역에서 민수랑 만났어")));
    await ner.release();
    await assert.rejects(
      quantizeFolder({ model: out, weights: "fp16", out: join(dir, "again") }),
      /already quantised \(int8\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quantizeFolder() with int8Variant adds inference.int8.onnx (int8 dense layers) as the folder's int8 variant", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "int8");
    const q = await quantizeFolder({
      model: "fixtures/ner-tiny",
      weights: "int8",
      out,
      minElements: 16,
      int8Variant: true,
    });
    assert.equal(q.int8VariantBytes, (await Deno.stat(join(out, "inference.int8.onnx"))).size);
    const meta = JSON.parse(await Deno.readTextFile(join(out, "nersota.json")));
    assert.deepEqual(meta.variants, { int8: "inference.int8.onnx" });
    const graph = decodeModel(await Deno.readFile(join(out, "inference.int8.onnx")));
    assert.ok(
      graph.graph!.node!.some((n) => n.opType === "DynamicQuantizeMatMul" && n.domain === "com.microsoft"),
    );
    const texts = ["어제 강남역에서 민수랑 만났어", "오늘 세시에 삼성 회사에서 영희를 봤어요"];
    const float = await loadRecognizer(out);
    const int8 = await loadRecognizer(out, { variant: "int8" });
    try {
      assert.equal(int8.info.onnxFile, "inference.int8.onnx");
      const [a, b] = [await float.recognize(texts), await int8.recognize(texts)];
      // Both decode whole texts; the fixture's random weights make the entities themselves meaningless.
      assert.equal(b.length, a.length);
      for (const es of b) for (const e of es) assert.ok(e.score > 0 && e.score <= 1 && e.end > e.start);
    } finally {
      await float.release();
      await int8.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
