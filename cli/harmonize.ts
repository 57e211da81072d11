/**
 * `deno task harmonize --reference [FORMAT:]PATH --data [FORMAT:]PATH[:MAP] --out FILE.tsv`: tags, in a
 * mapped dataset, the words the reference tags consistently but the dataset's guideline leaves untagged
 * (`train/ner_data/harmonize.ts`), and writes the result as KLUE TSV plus a JSON report (`--report`) of the
 * learnt lexicon and of what was added (train/ner_data/harmonize_files.ts).
 * @module
 */
import { intFlag, parseFlags, runMain, usageError } from "./util.ts";
import { harmonizeFiles, harmonizeSummary } from "../train/ner_data/harmonize_files.ts";

const USAGE =
  `Usage: deno task harmonize --reference [FORMAT:]PATH --data [FORMAT:]PATH[:MAP] --out FILE.tsv [options]

  --reference SPEC  examples in the target guideline the words are learnt from (e.g. klue:train.tsv)
  --data SPEC       the dataset to harmonise, with its type map (e.g. klue:kmou/train.tsv:kmou-klue)
  --out FILE        KLUE TSV with the dataset's entities plus the added ones
  --types LIST      types whose guideline differs (default DT,TI,QT)
  --min-count N     least tagged occurrences of a word in the reference (default 3)
  --min-rate F      least share of its word-start occurrences tagged there (default 0.5)
  --heads           count a word as tagged also where a date starts with it (지난해 in 지난해 11월)
  --merge           a word right before (one space) an entity of its type joins it (올해 + 12월 31일)
  --word TEXT:TYPE  add a word to the learnt ones (repeatable; e.g. a guideline rule the reference is thin on)
  --report FILE     JSON: lexicon, added entities per word, types before and after`;

/** Parses arguments, harmonises, writes; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseFlags(USAGE, {
    args,
    options: {
      reference: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      types: { type: "string", default: "DT,TI,QT" },
      "min-count": { type: "string", default: "3" },
      "min-rate": { type: "string", default: "0.5" },
      heads: { type: "boolean", default: false },
      merge: { type: "boolean", default: false },
      word: { type: "string", multiple: true },
      report: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (parsed === 2) return 2;
  const { values } = parsed;
  if (values.help) return console.log(USAGE), 0;
  if (!values.reference || !values.data || !values.out) {
    return usageError(USAGE, "--reference, --data and --out are required");
  }
  const minCount = intFlag("min-count", values["min-count"], 1), minRate = Number(values["min-rate"]);
  if (!(minRate > 0 && minRate <= 1)) return usageError(USAGE, "--min-rate must be in (0, 1]");
  const types = values.types.split(",").map((t) => t.trim()).filter(Boolean);
  const words: [string, string][] = [];
  for (const w of values.word ?? []) {
    const m = /^(.+):([A-Z]+)$/.exec(w);
    if (!m || m[1].trim() !== m[1]) {
      return usageError(USAGE, `--word: expected TEXT:TYPE (e.g. 어제:DT), got '${w}'`);
    }
    words.push([m[1], m[2]]);
  }
  const { lexicon, added } = await harmonizeFiles({
    reference: values.reference,
    data: values.data,
    out: values.out,
    report: values.report,
    types,
    minCount,
    minRate,
    heads: values.heads,
    merge: values.merge,
    words,
    log: (m) => console.error(m),
  });
  console.log(harmonizeSummary(lexicon.length, added));
  return 0;
}

if (import.meta.main) await runMain("harmonize", main);
