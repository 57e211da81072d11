/**
 * `deno task plot --metrics runs/x/metrics.jsonl --out curves.svg [--title TEXT]`: draws the loss and
 * accuracy curves of a training run (train and eval series) as an SVG any browser opens.
 * @module
 */
import { parseArgs } from "node:util";
import { readMetrics } from "./metrics_log.ts";
import { chartsFromMetrics, renderSvg } from "./plot.ts";
import { runMain } from "../infer/cli_util.ts";
import { refuseOverwrite, writeFileAtomic } from "./fs.ts";

const USAGE = "Usage: deno task plot --metrics FILE.jsonl --out FILE.svg [--title TEXT]";

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      metrics: { type: "string" },
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
  if (!values.metrics || !values.out) {
    console.error(USAGE);
    return 2;
  }
  await refuseOverwrite({ "--out": values.out }, { "--metrics": values.metrics });
  const records = await readMetrics(values.metrics);
  const charts = chartsFromMetrics(records);
  await writeFileAtomic(values.out, renderSvg(charts, { title: values.title ?? values.metrics }));
  console.log(`Wrote ${charts.length} charts from ${records.length} records to "${values.out}"`);
  return 0;
}

if (import.meta.main) await runMain("plot", main);
