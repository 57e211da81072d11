// Examples for the harmonisation tests: a reference dataset in KLUE's guideline.
import type { NerExample } from "../../../train/ner_data/datasets/types.ts";

/** An example with `[start, end, type]` entities. */
export const ex = (id: string, text: string, entities: [number, number, string][] = []): NerExample => ({
  id,
  text,
  entities: entities.map(([start, end, type]) => ({ start, end, type })),
});

// A reference in KLUE's guideline: 이날 always DT (3 of 3), 오후 TI 2 of 4 word-start times, 하나 QT once.
export const REFERENCE = [
  ex("r1", "이날 비가 왔다", [[0, 2, "DT"]]),
  ex("r2", "그는 이날도 왔다", [[3, 5, "DT"]]),
  ex("r3", "이날 오후 회의", [[0, 2, "DT"], [3, 5, "TI"]]),
  ex("r4", "오후에 보자 오후 늦게", [[0, 2, "TI"]]),
  ex("r5", "오후반 수업은 하나", [[8, 10, "QT"]]),
  ex("r6", "김철수가 왔다", [[0, 3, "PS"]]),
];
