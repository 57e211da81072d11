import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../train/quantize_cli.ts";
import { loadRecognizer } from "../../infer/pipeline.ts";

Deno.test("deno task quantize writes a loadable int8 copy of a model folder and refuses bad input", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "int8");
    assert.equal(await main(["--model", "fixtures/ner-tiny", "--weights", "int8", "--out", out, "--min-elements", "16"]), 0);
    const meta = JSON.parse(await Deno.readTextFile(join(out, "nersota.json")));
    assert.equal(meta.quantized, "int8");
    const [a, b] = await Promise.all(["fixtures/ner-tiny/inference.onnx", join(out, "inference.onnx")].map((p) => Deno.stat(p)));
    assert.ok(b.size < 0.4 * a.size, `${b.size} vs ${a.size} bytes`);
    const ner = await loadRecognizer(out);
    assert.ok(Array.isArray(await ner.recognize("어제 강남역에서 민수랑 만났어")));
    await ner.release();
    await assert.rejects(main(["--model", out, "--weights", "fp16", "--out", join(dir, "again")]), /already quantised \(int8\)/);
    assert.equal(await main(["--model", "fixtures/ner-tiny", "--weights", "int4", "--out", out]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
