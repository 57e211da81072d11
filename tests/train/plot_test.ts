import assert from "node:assert/strict";
import { join } from "node:path";
import { chartsFromMetrics, niceTicks, renderSvg } from "../../train/plot.ts";
import { main } from "../../train/plot_cli.ts";
import type { MetricsRecord } from "../../train/metrics_log.ts";

const records: MetricsRecord[] = [
  { type: "eval", step: 0, loss: 40, discriminator_loss: 0.69, mlm_accuracy: 0.01, discriminator_auc: 0.5 },
  { type: "train", step: 10, loss: 30, grad_norm: 5, lr: 1e-3 },
  { type: "train", step: 20, loss: 20, grad_norm: 4, lr: 1e-3 },
  { type: "eval", step: 20, loss: 21, discriminator_loss: 0.35, mlm_accuracy: 0.2, discriminator_auc: 0.8 },
];

Deno.test("niceTicks() gives 1-2-5 steps covering the range", () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 300), [0, 100, 200, 300]);
  assert.deepEqual(niceTicks(3, 3), [3]);
});

Deno.test("chartsFromMetrics() makes train and eval series per metric", () => {
  const charts = chartsFromMetrics(records);
  const loss = charts.find((c) => c.title.startsWith("loss"))!;
  assert.deepEqual(loss.series.map((s) => s.label), ["train loss", "eval loss"]);
  assert.deepEqual(loss.series[0].points, [[10, 30], [20, 20]]);
  assert.deepEqual(loss.series[1].points, [[0, 40], [20, 21]]);
  assert.ok(charts.some((c) => c.title.includes("ROC-AUC")));
  assert.ok(!charts.some((c) => c.title === "generator loss"), "no chart without data");
});

Deno.test("renderSvg() draws one path per series with axis labels", () => {
  const svg = renderSvg(chartsFromMetrics(records), { title: "run <x>" });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.equal((svg.match(/<path /g) ?? []).length, 2 + 1 + 1 + 1); // loss ×2, disc loss, mlm acc, AUC
  assert.match(svg, /run &lt;x&gt;/);
  assert.match(svg, />step</);
  // Path coordinates are finite numbers.
  for (const d of svg.matchAll(/ d="([^"]+)"/g)) {
    assert.match(d[1], /^(?:[ML]-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?)+$/);
  }
});

Deno.test("plot CLI writes an SVG from a metrics file", async () => {
  const dir = await Deno.makeTempDir();
  const metrics = join(dir, "metrics.jsonl"), out = join(dir, "curves.svg");
  await Deno.writeTextFile(metrics, records.map((r) => JSON.stringify(r)).join("\n") + '\n{"type":"tr'); // torn last line
  assert.equal(await main(["--metrics", metrics, "--out", out]), 0);
  assert.match(await Deno.readTextFile(out), /<svg/);
  await Deno.remove(dir, { recursive: true });
});
