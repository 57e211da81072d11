// The compiled binary's bundle and loader, tested without `deno compile` (which needs denort from the network).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  bundleHash,
  compileFailureHelp,
  extractBundle,
  isDownloadFailure,
  nativeFiles,
  sha256Hex,
  stageBundle,
  verifyDir,
} from "../../../train/release/bundle.ts";
import { FIXTURE } from "../../infer/ner_fixture.ts";
import { ORT_NODE, ROOT, staged } from "./staged_bundle.ts";

Deno.test("sha256Hex() and bundleHash() are stable and order-independent", async () => {
  assert.equal(await sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const a = await bundleHash({ format: "nersota-bundle", version: 1, files: { x: "1", y: "2" } });
  const b = await bundleHash({ format: "nersota-bundle", version: 1, files: { y: "2", x: "1" } });
  assert.equal(a, b);
  assert.equal(a.length, 16);
  assert.notEqual(a, await bundleHash({ format: "nersota-bundle", version: 1, files: { x: "1", y: "3" } }));
});

Deno.test("stageBundle() embeds the model and the native library with their hashes", async () => {
  const s = await staged();
  try {
    assert.ok(s.manifest.files["model/inference.onnx"]);
    assert.ok(s.manifest.files["model/nersota.json"]);
    if (Deno.build.os === "linux") assert.ok(s.manifest.files[`native/${nativeFiles().library}`]);
    assert.deepEqual(await verifyDir(s.stage, s.manifest), []);
    await assert.rejects(
      () => stageBundle(join(s.tmp, "nothing"), undefined, join(s.tmp, "b2")),
      /has no inference\.onnx/,
    );
    // Files that nersota.json names (CRF parameters, graph variants) travel with the model.
    const model = join(s.tmp, "model");
    await Deno.mkdir(model);
    for (const f of ["config.json", "vocab.txt", "inference.onnx"]) {
      await Deno.copyFile(join(fileURLToPath(FIXTURE), f), join(model, f));
    }
    const meta = JSON.parse(await Deno.readTextFile(join(fileURLToPath(FIXTURE), "nersota.json")));
    await Deno.writeTextFile(
      join(model, "nersota.json"),
      JSON.stringify({ ...meta, crf: "crf.safetensors", variants: { int8: "inference.int8.onnx" } }),
    );
    await Deno.writeFile(join(model, "crf.safetensors"), new Uint8Array([1]));
    await Deno.writeFile(join(model, "inference.int8.onnx"), new Uint8Array([2]));
    const m2 = await stageBundle(model, undefined, join(s.tmp, "b3"));
    assert.ok(
      m2.files["model/crf.safetensors"] && m2.files["model/inference.int8.onnx"],
      Object.keys(m2.files).join(", "),
    );
  } finally {
    await Deno.remove(s.tmp, { recursive: true });
  }
});

Deno.test("extractBundle(): extracts once, reuses a verified cache, replaces a tampered one", async () => {
  const s = await staged();
  try {
    const first = await extractBundle(s.manifest, s.read, s.cache);
    assert.equal(first.reused, false);
    assert.equal(first.dir, join(s.cache, await bundleHash(s.manifest)));
    assert.deepEqual(await verifyDir(first.dir, s.manifest), []);
    const second = await extractBundle(s.manifest, s.read, s.cache);
    assert.deepEqual(second, { dir: first.dir, reused: true });
    // Tamper: a truncated model file is detected by its hash and the folder re-extracted.
    await Deno.writeFile(join(first.dir, "model/inference.onnx"), new Uint8Array(10));
    const third = await extractBundle(s.manifest, s.read, s.cache);
    assert.equal(third.reused, false);
    assert.deepEqual(await verifyDir(third.dir, s.manifest), []);
    // No temporary or damaged folders are left behind.
    const names = [...Deno.readDirSync(s.cache)].map((e) => e.name);
    assert.deepEqual(names, [await bundleHash(s.manifest)]);
  } finally {
    await Deno.remove(s.tmp, { recursive: true });
  }
});

Deno.test("extractBundle(): concurrent extractions agree; embedded files that fail their hash are refused", async () => {
  const s = await staged();
  try {
    const results = await Promise.all([1, 2, 3].map(() => extractBundle(s.manifest, s.read, s.cache)));
    assert.equal(new Set(results.map((r) => r.dir)).size, 1);
    assert.deepEqual(await verifyDir(results[0].dir, s.manifest), []);
    const cache2 = join(s.tmp, "cache2");
    await assert.rejects(
      () =>
        extractBundle(
          s.manifest,
          (name) => name.endsWith(".onnx") ? Promise.resolve(new Uint8Array(3)) : s.read(name),
          cache2,
        ),
      /"model\/inference\.onnx" does not match its SHA-256/,
    );
    assert.deepEqual([...Deno.readDirSync(cache2)], [], "a failed extraction leaves nothing");
  } finally {
    await Deno.remove(s.tmp, { recursive: true });
  }
});

Deno.test({
  name: "preloading the extracted library lets a lone copy of the addon load (the compiled-binary problem)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const s = await staged();
    try {
      const { dir } = await extractBundle(s.manifest, s.read, s.cache);
      const n = nativeFiles();
      // The addon alone in a folder, as `deno compile` unpacks it: no libonnxruntime.so.1 beside it.
      const addonDir = join(s.tmp, "addon");
      await Deno.mkdir(addonDir);
      await Deno.copyFile(join(ORT_NODE, n.dir, n.addon), join(addonDir, n.addon));
      const script = join(s.tmp, "load.ts");
      await Deno.writeTextFile(
        script,
        `import { createRequire } from "node:module";
         import { preloadNative } from ${JSON.stringify(join(ROOT, "train/release/bundle.ts"))};
         if (Deno.args[0] === "preload") { const e = preloadNative(${
          JSON.stringify(join(dir, "native", n.library))
        }); if (e) throw new Error(e); }
         const b = createRequire(import.meta.url)(${JSON.stringify(join(addonDir, n.addon))});
         console.log(typeof b.InferenceSession);`,
      );
      const run = async (arg: string) => {
        const o = await new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", script, arg],
          cwd: ROOT,
          stdout: "piped",
          stderr: "piped",
        }).output();
        return {
          ok: o.success,
          out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr),
        };
      };
      const without = await run("none");
      assert.equal(without.ok, false);
      assert.match(without.out, /libonnxruntime\.so\.1: cannot open shared object file/);
      const withPreload = await run("preload");
      assert.equal(withPreload.ok, true, withPreload.out);
      assert.match(withPreload.out, /function/);
    } finally {
      await Deno.remove(s.tmp, { recursive: true });
    }
  },
});

Deno.test("isDownloadFailure() recognises deno compile's offline error", () => {
  assert.ok(
    isDownloadFailure(
      "error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): dns error",
    ),
  );
  assert.ok(!isDownloadFailure('error: Module not found "file:///x.ts"'));
  assert.equal(compileFailureHelp("error: Module not found", 1, "/s"), "deno compile failed (exit 1)");
  assert.match(
    compileFailureHelp("dns error", 1, "/s"),
    /could not download denort .* The staged bundle in \/s /,
  );
});
