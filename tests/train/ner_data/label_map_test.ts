import assert from "node:assert/strict";
import { applyLabelMap, BUILTIN_MAPS, lookupType, parseLabelMap } from "../../../train/ner_data/label_map.ts";

Deno.test("parseLabelMap() reads FROM<TAB>TO lines, comments, drops and prefixes", () => {
  const map = parseLabelMap("# KMOU to mine\nPER\tPS\nPOH\tO\nNOH\t\nPS_*\tPS\n\n", "m.tsv");
  assert.equal(lookupType(map, "PER"), "PS");
  assert.equal(lookupType(map, "POH"), null);
  assert.equal(lookupType(map, "NOH"), null);
  assert.equal(lookupType(map, "PS_NAME"), "PS");
  assert.equal(lookupType(map, "LOC"), undefined);
});

Deno.test("parseLabelMap() reports the line of a bad entry", async (t) => {
  await t.step("spaces instead of a tab", () => {
    assert.throws(() => parseLabelMap("PER\tPS\nLOC LC\n", "m.tsv"), {
      message: `Cannot parse line 2 of "m.tsv": types cannot hold spaces; separate FROM and TO with a tab`,
    });
  });
  await t.step("three columns", () => {
    assert.throws(
      () => parseLabelMap("PER\tPS\tX\n", "m.tsv"),
      /^Error: Cannot parse line 1 of "m.tsv": expected "FROM<TAB>TO"/,
    );
  });
  await t.step("a repeated type", () => {
    assert.throws(() => parseLabelMap("PER\tPS\nPER\tOG\n", "m.tsv"), {
      message: `Cannot parse line 2 of "m.tsv": "PER" is already mapped on line 1`,
    });
  });
});

Deno.test("built-in maps send KMOU, NIKL and Naver types to KLUE's", async (t) => {
  const cases: [keyof typeof BUILTIN_MAPS, [string, string | null][]][] = [
    ["kmou-klue", [
      ["PER", "PS"],
      ["LOC", "LC"],
      ["ORG", "OG"],
      ["DAT", "DT"],
      ["DUR", "DT"],
      ["TIM", "TI"],
      ["NOH", "QT"],
      ["MNY", "QT"],
      ["PNT", "QT"],
      ["POH", null],
    ]],
    ["nikl-klue", [
      ["PS", "PS"],
      ["PS_NAME", "PS"],
      ["OGG_ECONOMY", "OG"],
      ["LCP_COUNTRY", "LC"],
      ["DT_DAY", "DT"],
      ["TI_HOUR", "TI"],
      ["QT_COUNT", "QT"],
      ["AF", null],
      ["TMI_HW", null],
      ["CV_FOOD", null],
      ["EV", null],
    ]],
    ["naver-klue", [
      ["PER", "PS"],
      ["LOC", "LC"],
      ["ORG", "OG"],
      ["DAT", "DT"],
      ["TIM", "TI"],
      ["NUM", "QT"],
      ["FLD", null],
      ["AFW", null],
      ["CVL", null],
      ["EVT", null],
      ["ANM", null],
      ["PLT", null],
      ["MAT", null],
      ["TRM", null],
    ]],
  ];
  for (const [name, pairs] of cases) {
    await t.step(name, () => {
      for (const [from, to] of pairs) {
        assert.equal(lookupType(BUILTIN_MAPS[name], from), to, `${name}: ${from}`);
      }
    });
  }
});

Deno.test("applyLabelMap() maps, drops and counts, and can reject unknown types", () => {
  const examples = [{
    id: "1",
    text: "가나다라",
    entities: [{ type: "PER", start: 0, end: 1 }, { type: "POH", start: 1, end: 2 }, {
      type: "XYZ",
      start: 2,
      end: 3,
    }],
  }];
  const r = applyLabelMap(examples, BUILTIN_MAPS["kmou-klue"]);
  assert.deepEqual(r.examples[0].entities.map((e) => e.type), ["PS", "XYZ"]);
  assert.deepEqual(r.stats, { mapped: { "PER→PS": 1 }, dropped: { POH: 1 }, unmapped: { XYZ: 1 } });
  assert.equal(examples[0].entities[0].type, "PER", "input left unchanged");
  assert.deepEqual(
    applyLabelMap(examples, BUILTIN_MAPS["kmou-klue"], { unknown: "drop" }).examples[0].entities.length,
    1,
  );
  assert.throws(
    () => applyLabelMap(examples, BUILTIN_MAPS["kmou-klue"], { unknown: "error" }),
    /Type "XYZ" of example "1"/,
  );
});
