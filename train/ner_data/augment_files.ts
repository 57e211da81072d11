/**
 * `deno task augment` as a function: a labelled dataset read (any `FORMAT:PATH[:MAP]` source), augmented
 * (augment.ts) and the copies written as KLUE TSV, with an optional JSON report of what changed; nothing
 * written may land on the dataset.
 * @module
 */
import { loadSources, parseSource } from "./sources.ts";
import { refuseOverwrite, writeFileAtomic } from "../util/fs.ts";
import { augment, type AugmentOptions, type AugmentResult, parseLexicon } from "./augment.ts";
import { writeKlue } from "./datasets/klue.ts";
import type { NoiseCounts } from "./noise.ts";

/** What `augmentFile` counted: the sentences read, the copies written and what changed in them. */
export type AugmentSummary =
  & { sentences: number; copies: number }
  & Omit<AugmentResult, "examples" | "noise">
  & NoiseCounts;

/**
 * Reads `data` (`[FORMAT:]PATH[:MAP]`) and the swap `lexicon` file when given (`parseLexicon`), writes the
 * augmented copies to `out` as KLUE TSV and, when `report` is given, `{data, lexicon, options, ...summary}`
 * there as JSON; returns the summary. `log` gets the reader's notes.
 */
export async function augmentFile(
  o: {
    data: string;
    out: string;
    report?: string;
    lexicon?: string;
    options: Omit<AugmentOptions, "lexicon">;
    log: (message: string) => void;
  },
): Promise<AugmentSummary> {
  const source = parseSource(o.data, "auto");
  const inputs = { "--data": source.path, ...(o.lexicon ? { "--lexicon": o.lexicon } : {}) };
  await refuseOverwrite({ "--out": o.out, "--report": o.report }, inputs);
  const data = await loadSources([source], o.log);
  const lexicon = o.lexicon ? parseLexicon(await Deno.readTextFile(o.lexicon), o.lexicon) : undefined;
  const result = augment(data, { ...o.options, lexicon });
  await writeFileAtomic(o.out, writeKlue(result.examples));
  const summary = {
    sentences: data.length,
    copies: result.examples.length,
    swapped: result.swapped,
    particlesReagreed: result.particlesReagreed,
    particlesSpoken: result.particlesSpoken,
    givenNames: result.givenNames,
    particlesDropped: result.particlesDropped,
    lexiconSwaps: result.lexiconSwaps,
    ...result.noise,
  };
  if (o.report) {
    const json = {
      data: o.data,
      ...(o.lexicon ? { lexicon: o.lexicon } : {}),
      options: o.options,
      ...summary,
    };
    await writeFileAtomic(o.report, JSON.stringify(json, null, 2) + "\n");
  }
  return summary;
}
