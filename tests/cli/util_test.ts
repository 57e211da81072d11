import assert from "node:assert/strict";
import { DEFAULT_MODEL, intFlag, parseFlags, resolveModel, usageError } from "../../cli/util.ts";

/** Runs `f` with console.error captured; returns its result and what it printed. */
function captured<T>(f: () => T): [T, string] {
  const original = console.error;
  let printed = "";
  console.error = (...m: unknown[]) => void (printed += m.join(" ") + "\n");
  try {
    return [f(), printed];
  } finally {
    console.error = original;
  }
}

Deno.test("parseFlags returns parseArgs' result, or 2 with the error and the usage printed", () => {
  const options = { n: { type: "string" as const, default: "1" }, q: { type: "boolean" as const } };
  const ok = parseFlags("Usage: x", { args: ["--n", "3", "--q"], options });
  assert.notEqual(ok, 2);
  if (ok !== 2) assert.deepEqual({ ...ok.values }, { n: "3", q: true });
  const [bad, printed] = captured(() => parseFlags("Usage: x", { args: ["--nope"], options }));
  assert.equal(bad, 2);
  assert.match(printed, /^error: .*--nope/);
  assert.match(printed, /Usage: x\n$/);
  const [withPositionals] = captured(() =>
    parseFlags("u", { args: ["a.txt", "--n", "2"], options, allowPositionals: true })
  );
  assert.deepEqual(withPositionals !== 2 && withPositionals.positionals, ["a.txt"]);
});

Deno.test("usageError prints the message then the usage and returns 2; intFlag checks integers and bounds", () => {
  const [code, printed] = captured(() => usageError("Usage: y", "--out is required"));
  assert.equal(code, 2);
  assert.equal(printed, "error: --out is required\n\nUsage: y\n");
  assert.equal(intFlag("copies", "3", 1), 3);
  assert.throws(() => intFlag("copies", "0", 1), /--copies must be an integer ≥ 1, got "0"/);
  assert.throws(() => intFlag("copies", "1.5", 1), /got "1\.5"/);
});

Deno.test("resolveModel: --model when given, else the shipped models/default/ (the one default of ner, serve, web, compile)", async () => {
  assert.equal(await resolveModel("some/dir"), "some/dir");
  assert.equal(await resolveModel(), DEFAULT_MODEL);
  assert.ok(DEFAULT_MODEL.pathname.endsWith("/models/default/"));
  await Deno.stat(new URL("nersota.json", DEFAULT_MODEL));
});
