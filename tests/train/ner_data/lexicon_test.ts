/**
 * The shipped swap lexicon (data/lexicon/colloquial-names.tsv, for `deno task augment --lexicon`): it parses,
 * holds only the types it is for, and none of its names is a gold entity of the colloquial dev or test set,
 * so those sets keep judging names a model trained with it never saw.
 */
import assert from "node:assert/strict";
import { parseLexicon } from "../../../train/ner_data/augment.ts";
import { parseKlue } from "../../../train/ner_data/datasets/klue.ts";

const root = new URL("../../../", import.meta.url);
const key = (s: string) => s.replace(/\s+/g, "").toLowerCase();

Deno.test("the colloquial-names lexicon: LC and OG only, and no name of the colloquial dev or test gold", () => {
  const path = "data/lexicon/colloquial-names.tsv";
  const lexicon = parseLexicon(Deno.readTextFileSync(new URL(path, root)), path);
  assert.deepEqual([...lexicon.keys()], ["LC", "OG"]);
  const names = [...lexicon.values()].flat();
  assert.ok(names.length >= 200, `${names.length} names`);
  const gold = new Set<string>();
  for (const split of ["dev", "test"]) {
    const file = `data/colloquial/${split}.tsv`;
    for (const ex of parseKlue(Deno.readTextFileSync(new URL(file, root)), file).examples) {
      for (const e of ex.entities) gold.add(key(ex.text.slice(e.start, e.end)));
    }
  }
  assert.ok(gold.size > 300, "the gold entities were read");
  assert.deepEqual(
    names.filter((n) => gold.has(key(n))),
    [],
    "lexicon names that are colloquial gold entities",
  );
});
