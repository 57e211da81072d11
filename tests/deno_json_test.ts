// deno.json: `deno task` lists a description for every task, and the npm packages the import map names are the
// versions the sources import by npm: specifier (so running here and importing by URL load the same code).
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));

Deno.test("every deno.json task has a description and a command, and `deno task` lists them", async () => {
  const tasks = Object.entries(config.tasks as Record<string, unknown>);
  assert.ok(tasks.length > 0);
  const list = await new Deno.Command(Deno.execPath(), {
    args: ["task"],
    cwd: fileURLToPath(ROOT),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const listed = new TextDecoder().decode(list.stdout) + new TextDecoder().decode(list.stderr);
  for (const [name, task] of tasks) {
    const t = task as { description?: unknown; command?: unknown };
    assert.equal(typeof t, "object", `task "${name}" is a bare string, with no description`);
    assert.ok(typeof t.description === "string" && t.description.length > 10, `task "${name}" description`);
    assert.ok(typeof t.command === "string" && t.command.length > 0, `task "${name}" command`);
    assert.ok(
      listed.includes(`// ${t.description}`),
      `deno task does not list "${name}" with its description`,
    );
  }
});

Deno.test("the import map's npm versions are the ones the sources import by npm: specifier", async () => {
  const sources = ["onnx/proto.ts", "onnx/runtime.ts", "web/app.ts", "infer/compiled_main.ts"];
  const text = (await Promise.all(sources.map((s) => Deno.readTextFile(new URL(s, ROOT))))).join("\n");
  const used = new Set([...text.matchAll(/"npm:([@a-z0-9./-]+?@[0-9.]+)/g)].map((m) => m[1]));
  assert.ok(used.size >= 3);
  // onnx/runtime.ts builds its specifiers from one version string.
  const runtimeVersion = /isDeno\(\) \? \["npm:", "@([0-9.]+)"\]/.exec(text)?.[1];
  for (const pkg of ["onnxruntime-node", "onnxruntime-web"]) used.add(`${pkg}@${runtimeVersion}`);
  const mapped = new Set(Object.values(config.imports as Record<string, string>).map((v) => v.slice(4)));
  for (const u of used) {
    assert.ok(mapped.has(u.replace(/(@[0-9.]+)\/.*$/, "$1")), `deno.json imports lack ${u}`);
  }
  for (const s of sources) {
    const bare = /from "(onnxruntime-(node|web)|protobufjs)"|import\("(onnxruntime-(node|web)|protobufjs)/;
    assert.ok(!bare.test(await Deno.readTextFile(new URL(s, ROOT))), `${s} imports a bare npm name`);
  }
});
