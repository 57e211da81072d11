import assert from "node:assert/strict";
import { ELECTRA_SMALL, electraConfig } from "../../../onnx/electra/config.ts";
import { fromWeights, initParams } from "../../../onnx/electra/init.ts";
import { buildTokenClassificationGraph } from "../../../onnx/electra/token_classification.ts";

Deno.test("initParams() initialises as ELECTRA/HF do, deterministically per name", () => {
  const p = initParams({ seed: 3, std: 0.02, padTokenId: 0 });
  const w = p("electra.encoder.layer.0.intermediate.dense.weight", [256, 1024], "normal");
  const data = w.data as Float32Array;
  const mean = data.reduce((s, v) => s + v, 0) / data.length;
  const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
  assert.ok(Math.abs(mean) < 5e-4 && Math.abs(std - 0.02) < 5e-4, `mean ${mean}, std ${std}`);
  assert.deepEqual(
    p("electra.encoder.layer.0.intermediate.dense.weight", [256, 1024], "normal").data,
    data,
    "same name, same values",
  );
  assert.notDeepEqual(
    initParams({ seed: 4 })("electra.encoder.layer.0.intermediate.dense.weight", [4], "normal").data,
    initParams({ seed: 3 })("electra.encoder.layer.0.intermediate.dense.weight", [4], "normal").data,
  );
  const emb = p("electra.embeddings.word_embeddings.weight", [10, 8], "embedding").data as Float32Array;
  assert.deepEqual(Array.from(emb.slice(0, 8)), new Array(8).fill(0), "padding row is zero");
  assert.ok(emb.slice(8).some((v) => v !== 0));
  assert.deepEqual(Array.from(p("x.LayerNorm.weight", [3], "ones").data as Float32Array), [1, 1, 1]);
  assert.deepEqual(Array.from(p("x.bias", [3], "zeros").data as Float32Array), [0, 0, 0]);
});

Deno.test("the ELECTRA-small token-classification graph has HF-sized parameters", () => {
  const g = buildTokenClassificationGraph({ config: electraConfig(), numLabels: 13 });
  let count = 0;
  for (const name of g.parameters) count += g.initializers.get(name)!.data.length;
  // 35000·128 + 512·128 + 2·128 + 2·128 (embeddings) + 128·256 + 256 (projection)
  // + 12 · (4·(256² + 256) + 2·2·256 + 256·1024 + 1024 + 1024·256 + 256) + 256·13 + 13
  const layer = 4 * (256 * 256 + 256) + 4 * 256 + 256 * 1024 + 1024 + 1024 * 256 + 256;
  assert.equal(
    count,
    35000 * 128 + 512 * 128 + 2 * 128 + 2 * 128 + 128 * 256 + 256 + 12 * layer + 256 * 13 + 13,
  );
  assert.equal(ELECTRA_SMALL.vocabSize, 35000);
});

Deno.test("fromWeights() names the tensor that is missing or misshapen", () => {
  const src = fromWeights({ a: { dtype: "float32", dims: [2, 3], data: new Float32Array(6) } }, {
    source: "m.safetensors",
  });
  assert.throws(() => src("b", [1], "zeros"), /Missing tensor "b" in "m\.safetensors"/);
  assert.throws(
    () => src("a", [3, 2], "normal"),
    /Tensor "a" in "m\.safetensors" has shape \[2, 3\], expected \[3, 2\]/,
  );
  assert.equal(src("a", [2, 3], "normal").dtype, "float32");
});
