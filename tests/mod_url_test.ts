// mod.ts imported by URL from a project with no deno.json and no import map: the repository is served on
// 127.0.0.1, and a script in a temporary folder (`deno run --no-config`) imports mod.ts and the default model
// from that server. Its entities must equal those of the same model loaded here from the file system.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { serveStatic } from "../infer/static_server.ts";
import { loadRecognizer } from "../mod.ts";

const ROOT = new URL("../", import.meta.url);
const SENTENCES = ["어제 강남역에서 민수랑 만났어", "다음 주 월요일에 부산에서 김철수 선수를 봤다 😀"];

Deno.test({
  name: "mod.ts by URL: deno run --no-config in an empty folder loads the default model over HTTP",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const ac = new AbortController();
    const server = serveStatic({ root: fileURLToPath(ROOT), port: 0, signal: ac.signal });
    const base = `http://127.0.0.1:${server.addr.port}/`;
    const dir = await Deno.makeTempDir({ prefix: "nersota-url-" });
    try {
      await Deno.writeTextFile(
        `${dir}/main.ts`,
        `import { loadRecognizer } from "${base}mod.ts";
const ner = await loadRecognizer("${base}models/default/", { provider: "cpu" });
console.log(JSON.stringify(await ner.recognize(${JSON.stringify(SENTENCES)})));
await ner.release();
`,
      );
      const run = await new Deno.Command(Deno.execPath(), {
        // Only loopback imports and reads of the npm cache; the random port keeps Deno's module cache fresh.
        args: ["run", "--no-config", "--no-lock", "-A", `--reload=${base}`, "main.ts"],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(run.stdout);
      assert.ok(run.success, `deno run failed:\n${new TextDecoder().decode(run.stderr)}`);
      const ner = await loadRecognizer(new URL("models/default/", ROOT), { provider: "cpu" });
      const expected = await ner.recognize(SENTENCES);
      await ner.release();
      assert.ok(expected.flat().length > 0, "the default model finds entities in the test sentences");
      assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(expected)));
    } finally {
      ac.abort();
      await server.finished;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno publish --dry-run passes and ships the code, its LICENSE and no model weights", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: fileURLToPath(ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  assert.ok(run.success, log);
  const files = [...log.matchAll(/file:\/\/\S+/g)].map((m) => m[0].slice(fileURLToPath(ROOT).length + 7));
  for (const f of ["LICENSE", "mod.ts", "onnx/proto.ts", "infer/pipeline.ts"]) {
    assert.ok(files.includes(f), f);
  }
  assert.deepEqual(files.filter((f) => f.startsWith("models/") || f.startsWith("tests/")), []);
});
