/**
 * `deno task augment --data [FORMAT:]PATH[:MAP] --out FILE.tsv`: writes augmented copies of a labelled dataset
 * (train/ner_data/augment.ts: mentions swapped within their type with the particle after them re-agreed,
 * written particles after entities made spoken or dropped, colloquial noise: laughter, interjections and emoji
 * around entities, spaces dropped and doubled; names drawn from a `--lexicon`) as KLUE TSV, to be listed as one
 * more `--train` source next to the original; `--report` writes what changed as JSON
 * (train/ner_data/augment_files.ts).
 * @module
 */
import { intFlag, parseFlags, runMain, usageError } from "./util.ts";
import { augmentFile } from "../train/ner_data/augment_files.ts";

const USAGE = `Usage: deno task augment --data [FORMAT:]PATH[:MAP] --out FILE.tsv [options]

  --data SPEC        the labelled dataset to copy (e.g. klue:train.tsv or kmou:corpus:kmou-klue)
  --out FILE         KLUE TSV with the augmented copies only (the originals are not repeated)
  --swap-types LIST  types whose mentions are swapped for other mentions of the type (default PS,LC,OG;
                     "none" for no swaps)
  --swap-rate F      chance that one such mention is swapped (default 0.5)
  --colloquial       turn written particles after entities into spoken ones (와/과 → 랑/이랑, 에게 → 한테)
  --given-names F    chance that a PS full name (surname + two syllables) is cut to the given name, as
                     speech names people (default 0)
  --colloquial-rate F  with --colloquial, the chance for each such particle (default 1; F > 0 turns
                     --colloquial on)
  --drop-particles F chance that a case particle after an entity (이/가 은/는 을/를) is dropped (default 0)
Colloquial noise, each a chance per gap between words (and at the start and end for insertions), never
inside an entity (default 0):
  --laughter F       insert laughter or a jamo reaction (ㅋㅋㅋ ㅎㅎ ㅠㅠ ㄹㅇ ㄷㄷ)
  --interjections F  insert an interjection (헐 아 와 진짜 대박)
  --emoji F          insert one to three emoji
  --drop-spaces F    drop the space (민수랑 어제 → 민수랑어제)
  --double-spaces F  double a kept space
A lexicon of names the data lacks (e.g. colloquial places and brands):
  --lexicon FILE     one TYPE<TAB>NAME per line (# comments): swaps of those types may draw these names
  --lexicon-rate F   chance that such a swap draws from the lexicon, not the data (default 0.5 with --lexicon)
  --copies N         copies per sentence (default 1; a copy that changes nothing is left out)
  --seed N           (default 0)
  --report FILE      JSON: options and counts of what changed`;

/** The rates of the two flags without a parse default (their absence is told apart from a value). */
const UNSET_RATES: Record<string, string> = { "colloquial-rate": "1", "lexicon-rate": "0.5" };

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
      "colloquial-rate": { type: "string" },
      "drop-particles": { type: "string", default: "0" },
      laughter: { type: "string", default: "0" },
      interjections: { type: "string", default: "0" },
      emoji: { type: "string", default: "0" },
      "drop-spaces": { type: "string", default: "0" },
      "double-spaces": { type: "string", default: "0" },
      lexicon: { type: "string" },
      "lexicon-rate": { type: "string" },
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
  if (values["lexicon-rate"] !== undefined && !values.lexicon) {
    return usageError(USAGE, "--lexicon-rate needs --lexicon");
  }
  const rate: Record<string, number> = {};
  for (
    const flag of [
      "swap-rate",
      "given-names",
      "colloquial-rate",
      "drop-particles",
      "laughter",
      "interjections",
      "emoji",
      "drop-spaces",
      "double-spaces",
      "lexicon-rate",
    ] as const
  ) {
    const r = Number(values[flag] ?? UNSET_RATES[flag]);
    if (!(r >= 0 && r <= 1)) return usageError(USAGE, `--${flag} must be in [0, 1]`);
    rate[flag] = r;
  }
  const swapTypes = values["swap-types"] === "none"
    ? []
    : values["swap-types"].split(",").map((t) => t.trim()).filter(Boolean);
  const options = {
    swapTypes,
    swapRate: rate["swap-rate"],
    colloquial: values.colloquial || (values["colloquial-rate"] !== undefined && rate["colloquial-rate"] > 0),
    colloquialRate: rate["colloquial-rate"],
    givenNames: rate["given-names"],
    dropParticles: rate["drop-particles"],
    noise: {
      laughter: rate.laughter,
      interjections: rate.interjections,
      emoji: rate.emoji,
      dropSpaces: rate["drop-spaces"],
      doubleSpaces: rate["double-spaces"],
    },
    ...(values.lexicon ? { lexiconRate: rate["lexicon-rate"] } : {}),
    copies: intFlag("copies", values.copies, 1),
    seed: intFlag("seed", values.seed, 0),
  };
  const { data, out, report, lexicon } = values;
  console.log(
    JSON.stringify(await augmentFile({ data, out, report, lexicon, options, log: (m) => console.error(m) })),
  );
  return 0;
}

if (import.meta.main) await runMain("augment", main);
