/**
 * `deno task augment --data [FORMAT:]PATH[:MAP] --out FILE.tsv`: writes augmented copies of a labelled dataset
 * (train/augment.ts: mentions swapped within their type with the particle after them re-agreed, written
 * particles after entities made spoken) as KLUE TSV, to be listed as one more `--train` source next to the
 * original; `--report` writes what changed as JSON.
 * @module
 */
import { intFlag, parseFlags, runMain, usageError } from "../infer/cli_util.ts";
import { augment } from "./augment.ts";
import { writeKlue } from "./datasets/klue.ts";
import { parseSource } from "./finetune_cli.ts";
import { loadSources } from "./finetune.ts";
import { writeFileAtomic } from "./fs.ts";

const USAGE = `Usage: deno task augment --data [FORMAT:]PATH[:MAP] --out FILE.tsv [options]

  --data SPEC        the labelled dataset to copy (e.g. klue:train.tsv or kmou:corpus:kmou-klue)
  --out FILE         KLUE TSV with the augmented copies only (the originals are not repeated)
  --swap-types LIST  types whose mentions are swapped for other mentions of the type (default PS,LC,OG;
                     "none" for no swaps)
  --swap-rate F      chance that one such mention is swapped (default 0.5)
  --colloquial       turn written particles after entities into spoken ones (와/과 → 랑/이랑, 에게 → 한테)
  --given-names F    chance that a PS full name (surname + two syllables) is cut to the given name, as
                     speech names people (default 0)
  --copies N         copies per sentence (default 1; a copy that changes nothing is left out)
  --seed N           (default 0)
  --report FILE      JSON: options and counts of what changed`;

/** Parses arguments, augments, writes; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseFlags(USAGE, {
    args,
    options: {
      data: { type: "string" },
      out: { type: "string" },
      "swap-types": { type: "string", default: "PS,LC,OG" },
      "swap-rate": { type: "string", default: "0.5" },
      colloquial: { type: "boolean", default: false },
      "given-names": { type: "string", default: "0" },
      copies: { type: "string", default: "1" },
      seed: { type: "string", default: "0" },
      report: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (parsed === 2) return 2;
  const { values } = parsed;
  if (values.help) return console.log(USAGE), 0;
  if (!values.data || !values.out) return usageError(USAGE, "--data and --out are required");
  const swapRate = Number(values["swap-rate"]);
  if (!(swapRate >= 0 && swapRate <= 1)) return usageError(USAGE, "--swap-rate must be in [0, 1]");
  const givenNames = Number(values["given-names"]);
  if (!(givenNames >= 0 && givenNames <= 1)) return usageError(USAGE, "--given-names must be in [0, 1]");
  const swapTypes = values["swap-types"] === "none"
    ? []
    : values["swap-types"].split(",").map((t) => t.trim()).filter(Boolean);
  const options = {
    swapTypes,
    swapRate,
    colloquial: values.colloquial,
    givenNames,
    copies: intFlag("copies", values.copies, 1),
    seed: intFlag("seed", values.seed, 0),
  };
  const data = await loadSources([parseSource(values.data, "auto")], (m) => console.error(m));
  const result = augment(data, options);
  await writeFileAtomic(values.out, writeKlue(result.examples));
  const summary = {
    sentences: data.length,
    copies: result.examples.length,
    swapped: result.swapped,
    particlesReagreed: result.particlesReagreed,
    particlesSpoken: result.particlesSpoken,
    givenNames: result.givenNames,
  };
  console.log(JSON.stringify(summary));
  if (values.report) {
    await writeFileAtomic(
      values.report,
      JSON.stringify({ data: values.data, options, ...summary }, null, 2) + "\n",
    );
  }
  return 0;
}

if (import.meta.main) await runMain("augment", main);
