// deno.json: `deno task` lists a description for every task, and the npm packages the import map names are the
// versions the sources import by npm: specifier (so running here and importing by URL load the same code). The
// documentation names only tasks deno.json defines and links only files that exist.
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
  const sources = ["onnx/proto.ts", "onnx/runtime.ts", "web/app.ts", "cli/compiled_main.ts"];
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

/** README.md and every docs/*.md: the user-facing documentation whose commands and links must stay true. */
async function docFiles(): Promise<[string, string][]> {
  const names = ["README.md"];
  for await (const e of Deno.readDir(new URL("docs/", ROOT))) {
    if (e.isFile && e.name.endsWith(".md")) names.push(`docs/${e.name}`);
  }
  return await Promise.all(
    names.sort().map(async (n) => [n, await Deno.readTextFile(new URL(n, ROOT))] as [string, string]),
  );
}

Deno.test("every `deno task X` in README.md and docs/ is a deno.json task", async () => {
  const tasks = new Set(Object.keys(config.tasks as Record<string, unknown>));
  let seen = 0;
  for (const [name, text] of await docFiles()) {
    // A command may wrap between "task" and its name in a formatted paragraph.
    for (const m of text.matchAll(/deno\s+task\s+([a-z][a-z0-9-]*)/g)) {
      seen++;
      assert.ok(tasks.has(m[1]), `${name} mentions "deno task ${m[1]}", which deno.json does not define`);
    }
  }
  assert.ok(seen > 20, `only ${seen} task mentions found: is the pattern still right?`);
});

Deno.test("every relative link in README.md and docs/ points to a file or folder that exists", async () => {
  let seen = 0;
  for (const [name, text] of await docFiles()) {
    for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: and the like
      seen++;
      const url = new URL(target, new URL(name, ROOT));
      const found = await Deno.stat(url).then(() => true, () => false);
      assert.ok(found, `${name} links to "${target}", which does not exist`);
    }
  }
  assert.ok(seen > 10, `only ${seen} relative links found: is the pattern still right?`);
});

Deno.test("every source, config or script path quoted in README.md and docs/ exists", async () => {
  const tops = "onnx|infer|train|cli|web|bench|recipes|configs|models|docs|tests|fixtures|data|\\.ci";
  // `path` in backquotes under one of our folders, naming a file by its extension (no placeholders).
  const pattern = new RegExp(`\`((?:${tops})/[\\w./-]+\\.(?:ts|json|sh|md|py|tsv))\``, "g");
  let seen = 0;
  for (const [name, text] of await docFiles()) {
    for (const m of text.matchAll(pattern)) {
      seen++;
      const found = await Deno.stat(new URL(m[1], ROOT)).then(() => true, () => false);
      assert.ok(found, `${name} names \`${m[1]}\`, which does not exist`);
    }
  }
  assert.ok(seen > 20, `only ${seen} quoted paths found: is the pattern still right?`);
});

Deno.test("README.md is a user guide: at most 250 lines, with the test command CI runs", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const lines = readme.trimEnd().split("\n").length;
  assert.ok(lines <= 250, `README.md has ${lines} lines; move details to docs/`);
  const ci = await Deno.readTextFile(new URL(".ci/run", ROOT));
  const version = /^DENO_VERSION=(\S+)$/m.exec(ci)?.[1];
  assert.ok(version && /npx --yes "deno@\$DENO_VERSION" task test/.test(ci), ".ci/run runs deno task test");
  const command = `npx --yes deno@${version} task test`;
  assert.ok(readme.includes(command), `README's quick start lacks .ci/run's test command "${command}"`);
});
