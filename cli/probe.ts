/**
 * `deno task probe`: the fixed fine-tuning probe of an encoder (train/pretrain/probe.ts), or of every checkpoint of a
 * pretraining run (a curve).
 *
 * ```sh
 * deno task probe --encoder random|CHECKPOINT.safetensors|MODEL_DIR --out DIR [--runs DIR] [--dev NAME=SRC]
 * deno task probe --curve RUN_DIR --out DIR [--baseline random-probe/probe.json] [--every N]
 * ```
 * @module
 */
import { intFlag, parseFlags, runMain } from "./util.ts";
import { readJsonFile } from "../train/util/fs.ts";
import { parseSource } from "../train/ner_data/sources.ts";
import { probeCurve, readProbeRecipe, runProbe } from "../train/pretrain/probe.ts";

const USAGE = `Usage: deno task probe --encoder SPEC --out DIR [options]
       deno task probe --curve RUN_DIR --out DIR [options]

  --encoder SPEC      random | a pretraining checkpoint (RUN/checkpoints/step-N.safetensors) | a model folder
                      (pretraining OUT/discriminator, OUT/model, an MLM run's OUT/model, a tagger)
  --curve RUN_DIR     probe every checkpoint of a \`deno task pretrain\` run not probed yet (OUT/step-N/), newest
                      first, and write OUT/curve.jsonl (tokens, CPU hours, scores per checkpoint)
  --out DIR           output folder (probe.json; resumes what is already there)
  --recipe FILE       the fixed recipe (default configs/probe/probe.json)
  --runs DIR          the recipe's $RUNS folder: splits and vocab (default /work/nersota-runs/default, the recipe's)
  --dev NAME=SRC      replace or add dev set NAME (SRC as in finetune: [FORMAT:]PATH[:MAP]); NAME=none drops it
  --seeds 1,2         replace the recipe's seeds (the recipe's own are the probe; use for smoke runs)
  --baseline FILE     with --curve: a probe.json of random weights, the curve's point at 0 tokens
  --every N           with --curve: only checkpoints whose step is a multiple of N, and the one at the end of
                      the run's schedule (its final encoder)
  --threads N         intra-op threads   --keep-models   keep each seed's fine-tuned model   --quiet`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseFlags(USAGE, {
    args,
    strict: true,
    options: {
      encoder: { type: "string" },
      curve: { type: "string" },
      out: { type: "string" },
      recipe: { type: "string", default: "configs/probe/probe.json" },
      runs: { type: "string", default: "/work/nersota-runs/default" },
      dev: { type: "string", multiple: true },
      seeds: { type: "string" },
      baseline: { type: "string" },
      every: { type: "string" },
      threads: { type: "string" },
      "keep-models": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (parsed === 2) return 2;
  const values = parsed.values;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const fail = (m: string) => {
    console.error(`probe: ${m}\n\n${USAGE}`);
    return 2;
  };
  if (!values.out) return fail("--out is required");
  if (!values.encoder === !values.curve) return fail("give exactly one of --encoder and --curve");
  const recipeJson = await readJsonFile(values.recipe as string, "probe recipe") as Record<string, unknown>;
  const recipe = await readProbeRecipe(values.recipe as string, values.runs as string);
  for (const spec of (values.dev as string[] | undefined) ?? []) {
    const i = spec.indexOf("=");
    if (i <= 0) return fail(`--dev must be NAME=SRC, got "${spec}"`);
    const name = spec.slice(0, i), src = spec.slice(i + 1);
    if (src === "none") delete recipe.dev[name];
    else recipe.dev[name] = parseSource(src, "auto");
  }
  if (!Object.keys(recipe.dev).length) return fail("no dev set left");
  if (values.seeds) {
    const seeds = (values.seeds as string).split(",").map(Number);
    if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) {
      return fail(`--seeds must be integers, got "${values.seeds}"`);
    }
    recipe.seeds = seeds;
  }
  const int = (flag: string) => {
    const v = (values as Record<string, unknown>)[flag] as string | undefined;
    return v === undefined ? undefined : intFlag(flag, v, 1);
  };
  const common = {
    recipe,
    recipeJson: { file: values.recipe, ...recipeJson },
    threads: int("threads"),
    quiet: values.quiet as boolean | undefined,
    keepModels: values["keep-models"] as boolean | undefined,
  };
  if (values.curve) {
    const points = await probeCurve({
      ...common,
      run: values.curve as string,
      out: values.out as string,
      every: int("every"),
      baseline: values.baseline as string | undefined,
    });
    for (const p of points) console.log(JSON.stringify(p));
    return 0;
  }
  const result = await runProbe({ ...common, encoder: values.encoder as string, out: values.out as string });
  console.log(JSON.stringify(result?.mean ?? null));
  return 0;
}

if (import.meta.main) await runMain("probe", main);
