import assert from "node:assert/strict";
import { main } from "../../cli/ner.ts";
import { conllLines } from "../../infer/formats.ts";
import { DEFAULT_MODEL } from "../../cli/util.ts";
import { loadRecognizer } from "../../infer/pipeline.ts";
import { parseKlue } from "../../train/ner_data/datasets/klue.ts";
import { FIXTURE, SENTENCES } from "../infer/ner_fixture.ts";

const MODEL = ["--model", FIXTURE.pathname];

async function run(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await main(args, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stdin: stdin === undefined ? undefined : ReadableStream.from([new TextEncoder().encode(stdin)]),
    stdinIsTerminal: stdin === undefined,
  });
  return { code, out, err };
}

const expected = async (texts: string[], model: string | URL = FIXTURE) => {
  const ner = await loadRecognizer(model, { provider: "cpu" });
  const r = await ner.recognize(texts);
  await ner.release();
  return r;
};

Deno.test("cli: texts as arguments → one JSON object per text, equal to the API", async () => {
  const { code, out, err } = await run([...MODEL, SENTENCES[0], SENTENCES[1]]);
  assert.equal(code, 0, err);
  const lines = out.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.text), SENTENCES.slice(0, 2));
  assert.deepEqual(lines.map((l) => l.entities), await expected(SENTENCES.slice(0, 2)));
});

Deno.test("cli: stdin, one text per line, empty and whitespace lines kept in order", async () => {
  const input = `${SENTENCES[0]}\n\n   \n${SENTENCES[2]}\r\n`;
  const { code, out } = await run([...MODEL], input);
  assert.equal(code, 0);
  const lines = out.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.text), [SENTENCES[0], "", "   ", SENTENCES[2]]);
  assert.deepEqual(lines[1].entities, []);
  assert.deepEqual(lines[3].entities, (await expected([SENTENCES[2]]))[0]);
});

Deno.test("cli: --file and --format conll", async () => {
  const f = await Deno.makeTempFile({ suffix: ".txt" });
  await Deno.writeTextFile(f, SENTENCES[0] + "\n" + SENTENCES[1] + "\n");
  const { code, out } = await run([...MODEL, "--file", f, "--format", "conll"]);
  await Deno.remove(f);
  assert.equal(code, 0);
  const blocks = out.split("\n\n").filter((b) => b.trim());
  assert.equal(blocks.length, 2);
  // Tokens are the words, split at entity boundaries: together they spell the text without its spaces.
  assert.equal(blocks[0].split("\n").map((l) => l.split("\t")[0]).join(""), SENTENCES[0].replace(/ /g, ""));
  const [ents] = await expected([SENTENCES[0]]);
  assert.equal(blocks[0], conllLines(SENTENCES[0], ents).join("\n"));
});

Deno.test("cli: --format klue writes a tag per character that the KLUE reader reads back as the same spans", async () => {
  const texts = [...SENTENCES, "😀 민수랑 a b  c"];
  const { code, out } = await run([...MODEL, "--format", "klue", ...texts]);
  assert.equal(code, 0);
  const back = parseKlue(out, "out.tsv");
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(back.examples.map((e) => e.text), texts);
  const want = await expected(texts);
  assert.ok(want.flat().length > 0);
  assert.deepEqual(
    back.examples.map((e) => e.entities),
    want.map((es) => es.map(({ type, start, end }) => ({ type, start, end }))),
  );
  const tab = await run([...MODEL, "--format", "klue", "a\tb"]);
  assert.equal(tab.code, 1);
  assert.match(tab.err, /KLUE TSV cannot hold text "1": it has a tab or newline/);
});

Deno.test("cli: --format label-studio writes pre-annotation tasks that read back as the same spans", async () => {
  const { code, out } = await run([...MODEL, "--format", "label-studio", ...SENTENCES.slice(0, 3)]);
  assert.equal(code, 0);
  const tasks = JSON.parse(out);
  const want = await expected(SENTENCES.slice(0, 3));
  assert.equal(tasks.length, 3);
  tasks.forEach(
    (t: { data: { text: string }; predictions: { result: { value: unknown }[] }[] }, i: number) => {
      assert.equal(t.data.text, SENTENCES[i]);
      assert.deepEqual(
        t.predictions[0].result.map((r) => r.value),
        want[i].map((e) => ({ start: e.start, end: e.end, text: e.text, labels: [e.type] })),
      );
    },
  );
  const empty = await run([...MODEL, "--format", "label-studio", "--file", "/dev/null"]);
  assert.deepEqual([empty.code, JSON.parse(empty.out)], [0, []]);
});

Deno.test("cli: errors name the file and line", async () => {
  const f = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.writeTextFile(f, `{"text": "좋아"}\n{"txt": 1}\n`);
  const r = await run([...MODEL, "--file", f, "--input", "jsonl"]);
  await Deno.remove(f);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    new RegExp(`Cannot parse line 2 of "${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}": expected an object`),
  );
  const missing = await run([...MODEL, "--file", "/nonexistent.txt"]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /Cannot read "\/nonexistent\.txt"/);
});

Deno.test("cli: usage errors exit 2 with a message", async () => {
  assert.equal((await run([...MODEL, "--format", "xml", "a"])).code, 2);
  assert.match(
    (await run([...MODEL, "--batch-size", "0", "a"])).err,
    /--batch-size must be a positive integer/,
  );
  assert.match((await run([...MODEL, "--provider", "tpu", "a"])).err, /--provider must be/);
  assert.match(
    (await run([...MODEL, "--decoding", "beam", "a"])).err,
    /--decoding must be bio-viterbi or argmax/,
  );
  // The fixture is a first-subword model: constrained decoding needs every sub-word labelled.
  assert.match((await run([...MODEL, "--decoding", "bio-viterbi", "a"])).err, /needs an all-subwords model/);
  assert.match((await run([...MODEL, "--variant", "int8", "a"])).err, /has no "int8" variant \(has: fp32\)/);
  const floor = await run([...MODEL, "--min-score", "1.5", "a"]);
  assert.deepEqual([floor.code, floor.err], [
    2,
    'ner: --min-score must be a number from 0 to 1, got "1.5"\n',
  ]);
  assert.match((await run(["--bogus"])).err, /Unknown option/);
  assert.equal((await run([...MODEL])).code, 2, "no text and a terminal stdin: usage");
  assert.match((await run(["--model", "/nonexistent", "a"])).err, /has no config\.json/);
  assert.match((await run(["--help"])).out, /Usage: deno task ner/);
});

Deno.test("cli: `deno task ner` end to end (subprocess, stdin, the default model, wasm)", async () => {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "ner", "--provider", "wasm", "--stats"],
    cwd: new URL("../../", import.meta.url).pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const p = cmd.spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(SENTENCES.join("\n")));
  await w.close();
  const { code, stdout, stderr } = await p.output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, err);
  const lines = new TextDecoder().decode(stdout).trimEnd().split("\n").map((l) => JSON.parse(l));
  // Without --model the CLI runs the shipped default model.
  const ref = await expected(SENTENCES, DEFAULT_MODEL);
  lines.forEach((l, i) => {
    assert.deepEqual(
      l.entities.map((e: { type: string; start: number; end: number }) => [e.type, e.start, e.end]),
      ref[i].map((e) => [e.type, e.start, e.end]),
    );
  });
  assert.match(err, /tokens\/s\) on wasm/);
});

Deno.test("cli: streams stdin: output starts before the input ends; 130,000 lines do not overflow the stack", async () => {
  const LINES = 130_000, enc = new TextEncoder();
  let out = 0, outBeforeEnd = false, sent = 0;
  const stdin = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (sent === LINES) {
        outBeforeEnd = out > 0;
        return c.close();
      }
      // Half-way, wait (boundedly) for output: a CLI that reads everything first never writes here.
      if (sent === LINES / 2) {
        for (let i = 0; i < 200 && out === 0; i++) await new Promise((r) => setTimeout(r, 5));
      }
      // Empty lines have no tokens: the model does not run, so this is quick. The first line is a sentence.
      const n = Math.min(10_000, LINES - sent);
      c.enqueue(enc.encode((sent === 0 ? SENTENCES[0] : "") + "\n".repeat(n)));
      sent += n;
    },
  });
  let lines = 0, first = "";
  const code = await main([...MODEL], {
    stdout: (s) => {
      out++;
      if (!first) first = s.slice(0, s.indexOf("\n"));
      for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) lines++;
    },
    stderr: () => {},
    stdin,
    stdinIsTerminal: false,
  });
  assert.equal(code, 0);
  assert.equal(lines, LINES);
  assert.equal(JSON.parse(first).text, SENTENCES[0]);
  assert.ok(outBeforeEnd, "output began before stdin ended");
});

Deno.test("cli: --min-score reaches the pipeline: a floor of 1 leaves out every entity the fixture scores below 1", async () => {
  const entities = async (extra: string[]) => {
    const r = await run([...MODEL, ...extra, SENTENCES[0], SENTENCES[1]]);
    assert.equal(r.code, 0, r.err);
    return r.out.trimEnd().split("\n").flatMap((l) => JSON.parse(l).entities as { score: number }[]);
  };
  const all = await entities([]), floor = await entities(["--min-score", "1"]);
  assert.ok(all.length > 0 && all.every((e) => e.score < 1), JSON.stringify(all));
  assert.deepEqual(floor, []);
  assert.equal((await entities(["--min-score", "0"])).length, all.length);
});
