import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli/augment.ts";
import { parseKlue } from "../../train/ner_data/datasets/klue.ts";
import { marked } from "../train/ner_data/markup.ts";

Deno.test("deno task augment takes the noise and particle flags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = join(dir, "train.tsv"), out = join(dir, "aug.tsv"), report = join(dir, "aug.json");
    await Deno.writeTextFile(
      src,
      "## s1\t<민수:PS>가 <어제:DT> 왔어\n민\tB-PS\n수\tI-PS\n가\tO\n \tO\n어\tB-DT\n제\tI-DT\n \tO\n왔\tO\n어\tO\n\n",
    );
    const args = ["--data", `klue:${src}`, "--out", out, "--swap-types", "none", "--report", report];
    assert.equal(await main([...args, "--drop-particles", "1", "--double-spaces", "1"]), 0);
    const back = parseKlue(await Deno.readTextFile(out), out).examples;
    assert.deepEqual(back.map(marked), ["<민수:PS>  <어제:DT>  왔어"]);
    const r = JSON.parse(await Deno.readTextFile(report));
    assert.equal(r.particlesDropped, 1);
    assert.equal(r.spacesDoubled, 2);
    assert.equal(r.options.noise.doubleSpaces, 1);
    assert.equal(await main([...args, "--laughter", "1.5"]), 2);
    assert.equal(await main([...args, "--given-names", "2"]), 2);
    // A lexicon: every swapped DT draws its name from it (rate 1), and the report names the file.
    const lexicon = join(dir, "lexicon.tsv");
    await Deno.writeTextFile(lexicon, "# days\nDT\t그저께\n");
    const swap = [
      "--data",
      `klue:${src}`,
      "--out",
      out,
      "--report",
      report,
      "--swap-types",
      "DT",
      "--swap-rate",
      "1",
    ];
    assert.equal(await main([...swap, "--lexicon", lexicon, "--lexicon-rate", "1"]), 0);
    assert.deepEqual(parseKlue(await Deno.readTextFile(out), out).examples.map(marked), [
      "<민수:PS>가 <그저께:DT> 왔어",
    ]);
    const lr = JSON.parse(await Deno.readTextFile(report));
    assert.deepEqual([lr.lexicon, lr.lexiconSwaps, lr.options.lexiconRate], [lexicon, 1, 1]);
    assert.equal(await main([...swap, "--lexicon-rate", "1"]), 2);
    await Deno.writeTextFile(lexicon, "DT 그저께\n");
    await assert.rejects(main([...swap, "--lexicon", lexicon]), /lexicon\.tsv:1: expected TYPE<TAB>NAME/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
