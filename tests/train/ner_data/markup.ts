// `<mention:TYPE>` markup of NER examples, for writing and reading test sentences at a glance.
import type { NerExample } from "../../../train/ner_data/datasets/types.ts";

/** An example from `<mention:TYPE>` markup. */
export function ex(id: string, marked: string): NerExample {
  const entities = [];
  let text = "";
  for (const m of marked.split(/(<[^<>]+:[A-Z]+>)/)) {
    const hit = /^<(.+):([A-Z]+)>$/.exec(m);
    if (hit) {
      entities.push({ start: text.length, end: text.length + hit[1].length, type: hit[2] });
      text += hit[1];
    } else text += m;
  }
  return { id, text, entities };
}

/** The markup of an example (inverse of `ex`). */
export function marked(e: NerExample): string {
  let out = "", at = 0;
  for (const x of e.entities) {
    out += e.text.slice(at, x.start) + `<${e.text.slice(x.start, x.end)}:${x.type}>`;
    at = x.end;
  }
  return out + e.text.slice(at);
}
