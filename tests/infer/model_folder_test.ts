import assert from "node:assert/strict";
import {
  checkLabels,
  defaultVariant,
  folderDecoding,
  folderUrl,
  INFERENCE_FORMAT,
  isUrl,
  memorySource,
  parseMeta,
  readModelFolder,
  urlSource,
} from "../../infer/model_folder.ts";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { FIXTURE, SENTENCES } from "./ner_fixture.ts";

const FILES = ["config.json", "vocab.txt", "inference.onnx", "nersota.json"];

async function fixtureFiles(): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const f of FILES) out[f] = await Deno.readFile(new URL(f, FIXTURE));
  return out;
}

Deno.test("folderUrl() resolves paths, relative paths and URLs to folder URLs", () => {
  assert.equal(folderUrl("/a/b").href, "file:///a/b/");
  assert.equal(folderUrl("https://x.test/m").href, "https://x.test/m/");
  assert.equal(folderUrl("m/x", "file:///root/").href, "file:///root/m/x/");
  assert.equal(folderUrl("/a b/#1").href, "file:///a%20b/%231/");
  assert.equal(folderUrl("rel").href, new URL("rel/", `file://${Deno.cwd()}/`).href);
  assert.ok(isUrl("file:///x") && isUrl("https://x") && !isUrl("C:\\models") && !isUrl("models/x"));
});

Deno.test("readModelFolder() reads the fixture from a path and from a file: URL", async () => {
  const a = await readModelFolder(urlSource("fixtures/ner-tiny"));
  const b = await readModelFolder(urlSource(FIXTURE));
  assert.equal(a.labels.length, 13);
  assert.equal(a.labels[0], "O");
  assert.equal(a.meta.format, INFERENCE_FORMAT);
  assert.equal(a.meta.labelMode, "first-subword");
  assert.deepEqual(a.onnx, b.onnx);
  assert.equal(a.vocab, b.vocab);
  assert.equal(await urlSource(FIXTURE).read("missing.txt"), undefined);
});

Deno.test("readModelFolder() names the folder and the missing or bad file", async () => {
  const files = await fixtureFiles();
  const without = (name: string) => Object.fromEntries(Object.entries(files).filter(([k]) => k !== name));
  await assert.rejects(
    () => readModelFolder(memorySource(without("nersota.json"), "m")),
    /"m" has no nersota\.json/,
  );
  await assert.rejects(
    () => readModelFolder(memorySource(without("inference.onnx"), "m")),
    /"m" has no inference\.onnx/,
  );
  await assert.rejects(
    () => readModelFolder(memorySource(without("vocab.txt"), "m")),
    /neither vocab\.txt nor tokenizer\.json/,
  );
  await assert.rejects(
    () => readModelFolder(memorySource({ ...files, "nersota.json": "{" }, "m")),
    /m\/nersota\.json:1:2: not valid JSON: /,
  );
  // config.json: an error about one of its keys names the line (on the fixture's layout, one key a line).
  const config = new TextDecoder().decode(files["config.json"]).replace(
    '"hidden_size": 32',
    '"hidden_size": 0',
  );
  await assert.rejects(
    () => readModelFolder(memorySource({ ...files, "config.json": config }, "m")),
    {
      message: `m/config.json:${
        config.split("\n").findIndex((l) => l.includes('"hidden_size"')) + 1
      }: hidden_size must be a positive integer, got 0`,
    },
  );
  await assert.rejects(
    () => readModelFolder(memorySource(files, "m"), { variant: "int8" }),
    /no "int8" variant \(has: fp32\)/,
  );
  await assert.rejects(
    () => readModelFolder(urlSource("/nonexistent/model")),
    /"\/nonexistent\/model\/" has no config\.json/,
  );
});

Deno.test("parseMeta() fills defaults and rejects bad values by key", () => {
  const m = parseMeta({ format: INFERENCE_FORMAT, version: 1 }, "n.json", 512);
  assert.equal(m.maxLength, 128);
  assert.equal(m.stride, 31);
  assert.equal(m.labelMode, "first-subword");
  assert.throws(() => parseMeta({ format: "x", version: 1 }), /"format" is "x"/);
  assert.throws(() => parseMeta({ format: INFERENCE_FORMAT, version: 2 }), /"version" is 2/);
  assert.throws(
    () => parseMeta({ format: INFERENCE_FORMAT, version: 1, maxLength: 1024 }, "n.json", 512),
    /"maxLength" is 1024.*\[3, 512\]/,
  );
  assert.throws(
    () => parseMeta({ format: INFERENCE_FORMAT, version: 1, maxLength: 16, stride: 14 }),
    /"stride" is 14/,
  );
  assert.throws(() => parseMeta({ format: INFERENCE_FORMAT, version: 1, scheme: "IOB2" }), /"scheme"/);
  assert.throws(() => parseMeta([]), /JSON object/);
  assert.equal(m.decoding, "argmax");
  const v = { format: INFERENCE_FORMAT, version: 1, labelMode: "all-subwords", decoding: "bio-viterbi" };
  assert.equal(parseMeta(v).decoding, "bio-viterbi");
  assert.throws(
    () => parseMeta({ ...v, decoding: "beam" }),
    /"decoding" is "beam", expected "argmax" or "bio-viterbi"/,
  );
  assert.throws(
    () => parseMeta({ ...v, labelMode: "first-subword" }),
    /"decoding" is "bio-viterbi".*first-subword/,
  );
  assert.equal(m.symbolEntities, undefined); // keep, and absent from the folder's metadata
  assert.equal(parseMeta({ ...v, symbolEntities: "drop" }).symbolEntities, "drop");
  assert.equal(parseMeta({ ...v, symbolEntities: "keep" }).symbolEntities, undefined);
  assert.throws(
    () => parseMeta({ ...v, symbolEntities: true }),
    /"symbolEntities" is true, expected "keep" or "drop"/,
  );
  assert.equal(m.minScore, undefined); // no floor, and absent from the folder's metadata
  assert.equal(parseMeta({ ...v, minScore: 0.7 }).minScore, 0.7);
  assert.equal(parseMeta({ ...v, minScore: 0 }).minScore, undefined);
  for (const bad of [1.5, -1, "0.7", true]) {
    assert.throws(
      () => parseMeta({ ...v, minScore: bad }),
      /"minScore" is .*, expected a number from 0 to 1/,
    );
  }
});

Deno.test("folderDecoding() takes the override, else the folder's, and refuses bio-viterbi on first-subword models", () => {
  const folder = (labelMode: string, decoding?: string) => ({
    location: "m/",
    meta: parseMeta({ format: INFERENCE_FORMAT, version: 1, labelMode, ...(decoding ? { decoding } : {}) }),
  });
  assert.equal(folderDecoding(folder("first-subword")), "argmax");
  assert.equal(folderDecoding(folder("all-subwords", "bio-viterbi")), "bio-viterbi");
  assert.equal(folderDecoding(folder("all-subwords", "bio-viterbi"), "argmax"), "argmax");
  assert.equal(folderDecoding(folder("all-subwords"), "bio-viterbi"), "bio-viterbi");
  assert.throws(
    () => folderDecoding(folder("first-subword"), "bio-viterbi"),
    /needs an all-subwords model; "m\/" is first-subword/,
  );
  assert.throws(
    () => folderDecoding(folder("all-subwords"), "beam" as never),
    /must be "argmax" or "bio-viterbi", got "beam"/,
  );
});

Deno.test("checkLabels() accepts the scheme's prefixes only", () => {
  checkLabels(["O", "B-PS", "I-PS"], "BIO");
  checkLabels(["O", "B-PS", "I-PS", "E-PS", "S-PS"], "BIOES");
  assert.throws(() => checkLabels(["O", "S-PS"], "BIO"), /id2label\[1\] is "S-PS"/);
  assert.throws(() => checkLabels(["O", "PER"], "BIO"), /id2label\[1\]/);
});

Deno.test("loadRecognizer() over http(s)-style URLs equals loading from a path", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const name = new URL(req.url).pathname.replace(/^\/model\//, "");
      if (!FILES.includes(name)) return new Response("not found", { status: 404 });
      return new Response(await Deno.readFile(new URL(name, FIXTURE)));
    },
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/model/`;
    const http = await loadRecognizer(url, { provider: "cpu" });
    const local = await loadRecognizer(FIXTURE, { provider: "cpu" });
    assert.equal(http.info.location, url);
    assert.deepEqual(await http.recognize(SENTENCES), await local.recognize(SENTENCES));
    await http.release();
    await local.release();
    await assert.rejects(
      () => loadRecognizer(`http://127.0.0.1:${server.addr.port}/nothing/`),
      /has no config\.json/,
    );
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("int8 by default on the cpu provider where the folder lists it; fp32 by flag, and elsewhere", async () => {
  const files = await fixtureFiles();
  const meta = JSON.parse(new TextDecoder().decode(files["nersota.json"]));
  // The int8 file is the fixture's graph under another name: the test is about which file opens.
  const withInt8 = memorySource({
    ...files,
    "inference.int8.onnx": files["inference.onnx"],
    "nersota.json": JSON.stringify({ ...meta, variants: { int8: "inference.int8.onnx" } }),
  }, "m");
  assert.equal(defaultVariant({ variants: { int8: "x.onnx" } }, "cpu"), "int8");
  assert.equal(defaultVariant({ variants: { int8: "x.onnx" } }, "wasm"), undefined);
  assert.equal(defaultVariant({ variants: {} }, "cpu"), undefined);
  const opened = async (o: { variant?: string; provider?: string }) =>
    (await readModelFolder(withInt8, o)).onnxFile;
  assert.equal(await opened({ provider: "cpu" }), "inference.int8.onnx");
  assert.equal(await opened({ provider: "cpu", variant: "fp32" }), "inference.onnx");
  assert.equal(await opened({ provider: "wasm" }), "inference.onnx");
  assert.equal(await opened({}), "inference.onnx", "no provider: float32 (what eval measures unless asked)");
  assert.equal(
    (await readModelFolder(memorySource(files, "m"), { provider: "cpu" })).onnxFile,
    "inference.onnx",
  );
  // loadRecognizer: cpu is the default provider under Deno, so int8 opens unless fp32 is asked for.
  for (const [variant, file] of [[undefined, "inference.int8.onnx"], ["fp32", "inference.onnx"]]) {
    const ner = await loadRecognizer(withInt8, { variant });
    assert.equal(ner.info.onnxFile, file);
    assert.equal(ner.info.provider, "cpu");
    await ner.release();
  }
});
