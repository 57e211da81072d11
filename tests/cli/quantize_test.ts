import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli/quantize.ts";
import { copyFolderFiles } from "../train/temp_dir.ts";

Deno.test("deno task quantize: flags reach the copy; bad flags exit 2, a quantised folder fails", async () => {
  const dir = await Deno.makeTempDir();
  const error = console.error;
  let err = "";
  console.error = (m: string) => void (err += m + "\n");
  try {
    const out = join(dir, "int8");
    const args = ["--model", "fixtures/ner-tiny", "--weights", "int8", "--out", out, "--min-elements", "16"];
    assert.equal(await main([...args, "--int8-variant"]), 0);
    const meta = JSON.parse(await Deno.readTextFile(join(out, "nersota.json")));
    assert.equal(meta.quantized, "int8");
    assert.deepEqual(meta.variants, { int8: "inference.int8.onnx" });
    assert.match(err, /^quantize: int8-computation variant \d+\.\d\d MiB \(inference\.int8\.onnx\)\n/);
    assert.match(err, /\nquantize: \d+\.\d\d MiB → \d+\.\d\d MiB \(int8\) in ".*int8"\n$/);
    await assert.rejects(
      main(["--model", out, "--weights", "fp16", "--out", join(dir, "again")]),
      /already quantised \(int8\)/,
    );
    assert.equal(await main(["--model", "fixtures/ner-tiny", "--weights", "int4", "--out", out]), 2);
    assert.equal(await main([...args.slice(0, 6), "--min-elements", "0"]), 2);
    assert.equal(await main(["--model", "fixtures/ner-tiny", "--out", out]), 2);
  } finally {
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task quantize refuses --out = --model: the float32 folder is kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await copyFolderFiles("fixtures/ner-tiny", dir);
    const before = await Deno.readFile(join(dir, "inference.onnx"));
    await assert.rejects(
      main(["--model", dir, "--weights", "int8", "--out", `${dir}/`]),
      /--out ".*" is the input --model ".*"; write the output elsewhere/,
    );
    assert.deepEqual(await Deno.readFile(join(dir, "inference.onnx")), before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
