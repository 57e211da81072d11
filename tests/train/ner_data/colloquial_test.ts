import assert from "node:assert/strict";
import {
  COLLOQUIAL_STYLES,
  findOverlaps,
  overlapKey,
  parseColloquial,
} from "../../../train/ner_data/colloquial.ts";
import { parseKlue, writeKlue } from "../../../train/ner_data/datasets/klue.ts";
import { countTypes, DatasetError, renderMarkup } from "../../../train/ner_data/datasets/types.ts";

const dir = new URL("../../../data/colloquial/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, dir));

/** The sources' markup bodies in file order (comments and blank lines skipped). */
function markupLines(src: string): string[] {
  return src.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")).map((l) =>
    l.slice(l.indexOf("\t") + 1)
  );
}

/** The counts table of RULES.md, by split: column name → number. */
function documentedCounts(): Map<string, Record<string, number>> {
  const md = read("RULES.md");
  const rows = md.slice(md.indexOf("<!-- counts")).split("\n").filter((l) => l.startsWith("|"));
  const head = rows[0].split("|").slice(1, -1).map((c) => c.trim());
  const out = new Map<string, Record<string, number>>();
  for (const row of rows.slice(2)) {
    const cells = row.split("|").slice(1, -1).map((c) => c.trim());
    out.set(cells[0], Object.fromEntries(head.slice(1).map((h, i) => [h, Number(cells[i + 1])])));
  }
  return out;
}

for (const split of ["test", "dev"]) {
  Deno.test(`colloquial ${split}: the TSV parses without warnings and equals the markup source`, () => {
    const src = read(`${split}.txt`);
    const fromSource = parseColloquial(src, `${split}.txt`, `colloquial-${split}`);
    const tsv = read(`${split}.tsv`);
    const { examples, warnings } = parseKlue(tsv, `${split}.tsv`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(examples, fromSource);
    assert.equal(tsv, writeKlue(fromSource), `${split}.tsv is stale: run data/colloquial/build.ts`);
    // Offsets: every entity re-rendered at its offsets gives back the hand-written markup line.
    const bodies = markupLines(src);
    assert.equal(bodies.length, examples.length);
    examples.forEach((ex, i) => assert.equal(renderMarkup(ex.text, ex.entities), bodies[i], ex.id));
  });

  Deno.test(`colloquial ${split}: counts are as RULES.md documents them`, () => {
    const examples = parseColloquial(read(`${split}.txt`), `${split}.txt`, `colloquial-${split}`);
    const style = (e: { id: string }) => e.id.slice(e.id.lastIndexOf("-") + 1);
    const sentences = examples.filter((e) => style(e) !== "reaction");
    const counts: Record<string, number> = {
      sentences: sentences.length,
      "with entities": sentences.filter((e) => e.entities.length > 0).length,
      "reaction texts": examples.length - sentences.length,
      ...countTypes(examples),
    };
    for (const s of COLLOQUIAL_STYLES.filter((s) => s !== "reaction")) {
      counts[s] = examples.filter((e) => style(e) === s).length;
    }
    const doc = documentedCounts().get(split);
    assert.ok(doc, `RULES.md has no counts row for ${split}`);
    assert.deepEqual(counts, doc);
  });
}

Deno.test("colloquial test and dev share no text (whitespace ignored) and repeat none", () => {
  const keys = (split: string) =>
    parseColloquial(read(`${split}.txt`), split, split).map((e) => overlapKey(e.text));
  const test = keys("test");
  const dev = keys("dev");
  assert.equal(new Set(test).size, test.length);
  assert.equal(new Set(dev).size, dev.length);
  assert.deepEqual(test.filter((k) => new Set(dev).has(k)), []);
});

Deno.test("parseColloquial() numbers ids in file order and skips comments", () => {
  const src = "# a comment\n\nchat\t<민수:PS>랑 <어제:DT> 봤어 😀\nreaction\tㅋㅋㅋ\n";
  assert.deepEqual(parseColloquial(src, "x.txt", "t"), [
    {
      id: "t-0001-chat",
      text: "민수랑 어제 봤어 😀",
      entities: [{ start: 0, end: 2, type: "PS" }, { start: 4, end: 6, type: "DT" }],
    },
    { id: "t-0002-reaction", text: "ㅋㅋㅋ", entities: [] },
  ]);
});

Deno.test("parseColloquial() rejects bad lines, naming file and line", async (t) => {
  const cases: [string, RegExp][] = [
    ["chat <민수:PS>", /line 2 of "x.txt": expected "style<TAB>marked text"/],
    ["blog\t<민수:PS>", /line 2 of "x.txt": expected a style/],
    ["chat\t<민수:XX>랑", /line 2 of "x.txt": unknown type "XX"/],
    ["chat\t민수:PS>랑", /line 2 of "x.txt": stray markup/],
    ["chat\t<민수 :PS>랑", /entity "민수 " starts or ends with a space/],
    ["reaction\t<민수:PS> ㅋㅋ", /a reaction text must have no entity/],
    ["chat\t ㅋㅋ", /without tabs or edge spaces/],
  ];
  for (const [line, message] of cases) {
    await t.step(line, () => {
      assertThrowsDataset(() => parseColloquial(`# head\n${line}\n`, "x.txt", "t"), message);
    });
  }
});

/** Asserts `f` throws a DatasetError whose message matches. */
function assertThrowsDataset(f: () => unknown, message: RegExp) {
  assert.throws(f, (e: unknown) => e instanceof DatasetError && message.test(e.message));
}

Deno.test("findOverlaps() finds whole lines and, for long texts, copies inside lines, ignoring spaces", () => {
  const texts = ["ㅋㅋ", "어제 홍대에서 지수랑 만남", "전혀 없는 문장입니다"];
  const lines = [
    "ㅋ ㅋ",
    "ㅋㅋㅋㅋ 재밌다",
    "그래서 어제홍대에서  지수랑만남 ㅋㅋ",
    "어제 홍대에서 지수랑 만남",
  ];
  assert.deepEqual(findOverlaps(texts, lines), [
    { index: 0, line: 1, how: "line" },
    { index: 1, line: 3, how: "contained" },
    { index: 1, line: 4, how: "line" },
  ]);
});
