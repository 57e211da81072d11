/**
 * `deno task augment` as a function: a labelled dataset read (any `FORMAT:PATH[:MAP]` source), augmented
 * (augment.ts) and the copies written as KLUE TSV, with an optional JSON report of what changed; nothing
 * written may land on the dataset.
 * @module
 */
import { loadSources, parseSource } from "./sources.ts";
import { refuseOverwrite, writeFileAtomic } from "../util/fs.ts";
import { augment, type AugmentOptions, type AugmentResult } from "./augment.ts";
import { writeKlue } from "./datasets/klue.ts";
import type { NoiseCounts } from "./noise.ts";

/** What `augmentFile` counted: the sentences read, the copies written and what changed in them. */
export type AugmentSummary =
  & { sentences: number; copies: number }
  & Omit<AugmentResult, "examples" | "noise">
  & NoiseCounts;

/**
 * Reads `data` (`[FORMAT:]PATH[:MAP]`), writes its augmented copies to `out` as KLUE TSV and, when `report`
 * is given, `{data, options, ...summary}` there as JSON; returns the summary. `log` gets the reader's notes.
 */
export async function augmentFile(
  o: { data: string; out: string; report?: string; options: AugmentOptions; log: (message: string) => void },
): Promise<AugmentSummary> {
  const source = parseSource(o.data, "auto");
  await refuseOverwrite({ "--out": o.out, "--report": o.report }, { "--data": source.path });
  const data = await loadSources([source], o.log);
  const result = augment(data, o.options);
  await writeFileAtomic(o.out, writeKlue(result.examples));
  const summary = {
    sentences: data.length,
    copies: result.examples.length,
    swapped: result.swapped,
    particlesReagreed: result.particlesReagreed,
    particlesSpoken: result.particlesSpoken,
    givenNames: result.givenNames,
    particlesDropped: result.particlesDropped,
    ...result.noise,
  };
  if (o.report) {
    const json = { data: o.data, options: o.options, ...summary };
    await writeFileAtomic(o.report, JSON.stringify(json, null, 2) + "\n");
  }
  return summary;
}
