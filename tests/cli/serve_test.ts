import assert from "node:assert/strict";
import { main } from "../../cli/serve.ts";
import { FIXTURE } from "../infer/ner_fixture.ts";

/** The fixture folder with its graph also listed as the `int8` variant (which file opens is what counts). */
async function folderWithInt8(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nersota-variant-" });
  for (const f of ["config.json", "vocab.txt", "inference.onnx"]) {
    await Deno.copyFile(new URL(f, FIXTURE), `${dir}/${f}`);
  }
  await Deno.copyFile(new URL("inference.onnx", FIXTURE), `${dir}/inference.int8.onnx`);
  const meta = JSON.parse(await Deno.readTextFile(new URL("nersota.json", FIXTURE)));
  await Deno.writeTextFile(
    `${dir}/nersota.json`,
    JSON.stringify({ ...meta, variants: { int8: "inference.int8.onnx" } }),
  );
  return dir;
}

/** Runs `serve` with `args` on a free port; `stop()` stops it and resolves to its exit status. */
async function serving(args: string[]): Promise<{ url: string; stop: () => Promise<number> }> {
  const ac = new AbortController();
  let port = 0;
  const listening = Promise.withResolvers<void>();
  const done = main([...args, "--port", "0"], {
    signal: ac.signal,
    handleSignals: false,
    onListen: (a) => (port = a.port, listening.resolve()),
  });
  await Promise.race([listening.promise, done.then((c) => Promise.reject(new Error(`serve exited ${c}`)))]);
  return { url: `http://127.0.0.1:${port}`, stop: () => (ac.abort(), done) };
}

Deno.test("serve opens the int8 variant by default on cpu, float32 with --variant fp32", async () => {
  const dir = await folderWithInt8();
  try {
    for (
      const [flags, file] of [[[], "inference.int8.onnx"], [["--variant", "fp32"], "inference.onnx"]] as const
    ) {
      const server = await serving(["--model", dir, ...flags]);
      const info = await (await fetch(`${server.url}/v1/model`)).json();
      assert.equal(info.onnxFile, file);
      assert.equal(info.provider, "cpu");
      assert.equal(await server.stop(), 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: flags are checked before the model loads", async () => {
  const missing = "/nonexistent/model";
  await assert.rejects(() => main(["--model", missing, "--port", "x"]), /--port must be an integer/);
  await assert.rejects(() => main(["--model", missing, "--provider", "gpu"]), /--provider must be one of/);
  await assert.rejects(
    () => main(["--model", missing, "--max-tokens", "0"]),
    /--max-tokens must be an integer ≥ 1/,
  );
  await assert.rejects(() => main(["--model", missing, "--cors", "example.com/x"]), /--cors takes an origin/);
  await assert.rejects(
    () => main(["--model", missing, "--min-score", "2"]),
    /--min-score must be a number from 0 to 1/,
  );
});

Deno.test("serve --min-score reaches the model in its worker: /v1/model reports it and low-scoring entities go", async () => {
  const text = "어제 강남역에서 민수랑 만났어";
  for (const [flags, floor] of [[[], 0], [["--min-score", "1"], 1]] as const) {
    const server = await serving(["--model", FIXTURE.pathname, ...flags]);
    const info = await (await fetch(`${server.url}/v1/model`)).json();
    assert.equal(info.minScore, floor);
    const r = await fetch(`${server.url}/v1/recognize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    const { entities } = await r.json();
    // The fixture's random weights score every entity below 1: all of them with no floor, none with floor 1.
    if (floor === 0) assert.ok(entities.length > 0 && entities.every((e: { score: number }) => e.score < 1));
    else assert.deepEqual(entities, []);
    assert.equal(await server.stop(), 0);
  }
});
