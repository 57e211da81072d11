/**
 * `deno task harmonize` as a function: a lexicon learnt from a reference dataset (harmonize.ts) tags the words
 * another dataset's guideline leaves untagged; the result is written as KLUE TSV with an optional JSON report
 * of the lexicon and of what was added. Nothing written may land on an input.
 * @module
 */
import { loadSources, parseSource } from "./sources.ts";
import { refuseOverwrite, writeFileAtomic } from "../util/fs.ts";
import { writeKlue } from "./datasets/klue.ts";
import { countTypes } from "./datasets/types.ts";
import { addWords, buildLexicon, harmonize, type LexiconEntry } from "./harmonize.ts";

/** The reference, the dataset, the outputs and the lexicon's settings of `harmonizeFiles`. */
export interface HarmonizeFilesOptions {
  /** The dataset in the target guideline (`[FORMAT:]PATH`). */
  reference: string;
  /** The dataset to tag (`[FORMAT:]PATH[:MAP]`). */
  data: string;
  /** KLUE TSV with the dataset's entities plus the added ones. */
  out: string;
  /** JSON: lexicon, added entities per word, types before and after. */
  report?: string;
  types: readonly string[];
  minCount: number;
  minRate: number;
  heads: boolean;
  merge: boolean;
  /** Hand-given `[text, type]` words added to the learnt ones. */
  words: [string, string][];
  /** The readers' notes. */
  log: (message: string) => void;
}

/** Learns the lexicon, tags the dataset and writes it (and the report); returns the lexicon and the additions. */
export async function harmonizeFiles(
  o: HarmonizeFilesOptions,
): Promise<{ lexicon: LexiconEntry[]; added: Record<string, number> }> {
  const { types, minCount, minRate, heads, merge, words } = o;
  const refSource = parseSource(o.reference, "auto"), dataSource = parseSource(o.data, "auto");
  await refuseOverwrite({ "--out": o.out, "--report": o.report }, {
    "--reference": refSource.path,
    "--data": dataSource.path,
  });
  const reference = await loadSources([refSource], o.log);
  const data = await loadSources([dataSource], o.log);
  const lexicon = addWords(
    buildLexicon(reference, { types, minCount, minRate, heads }),
    reference,
    words,
    heads,
  );
  const { examples, added } = harmonize(data, lexicon, { merge });
  await writeFileAtomic(o.out, writeKlue(examples));
  if (o.report) {
    const report = {
      reference: o.reference,
      data: o.data,
      options: { types, minCount, minRate, heads, merge, words },
      lexicon,
      added,
      before: countTypes(data),
      after: countTypes(examples),
    };
    await writeFileAtomic(o.report, JSON.stringify(report, null, 2) + "\n");
  }
  return { lexicon, added };
}

/** `N words learnt; M entities added (word count, … the 12 most added, …)`: a run in one line. */
export function harmonizeSummary(lexiconSize: number, added: Record<string, number>): string {
  const total = Object.values(added).reduce((a, b) => a + b, 0);
  const top = Object.entries(added).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([w, n]) => `${w} ${n}`);
  return `${lexiconSize} words learnt; ${total} entities added (${top.join(", ")}${top.length ? ", …" : ""})`;
}
