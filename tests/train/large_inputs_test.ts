// Inputs past the size where spreading an array into a call overflows the stack (issue 22, item 3).
import assert from "node:assert/strict";
import { loadSources } from "../../train/ner_data/sources.ts";
import { renderSvg } from "../../train/evaluate/plot.ts";

Deno.test("loadSources() reads a source of 130,000 sentences", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const N = 130_000;
    const block = "## s\t<민수:PS>랑\n민\tB-PS\n수\tI-PS\n랑\tO\n\n";
    await Deno.writeTextFile(`${dir}/big.tsv`, block.repeat(N));
    const examples = await loadSources([{ path: `${dir}/big.tsv`, format: "klue" }], () => {});
    assert.equal(examples.length, N);
    assert.deepEqual(examples[N - 1].entities, [{ start: 0, end: 2, type: "PS" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderSvg() plots a series of 200,000 points", () => {
  const points: [number, number][] = Array.from({ length: 200_000 }, (_, i) => [i, Math.sin(i / 1000)]);
  const svg = renderSvg([{ title: "loss", series: [{ label: "train", points, color: "#000" }] }]);
  assert.match(svg, /^<svg/);
  assert.ok(!svg.includes("NaN") && !svg.includes("Infinity"));
});
