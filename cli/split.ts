/**
 * `deno task split --data FORMAT:PATH --out DIR [--dev 0.1] [--test 0.1] [--seed 0] [--pin REGEX=side]`:
 * writes DIR/{train,dev,test}.tsv (KLUE TSV), DIR/{train,dev,test}.txt (sentence texts) and DIR/split.json (counts per side and type).
 * @module
 */
import { parseFlags, usageError } from "./util.ts";
import { join } from "node:path";
import { readDataset } from "../train/ner_data/datasets/mod.ts";
import { countTypes, type DatasetFormat, formatWarning } from "../train/ner_data/datasets/types.ts";
import { writeKlue } from "../train/ner_data/datasets/klue.ts";
import { type Side, splitExamples } from "../train/ner_data/split.ts";
import { refuseOverwrite, writeFileAtomic } from "../train/util/fs.ts";

const USAGE = `Usage: deno task split --data [FORMAT:]PATH --out DIR [options]

  --data [FORMAT:]PATH  dataset (klue, kmou, nikl, naver, conll, label-studio; default: detected)
  --out DIR             where train.tsv, dev.tsv, test.tsv (KLUE TSV) and split.json go
  --dev F               dev fraction (default 0.1)
  --test F              test fraction (default 0.1)
  --seed N              hash seed (default 0)
  --pin REGEX=SIDE      ids matching REGEX go to SIDE (train|dev|test); repeatable`;

/** Parses arguments, splits, writes; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseFlags(USAGE, {
    args,
    options: {
      data: { type: "string" },
      out: { type: "string" },
      dev: { type: "string", default: "0.1" },
      test: { type: "string", default: "0.1" },
      seed: { type: "string", default: "0" },
      pin: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (parsed === 2) return 2;
  const { values } = parsed;
  if (values.help) return console.log(USAGE), 0;
  if (!values.data || !values.out) return usageError(USAGE, "--data and --out are required");
  const m = values.data.match(/^(klue|kmou|nikl|naver|conll|label-studio):(.*)$/);
  const [format, path] = m ? [m[1] as DatasetFormat, m[2]] : ["auto" as const, values.data];
  const outputs: Record<string, string> = {};
  for (const f of ["train.tsv", "dev.tsv", "test.tsv", "train.txt", "dev.txt", "test.txt", "split.json"]) {
    outputs[`--out's ${f}`] = join(values.out, f);
  }
  await refuseOverwrite(outputs, { "--data": path });
  const pin: { pattern: RegExp; side: Side }[] = [];
  for (const p of values.pin ?? []) {
    const k = p.lastIndexOf("=");
    const side = p.slice(k + 1);
    if (k < 0 || !["train", "dev", "test"].includes(side)) {
      return console.error(`error: --pin "${p}": expected REGEX=train|dev|test`), 2;
    }
    pin.push({ pattern: new RegExp(p.slice(0, k)), side: side as Side });
  }
  const dev = Number(values.dev), test = Number(values.test), seed = Number(values.seed);
  if (![dev, test, seed].every(Number.isFinite)) {
    return console.error("error: --dev, --test, --seed must be numbers"), 2;
  }
  const { examples, warnings } = await readDataset(path, format);
  for (const w of warnings.slice(0, 20)) console.error(`warning: ${formatWarning(w)}`);
  if (warnings.length > 20) console.error(`warning: … and ${warnings.length - 20} more`);
  const sides = splitExamples(examples, { dev, test, seed, pin });
  await Deno.mkdir(values.out, { recursive: true });
  const summary: Record<string, unknown> = { source: path, format, dev, test, seed, pin: values.pin ?? [] };
  for (const side of ["train", "dev", "test"] as Side[]) {
    await writeFileAtomic(join(values.out, `${side}.tsv`), writeKlue(sides[side]));
    // Plain sentence texts, one per line: corpus input for the vocab trainer and build-data.
    await writeFileAtomic(join(values.out, `${side}.txt`), sides[side].map((e) => e.text + "\n").join(""));
    summary[side] = { sentences: sides[side].length, entities: countTypes(sides[side]) };
    console.log(`${side}: ${sides[side].length} sentences`);
  }
  await writeFileAtomic(join(values.out, "split.json"), JSON.stringify(summary, null, 2) + "\n");
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
