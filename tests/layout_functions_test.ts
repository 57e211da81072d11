/**
 * No top-level function in the library folders runs over 150 lines. The count is crude but plain: from a
 * top-level `function` (or `const name = (…) =>`) line to its closing line at column 0 (`}`, `});`, …),
 * skipping column-0 lines inside template literals. Functions over the limit today are listed in `ALLOWED`
 * so that the list can only shrink: an entry that is gone or back under the limit fails until removed.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const LIMIT = 150;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The library folders and the command-line entry points. */
const FOLDERS = ["onnx", "infer", "train", "cli"];

/** `path function` of the functions over the limit today. */
const ALLOWED = new Set<string>([]);

const START =
  /^(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s+(\w+)|^(?:export\s+)?const\s+(\w+)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:\(|\w+\s*=>)/;
const CLOSE = /^[)}\]]/;
const OPENS = /[{([,]\s*$/;

/** Backticks on a line that open or close a template literal (escaped ones do not). */
function backticks(line: string): number {
  return (line.match(/(?<!\\)`/g) ?? []).length;
}

/** Top-level functions of a source text with their line counts. */
function functionLengths(text: string): { name: string; line: number; lines: number }[] {
  const lines = text.split("\n");
  const out: { name: string; line: number; lines: number }[] = [];
  let inTemplate = false;
  for (let i = 0; i < lines.length; i++) {
    const start = inTemplate ? null : START.exec(lines[i]);
    if (backticks(lines[i]) % 2) inTemplate = !inTemplate;
    if (!start) continue;
    const name = start[1] ?? start[2];
    if (!inTemplate && /[;}]\s*$/.test(lines[i]) && !OPENS.test(lines[i])) {
      out.push({ name, line: i + 1, lines: 1 });
      continue;
    }
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j];
      // An expression-bodied arrow function ends before the next top-level statement (read again above).
      if (!inTemplate && /^[A-Za-z@/]/.test(l)) {
        j--;
        break;
      }
      const closes = !inTemplate && CLOSE.test(l) && !OPENS.test(l);
      if (backticks(l) % 2) inTemplate = !inTemplate;
      if (closes) break;
    }
    out.push({ name, line: i + 1, lines: j - i + 1 });
    i = j;
  }
  return out;
}

async function* sources(dir: string): AsyncGenerator<string> {
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) yield* sources(path);
      else if (e.isFile && e.name.endsWith(".ts")) yield path;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

Deno.test("functionLengths() counts signatures, bodies and template literals at column 0", () => {
  const text = [
    "export function a(",
    "  x: number,",
    "): number {",
    "  const s = `",
    "}",
    "`;",
    "  return x;",
    "}",
    "const b = (x: number) => x + 1;",
    "export const c = async (x: number): Promise<number> => {",
    "  return await x;",
    "};",
    "const d = (x: number) =>",
    "  x * 2;",
    "function e() {}",
  ].join("\n");
  assert.deepEqual(functionLengths(text), [
    { name: "a", line: 1, lines: 8 },
    { name: "b", line: 9, lines: 1 },
    { name: "c", line: 10, lines: 3 },
    { name: "d", line: 13, lines: 2 },
    { name: "e", line: 15, lines: 1 },
  ]);
});

Deno.test(`no top-level function in ${FOLDERS.join("/, ")}/ is over ${LIMIT} lines`, async () => {
  const over: string[] = [];
  const seen = new Set<string>();
  for (const folder of FOLDERS) {
    for await (const path of sources(join(ROOT, folder))) {
      const rel = relative(ROOT, path);
      for (const f of functionLengths(await Deno.readTextFile(path))) {
        const key = `${rel} ${f.name}`;
        if (f.lines <= LIMIT) continue;
        seen.add(key);
        if (!ALLOWED.has(key)) over.push(`${rel}:${f.line} ${f.name} (${f.lines} lines)`);
      }
    }
  }
  assert.deepEqual(over, [], `split these into well-named helpers: ${over.join(", ")}`);
  const stale = [...ALLOWED].filter((k) => !seen.has(k));
  assert.deepEqual(
    stale,
    [],
    `no longer over ${LIMIT} lines (or moved): remove from ALLOWED: ${stale.join(", ")}`,
  );
});
