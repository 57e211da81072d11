// Model folders carry checksums, checked at load (issue 22, item 5).
import assert from "node:assert/strict";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { sealFolderFiles } from "../../infer/model_folder.ts";
import { FIXTURE, SENTENCES } from "./ner_fixture.ts";

/** A sealed copy of the fixture folder in a temporary folder. */
async function sealedCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nersota-sealed-" });
  const files: Record<string, Uint8Array | string> = {};
  for (const name of ["config.json", "inference.onnx", "nersota.json", "vocab.txt"]) {
    files[name] = await Deno.readFile(new URL(name, FIXTURE));
  }
  await sealFolderFiles(files);
  for (const [name, data] of Object.entries(files)) {
    await (typeof data === "string"
      ? Deno.writeTextFile(`${dir}/${name}`, data)
      : Deno.writeFile(`${dir}/${name}`, data));
  }
  return dir;
}

Deno.test("a flipped byte in inference.onnx or a shuffled vocab.txt fails at load, naming the file", async () => {
  const dir = await sealedCopy();
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/nersota.json`));
    assert.deepEqual(Object.keys(meta.sha256), ["config.json", "inference.onnx", "vocab.txt"]);
    const ner = await loadRecognizer(dir, { provider: "cpu" });
    const ref = await loadRecognizer(FIXTURE, { provider: "cpu" });
    assert.deepEqual(await ner.recognize(SENTENCES), await ref.recognize(SENTENCES));
    await ner.release();
    await ref.release();

    const onnx = await Deno.readFile(`${dir}/inference.onnx`);
    const flipped = onnx.slice();
    flipped[flipped.length - 100] ^= 1;
    await Deno.writeFile(`${dir}/inference.onnx`, flipped);
    await assert.rejects(
      () => loadRecognizer(dir, { provider: "cpu" }),
      /inference\.onnx" does not match its SHA-256 in nersota\.json/,
    );
    await Deno.writeFile(`${dir}/inference.onnx`, onnx);

    const vocab = (await Deno.readTextFile(`${dir}/vocab.txt`)).split("\n");
    [vocab[10], vocab[11]] = [vocab[11], vocab[10]];
    await Deno.writeTextFile(`${dir}/vocab.txt`, vocab.join("\n"));
    await assert.rejects(
      () => loadRecognizer(dir, { provider: "cpu" }),
      /vocab\.txt" does not match its SHA-256/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
