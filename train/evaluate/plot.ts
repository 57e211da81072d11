/**
 * Training curves as a self-contained SVG (no dependencies): one small line chart per metric against the
 * update step — pretraining: losses, accuracies, AUC; fine-tuning: loss, dev entity F1 (micro and macro),
 * dev precision/recall, learning rate — train and eval series in different colours, with axis ticks so a
 * person can read values off it.
 * @module
 */
import type { MetricsRecord } from "../run/metrics_log.ts";

/** One line of a chart. */
export interface Series {
  label: string;
  points: [number, number][];
  color: string;
}

/** One chart: a title and its series. */
export interface Chart {
  title: string;
  series: Series[];
  /** The x axis' name (default "step"). */
  xLabel?: string;
}

const COLORS = { train: "#1f77b4", eval: "#d62728" };

/** "Nice" tick values covering [lo, hi] (1, 2, 5 × 10ⁿ steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (
  v: number,
) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0)
  ? v.toExponential(1)
  : String(Number(v.toPrecision(3))));

/** Metric key → chart title, for ELECTRA pretraining logs (`deno task pretrain`). */
const PRETRAIN_CHARTS: [string, string[]][] = [
  ["loss (generator + λ·discriminator)", ["loss"]],
  ["generator loss", ["generator_loss"]],
  ["discriminator loss", ["discriminator_loss"]],
  ["generator MLM accuracy", ["mlm_accuracy"]],
  ["discriminator accuracy", ["discriminator_accuracy"]],
  ["discriminator ROC-AUC", ["discriminator_auc"]],
];

/** The same for fine-tuning logs (`deno task finetune`), whose evaluations run on the dev sets. */
const FINETUNE_CHARTS: [string, string[]][] = [
  ["loss (token cross-entropy, or CRF NLL)", ["loss"]],
  ["dev entity F1", ["micro_f1", "macro_f1"]],
  ["dev precision and recall (micro)", ["precision", "recall"]],
  ["learning rate", ["lr"]],
];

const SERIES_COLORS = ["#d62728", "#ff7f0e", "#2ca02c", "#9467bd"];

/**
 * The charts to draw from metrics records: each metric with its train and eval series. A fine-tuning log
 * (eval records with `micro_f1`) gets its own charts, its evaluations named `dev`.
 */
export function chartsFromMetrics(records: MetricsRecord[]): Chart[] {
  const finetuning = records.some((r) => r.type === "eval" && typeof r.micro_f1 === "number");
  const charts: Chart[] = [];
  for (const [title, keys] of finetuning ? FINETUNE_CHARTS : PRETRAIN_CHARTS) {
    const series: Series[] = [];
    for (const type of ["train", "eval"] as const) {
      for (const k of keys) {
        const points = records
          .filter((r) => r.type === type && typeof r[k] === "number" && Number.isFinite(r[k] as number))
          .map((r) => [r.step, r[k] as number] as [number, number]);
        if (!points.length) continue;
        const who = finetuning && type === "eval" ? "dev" : type;
        // One key: colour by train/eval; several: colour by key, and the legend names it.
        const label = keys.length > 1 ? `${who} ${k.replace(/_f1$/, " F1")}` : `${who} ${k}`;
        const color = keys.length > 1 ? SERIES_COLORS[keys.indexOf(k)] : COLORS[type];
        series.push({ label, points, color });
      }
    }
    if (series.length) charts.push({ title, series });
  }
  return charts;
}

/** A probe curve to draw (`deno task probe --curve`'s curve.jsonl lines) under a one-word label. */
export interface ProbeCurve {
  label: string;
  points: {
    tokens: number;
    cpu_hours: number | null;
    mean: Record<string, { macro_f1: number }>;
  }[];
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"];

/** Charts of probe curves: mean macro F1 per dev set against pretraining tokens (millions) and CPU hours. */
export function chartsFromCurves(curves: ProbeCurve[]): Chart[] {
  const devs = [...new Set(curves.flatMap((c) => c.points.flatMap((p) => Object.keys(p.mean))))];
  const charts: Chart[] = [];
  for (const dev of devs) {
    for (
      const [xLabel, x] of [
        ["pretraining tokens (M)", (p: ProbeCurve["points"][number]) => p.tokens / 1e6],
        ["pretraining CPU hours", (p: ProbeCurve["points"][number]) => p.cpu_hours],
      ] as const
    ) {
      const series = curves.map((c, i) => ({
        label: c.label,
        color: PALETTE[i % PALETTE.length],
        points: c.points
          .filter((p) => p.mean[dev] && x(p) !== null)
          .map((p) => [x(p)!, p.mean[dev].macro_f1] as [number, number]),
      })).filter((s) => s.points.length);
      if (series.length) charts.push({ title: `probe macro F1, ${dev} dev`, series, xLabel });
    }
  }
  return charts;
}

/** Renders charts in a grid (two columns) as SVG text. */
export function renderSvg(charts: Chart[], options: { title?: string; width?: number } = {}): string {
  const cols = 2, cw = (options.width ?? 960) / cols, ch = 260;
  const pad = { l: 58, r: 16, t: 30, b: 36 };
  const rows = Math.max(1, Math.ceil(charts.length / cols));
  const top = options.title ? 32 : 0;
  const W = cw * cols, H = ch * rows + top;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (options.title) {
    out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`);
  }
  if (!charts.length) {
    out.push(`<text x="${W / 2}" y="${top + 40}" text-anchor="middle">no metrics to plot</text>`);
  }
  charts.forEach((chart, i) => {
    const x0 = (i % cols) * cw, y0 = top + Math.floor(i / cols) * ch;
    const pw = cw - pad.l - pad.r, ph = ch - pad.t - pad.b;
    const all = chart.series.flatMap((s) => s.points);
    // Loops, not Math.min(...xs): a long run's metrics log can have more points than a call takes arguments.
    let [xlo, xhi, ylo, yhi] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const [x, y] of all) {
      [xlo, xhi, ylo, yhi] = [Math.min(xlo, x), Math.max(xhi, x), Math.min(ylo, y), Math.max(yhi, y)];
    }
    if (xhi === xlo) [xlo, xhi] = [xlo - 1, xhi + 1];
    if (yhi === ylo) [ylo, yhi] = [ylo - Math.abs(ylo || 1) * 0.1, yhi + Math.abs(yhi || 1) * 0.1];
    const sx = (x: number) => x0 + pad.l + ((x - xlo) / (xhi - xlo)) * pw;
    const sy = (y: number) => y0 + pad.t + ph - ((y - ylo) / (yhi - ylo)) * ph;
    out.push(`<g>`);
    out.push(
      `<text x="${x0 + pad.l + pw / 2}" y="${y0 + 18}" text-anchor="middle" font-size="13">${
        esc(chart.title)
      }</text>`,
    );
    out.push(
      `<rect x="${x0 + pad.l}" y="${y0 + pad.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
    );
    for (const v of niceTicks(ylo, yhi)) {
      const y = sy(v).toFixed(1);
      out.push(`<line x1="${x0 + pad.l}" x2="${x0 + pad.l + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
      out.push(
        `<text x="${x0 + pad.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`,
      );
    }
    for (const v of niceTicks(xlo, xhi)) {
      const x = sx(v).toFixed(1);
      out.push(
        `<line x1="${x}" x2="${x}" y1="${y0 + pad.t + ph}" y2="${y0 + pad.t + ph + 4}" stroke="#999"/>`,
      );
      out.push(`<text x="${x}" y="${y0 + pad.t + ph + 16}" text-anchor="middle">${fmt(v)}</text>`);
    }
    out.push(
      `<text x="${x0 + pad.l + pw / 2}" y="${y0 + ch - 4}" text-anchor="middle" fill="#555">${
        esc(chart.xLabel ?? "step")
      }</text>`,
    );
    chart.series.forEach((s, k) => {
      const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(
        "",
      );
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
      if (s.points.length < 40) {
        for (const p of s.points) {
          out.push(
            `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2" fill="${s.color}"/>`,
          );
        }
      }
      const ly = y0 + pad.t + 12 + k * 14;
      out.push(
        `<line x1="${x0 + pad.l + pw - 110}" x2="${
          x0 + pad.l + pw - 94
        }" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      );
      out.push(
        `<text x="${x0 + pad.l + pw - 90}" y="${ly}" dominant-baseline="middle">${
          esc(chart.series.length > 2 || s.label.split(" ").length > 2 ? s.label : s.label.split(" ")[0])
        }</text>`,
      );
    });
    out.push(`</g>`);
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
