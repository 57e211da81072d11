// An evaluation report with hand-picked scores (two types, a subset), for the model card tests.
import type { EvalReport } from "../../../train/evaluate/evaluate.ts";

const prf = (f1: number) => ({ precision: f1, recall: f1, f1 });
const typeRow = (f1: number, support: number) => ({
  ...prf(f1),
  support,
  predicted: support,
  correct: Math.round(f1 * support),
});
/** Micro F1 0.8, macro 0.7, PS 0.9 and LC 0.5 on 6 sentences; subset nsmc. */
export const report: EvalReport = {
  micro: prf(0.8),
  macro: prf(0.7),
  perType: { PS: typeRow(0.9, 10), LC: typeRow(0.5, 4) },
  support: 14,
  sentences: 6,
  gold: 14,
  predicted: 14,
  subsets: {
    nsmc: { micro: prf(0.75), macro: prf(0.6), perType: { PS: typeRow(0.8, 5) }, support: 5, sentences: 3 },
  },
  confusion: { types: [], counts: [] } as unknown as EvalReport["confusion"],
  errorSentences: 2,
};
