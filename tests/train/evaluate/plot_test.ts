import assert from "node:assert/strict";
import { join } from "node:path";
import { chartsFromCurves, chartsFromMetrics, niceTicks, renderSvg } from "../../../train/evaluate/plot.ts";
import { main } from "../../../cli/plot.ts";
import type { MetricsRecord } from "../../../train/run/metrics_log.ts";

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

Deno.test("chartsFromMetrics() of a fine-tuning log: loss and dev F1 charts with their own titles", () => {
  const ft: MetricsRecord[] = [
    { type: "train", step: 10, epoch: 0, loss: 1.5, grad_norm: 3, lr: 5e-5 },
    {
      type: "eval",
      step: 20,
      epoch: 0,
      loss: 1.2,
      micro_f1: 0.4,
      macro_f1: 0.3,
      precision: 0.5,
      recall: 0.35,
    },
    { type: "train", step: 30, epoch: 1, loss: 0.9, grad_norm: 2, lr: 4e-5 },
    {
      type: "eval",
      step: 40,
      epoch: 1,
      loss: 0.8,
      micro_f1: 0.6,
      macro_f1: 0.5,
      precision: 0.6,
      recall: 0.6,
    },
  ];
  const charts = chartsFromMetrics(ft);
  assert.deepEqual(charts.map((c) => c.title), [
    "loss (token cross-entropy, or CRF NLL)",
    "dev entity F1",
    "dev precision and recall (micro)",
    "learning rate",
  ]);
  assert.deepEqual(charts[0].series.map((s) => s.label), ["train loss", "dev loss"]);
  const f1 = charts[1].series;
  assert.deepEqual(f1.map((s) => [s.label, s.points]), [["dev micro F1", [[20, 0.4], [40, 0.6]]], [
    "dev macro F1",
    [[20, 0.3], [40, 0.5]],
  ]]);
  assert.notEqual(f1[0].color, f1[1].color);
  const svg = renderSvg(charts);
  assert.ok(!svg.includes("generator") && !svg.includes("discriminator"), "no pretraining titles");
  assert.match(svg, />dev micro F1</);
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

Deno.test("chartsFromCurves() plots mean macro F1 per dev set against tokens (M) and CPU hours, one series per run", async () => {
  const point = (tokens: number, hours: number | null, klue: number, colloquial?: number) => ({
    tokens,
    cpu_hours: hours,
    mean: {
      klue: { macro_f1: klue },
      ...(colloquial === undefined ? {} : { colloquial: { macro_f1: colloquial } }),
    },
  });
  const charts = chartsFromCurves([
    { label: "mlm15", points: [point(0, 0, 0.4, 0.3), point(5e6, 1, 0.45, 0.35)] },
    { label: "electra", points: [point(0, null, 0.4), point(2e6, 0.5, 0.42)] },
  ]);
  assert.deepEqual(charts.map((c) => `${c.title} / ${c.xLabel}`), [
    "probe macro F1, klue dev / pretraining tokens (M)",
    "probe macro F1, klue dev / pretraining CPU hours",
    "probe macro F1, colloquial dev / pretraining tokens (M)",
    "probe macro F1, colloquial dev / pretraining CPU hours",
  ]);
  assert.deepEqual(charts[0].series.map((s) => [s.label, s.points]), [
    ["mlm15", [[0, 0.4], [5, 0.45]]],
    ["electra", [[0, 0.4], [2, 0.42]]],
  ]);
  assert.deepEqual(charts[1].series[1].points, [[0.5, 0.42]]); // a point without CPU hours is left out
  assert.deepEqual(charts[2].series.map((s) => s.label), ["mlm15"]);

  const dir = await Deno.makeTempDir();
  const file = join(dir, "curve.jsonl"), out = join(dir, "probe.svg");
  await Deno.writeTextFile(
    file,
    [point(0, 0, 0.4), point(1e6, 0.2, 0.5)].map((p) => JSON.stringify(p)).join("\n") + "\n",
  );
  assert.equal(await main(["--curve", `run=${file}`, "--out", out]), 0);
  const svg = await Deno.readTextFile(out);
  assert.match(svg, />pretraining tokens \(M\)</);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.equal(await main(["--curve", file, "--out", out]), 2); // no label
  await Deno.remove(dir, { recursive: true });
});
