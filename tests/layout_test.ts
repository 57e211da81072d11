// The import rule of docs/architecture.md ("Layers and the import rule"), read from every .ts file's imports:
// onnx/ ← infer/ ← train/ ← cli/; web/ and bench/ on top; nothing imports cli/ (tests aside); a CLI never
// imports another CLI; onnx/ and infer/ use no Deno.* outside the Deno-only adapters listed below.
import assert from "node:assert/strict";
import { join, normalize, relative, sep as SEPARATOR } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SKIP = new Set(["node_modules", ".git", ".deno", "runs", "tmp", ".carry", "compiled_bundle"]);

/** What each top-level folder (or root file) may import of ours; tests/ may import anything. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  onnx: ["onnx"],
  infer: ["onnx", "infer"],
  train: ["onnx", "infer", "train"],
  cli: ["onnx", "infer", "train", "cli"],
  web: ["onnx", "infer", "train", "web"],
  bench: ["onnx", "infer", "train", "bench"],
  data: ["onnx", "infer", "train", "data"],
  fixtures: ["onnx", "infer", "train", "fixtures"],
  "mod.ts": ["onnx", "infer", "train"],
};

/** Imports across the rule that are allowed, each for its reason. */
const ALLOWED: Record<string, string> = {
  // The binary `deno task compile` builds is the ner CLI with an embedded model: its entry runs that main.
  "cli/compiled_main.ts -> cli/ner.ts": "the compiled binary runs the ner CLI",
  // Bench scripts are entry points too and share the CLI runner and flag helpers.
  "bench/rtd_reference/dump_batches.ts -> cli/util.ts": "a bench entry point uses the CLI helpers",
};

/** Files of onnx/ and infer/ that are Deno-only adapters (an HTTP server), so may use Deno.*. */
const DENO_ADAPTERS = new Set(["infer/server.ts", "infer/header_guard.ts", "infer/static_server.ts"]);

/** A relative import of ours found in a file: its line and specifier. */
interface Found {
  line: number;
  spec: string;
}

/** Relative specifiers of static imports/exports and dynamic `import(` calls, outside comments. */
export function importsOf(source: string): Found[] {
  const found: Found[] = [];
  let inBlock = false;
  source.split("\n").forEach((text, i) => {
    let code = text;
    if (inBlock) {
      const end = code.indexOf("*/");
      if (end < 0) return;
      code = code.slice(end + 2);
      inBlock = false;
    }
    const trimmed = code.trimStart();
    if (trimmed.startsWith("//") || trimmed.startsWith("*")) return;
    const open = code.indexOf("/*");
    if (open >= 0 && !code.slice(0, open).includes('"') && !code.slice(0, open).includes("`")) {
      if (code.indexOf("*/", open + 2) < 0) inBlock = true;
      code = code.slice(0, open);
    }
    for (
      const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(["'`])(\.{1,2}\/[^"'`$]*)\1/g)
    ) {
      found.push({ line: i + 1, spec: m[2] });
    }
  });
  return found;
}

/** The top-level folder of a repository path (`mod.ts` for the root module). */
function layerOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : path;
}

/** Whether a cli/ file is an entry point (runs under `import.meta.main`), which nothing may import. */
function isEntryPoint(source: string): boolean {
  return /^\s*if \(import\.meta\.main\)/m.test(source);
}

/** Breaches of the import rule by `path` (repository-relative, `/`-separated) whose text is `source`. */
export function violations(
  path: string,
  source: string,
  read: (path: string) => string | undefined,
): string[] {
  const layer = layerOf(path);
  if (layer === "tests") return [];
  const out: string[] = [];
  for (const { line, spec } of importsOf(source)) {
    const target = normalize(join(path, "..", spec)).split(SEPARATOR).join("/");
    if (target.startsWith("..")) continue; // ../shared and other folders beside the repository
    const to = layerOf(target);
    const where = `${path}:${line}: imports "${spec}" (${target})`;
    if (ALLOWED[`${path} -> ${target}`]) continue;
    const may = MAY_IMPORT[layer];
    if (may && !may.includes(to)) {
      out.push(
        `${where}: ${layer}/ may import only ${may.map((l) => l.endsWith(".ts") ? l : l + "/").join(", ")}`,
      );
    } else if (layer === "cli" && to === "cli" && target !== path) {
      const text = read(target);
      if (text !== undefined && isEntryPoint(text)) {
        out.push(`${where}: a CLI never imports another CLI; move what it needs to a library or cli/util.ts`);
      }
    }
  }
  if ((layer === "onnx" || layer === "infer") && !DENO_ADAPTERS.has(path)) {
    source.split("\n").forEach((text, i) => {
      const t = text.trimStart();
      if (t.startsWith("*") || t.startsWith("//") || t.startsWith("/*")) return;
      if (/(?<![\w.])Deno\./.test(text.replace(/\/\/.*$/, ""))) {
        out.push(
          `${path}:${i + 1}: uses Deno.* but ${layer}/ stays browser-safe (or list it in DENO_ADAPTERS)`,
        );
      }
    });
  }
  return out;
}

/** Every .ts file of the repository, relative and `/`-separated. */
async function sourceFiles(dir = ROOT): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (SKIP.has(e.name) || e.name.startsWith("dist")) continue;
    const full = join(dir, e.name);
    if (e.isDirectory) out.push(...await sourceFiles(full));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(relative(ROOT, full).split(SEPARATOR).join("/"));
  }
  return out;
}

Deno.test("the import rule holds: onnx ← infer ← train ← cli, web and bench on top, no CLI imports a CLI", async () => {
  const files = await sourceFiles();
  assert.ok(files.includes("onnx/graph.ts") && files.includes("cli/ner.ts"), "the walk finds the sources");
  const texts = new Map(
    await Promise.all(files.map(async (f) => [f, await Deno.readTextFile(join(ROOT, f))] as const)),
  );
  const problems = files.flatMap((f) => violations(f, texts.get(f)!, (p) => texts.get(p)));
  assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
  // Each exception still names a real import, so the list cannot go stale.
  for (const key of Object.keys(ALLOWED)) {
    const [from, to] = key.split(" -> ");
    const targets = importsOf(texts.get(from) ?? "").map(({ spec }) =>
      normalize(join(from, "..", spec)).split(SEPARATOR).join("/")
    );
    assert.ok(targets.includes(to), `ALLOWED lists "${key}", which no longer exists`);
  }
  for (const f of DENO_ADAPTERS) {
    assert.ok(texts.get(f)?.includes("Deno."), `DENO_ADAPTERS lists ${f}, which uses no Deno.*`);
  }
});

Deno.test("the import-rule checker names the file, line and forbidden import", () => {
  const none = () => undefined;
  assert.deepEqual(
    importsOf(
      'import { a } from "./a.ts";\n// import { b } from "./b.ts";\nconst m = await import("../c.ts");',
    ),
    [
      { line: 1, spec: "./a.ts" },
      { line: 3, spec: "../c.ts" },
    ],
  );
  assert.deepEqual(
    importsOf('/**\n * import { x } from "./x.ts";\n */\nexport * from "./y.ts";\nimport "./z.ts";'),
    [
      { line: 4, spec: "./y.ts" },
      { line: 5, spec: "./z.ts" },
    ],
  );
  assert.deepEqual(violations("train/x/a.ts", 'import { runMain } from "../../cli/util.ts";', none), [
    'train/x/a.ts:1: imports "../../cli/util.ts" (cli/util.ts): train/ may import only onnx/, infer/, train/',
  ]);
  assert.deepEqual(violations("onnx/a.ts", 'const s = 1;\nexport { x } from "../infer/b.ts";', none), [
    'onnx/a.ts:2: imports "../infer/b.ts" (infer/b.ts): onnx/ may import only onnx/',
  ]);
  const cliText = (p: string) => p === "cli/b.ts" ? "if (import.meta.main) {}" : "export const x = 1;";
  assert.deepEqual(
    violations("cli/a.ts", 'import { main } from "./b.ts";\nimport { x } from "./util.ts";', cliText),
    [
      'cli/a.ts:1: imports "./b.ts" (cli/b.ts): a CLI never imports another CLI; move what it needs to a library or cli/util.ts',
    ],
  );
  assert.deepEqual(
    violations("infer/a.ts", "// Deno.exit in a comment\nconst t = await Deno.readTextFile(p);", none),
    [
      "infer/a.ts:2: uses Deno.* but infer/ stays browser-safe (or list it in DENO_ADAPTERS)",
    ],
  );
  assert.deepEqual(violations("tests/a_test.ts", 'import { main } from "../cli/ner.ts";', none), []);
  assert.deepEqual(violations("web/app.ts", 'import { x } from "../infer/pipeline.ts";', none), []);
});
