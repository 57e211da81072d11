/**
 * `deno task plot --metrics runs/x/metrics.jsonl --out curves.svg [--title TEXT]`: draws the loss and
 * accuracy curves of a training run (train and eval series) as an SVG any browser opens.
 * `deno task plot --curve LABEL=curve.jsonl [--curve …] --out probe.svg`: probe curves (`deno task probe
 * --curve`), macro F1 per dev set against pretraining tokens and CPU hours, one line per run.
 * @module
 */
import { parseArgs } from "node:util";
import { readMetrics } from "../train/run/metrics_log.ts";
import { chartsFromCurves, chartsFromMetrics, type ProbeCurve, renderSvg } from "../train/evaluate/plot.ts";
import { runMain } from "./util.ts";
import { refuseOverwrite, writeFileAtomic } from "../train/util/fs.ts";

const USAGE = `Usage: deno task plot --metrics FILE.jsonl --out FILE.svg [--title TEXT]
       deno task plot --curve LABEL=curve.jsonl [--curve LABEL=curve.jsonl …] --out FILE.svg [--title TEXT]`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      metrics: { type: "string" },
      curve: { type: "string", multiple: true },
      out: { type: "string" },
      title: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.out || !values.metrics === !values.curve?.length) {
    console.error(USAGE);
    return 2;
  }
  if (values.curve?.length) {
    const curves: ProbeCurve[] = [];
    const inputs: Record<string, string> = {};
    for (const spec of values.curve) {
      const i = spec.indexOf("=");
      if (i <= 0) {
        console.error(`plot: --curve must be LABEL=FILE, got "${spec}"\n\n${USAGE}`);
        return 2;
      }
      inputs[`--curve ${spec.slice(0, i)}`] = spec.slice(i + 1);
      const points = await readMetrics(spec.slice(i + 1)) as unknown as ProbeCurve["points"];
      curves.push({ label: spec.slice(0, i), points });
    }
    await refuseOverwrite({ "--out": values.out }, inputs);
    const charts = chartsFromCurves(curves);
    await writeFileAtomic(values.out, renderSvg(charts, { title: values.title ?? "probe curves" }));
    console.log(`Wrote ${charts.length} charts of ${curves.length} curves to "${values.out}"`);
    return 0;
  }
  await refuseOverwrite({ "--out": values.out }, { "--metrics": values.metrics! });
  const records = await readMetrics(values.metrics!);
  const charts = chartsFromMetrics(records);
  await writeFileAtomic(values.out, renderSvg(charts, { title: values.title ?? values.metrics }));
  console.log(`Wrote ${charts.length} charts from ${records.length} records to "${values.out}"`);
  return 0;
}

if (import.meta.main) await runMain("plot", main);
