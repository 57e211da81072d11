/**
 * Output formats of recognised texts (`deno task ner --format`), written one text at a time so that a
 * caller can stream them: `begin()`, then `text()` per input, then `end()`.
 * - `json`: one line `{"text", "entities": [{type, text, start, end, score}]}` per text (JSON lines).
 * - `conll`: one token per line with its BIO tag, a blank line after each text. Tokens are the
 *   whitespace-separated words, split where an entity starts or ends inside a word, so the tags give the
 *   spans as they are (`민수랑` → `민수 B-PS`, `랑 O`) instead of stretching them to whole words.
 * - `klue`: KLUE-NER TSV, one character (code point) per line with its BIO tag under a `## N<TAB>marked text`
 *   header: the spans exactly, and a file `deno task finetune`/`eval` read back (`klue:FILE`).
 * - `label-studio`: a JSON array of Label Studio tasks with the entities as `predictions` (pre-annotations),
 *   offsets in JavaScript string indices as Label Studio's editor counts them; correct them there, export,
 *   and train on the export (`train/ner_data/datasets/label_studio.ts` reads it back).
 * Browser-safe: no Deno APIs.
 * @module
 */

/** A span with a type (and, from the pipeline, its text and score). */
export interface FormatEntity {
  type: string;
  start: number;
  end: number;
  text?: string;
  score?: number;
}

/** The formats `outputWriter` writes. */
export const OUTPUT_FORMATS = ["json", "conll", "klue", "label-studio"] as const;
/** One of `OUTPUT_FORMATS`. */
export type OutputFormat = typeof OUTPUT_FORMATS[number];

/** Writes texts with their entities in one format (see the module doc). */
export interface OutputWriter {
  begin(): string;
  text(text: string, entities: readonly FormatEntity[]): string;
  end(): string;
}

/** Names of the Label Studio labelling config the pre-annotations refer to. */
export interface LabelStudioNames {
  /** Name of the `<Labels>` control; default `label`. */
  fromName?: string;
  /** Name of the `<Text>` object; default `text`. */
  toName?: string;
  /** Written as `predictions[].model_version`; default `nersota`. */
  modelVersion?: string;
}

/**
 * `word<TAB>tag` lines of `text`: whitespace-separated words split at entity boundaries, `B-`/`I-` inside a
 * span, `O` outside (see the module doc).
 */
export function conllLines(text: string, entities: readonly FormatEntity[]): string[] {
  const lines: string[] = [];
  let k = 0;
  for (const m of text.matchAll(/\S+/g)) {
    const wordEnd = m.index! + m[0].length;
    let at = m.index!;
    while (at < wordEnd) {
      while (k < entities.length && entities[k].end <= at) k++;
      const e = entities[k];
      if (e && e.start <= at) {
        const end = Math.min(e.end, wordEnd);
        lines.push(`${text.slice(at, end)}\t${at === e.start ? "B" : "I"}-${e.type}`);
        at = end;
      } else {
        const end = Math.min(e && e.start < wordEnd ? e.start : wordEnd, wordEnd);
        lines.push(`${text.slice(at, end)}\tO`);
        at = end;
      }
    }
  }
  return lines;
}

/** Entities by start, then end, then type (the order readers and markup use). */
function ordered(entities: readonly FormatEntity[]): FormatEntity[] {
  return [...entities].sort((a, b) =>
    a.start - b.start || a.end - b.end || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)
  );
}

/** The text with each entity marked up as KLUE writes it: `<민수:PS>랑 만났어` (overlapping ones left out). */
export function renderMarkup(text: string, entities: readonly FormatEntity[]): string {
  let out = "";
  let pos = 0;
  for (const e of ordered(entities)) {
    if (e.start < pos) continue;
    out += text.slice(pos, e.start) + `<${text.slice(e.start, e.end)}:${e.type}>`;
    pos = e.end;
  }
  return out + text.slice(pos);
}

/**
 * One KLUE-NER TSV block: `## id<TAB>marked text`, then `character<TAB>tag` per code point, then a blank
 * line. Throws when the id or text holds a tab or newline, which the format cannot hold.
 */
export function klueBlock(id: string, text: string, entities: readonly FormatEntity[]): string {
  if (/[\t\n\r]/.test(text) || /[\t\n\r]/.test(id)) {
    throw new Error(`KLUE TSV cannot hold text "${id}": it has a tab or newline`);
  }
  const chars = [...text];
  const tags = chars.map(() => "O");
  const starts: number[] = [];
  let pos = 0;
  for (const c of chars) (starts.push(pos), pos += c.length);
  for (const e of ordered(entities)) {
    let first = true;
    for (let k = 0; k < chars.length; k++) {
      if (starts[k] >= e.start && starts[k] < e.end && tags[k] === "O") {
        tags[k] = (first ? "B-" : "I-") + e.type;
        first = false;
      }
    }
  }
  return `## ${id}\t${renderMarkup(text, entities)}\n` + chars.map((c, k) => `${c}\t${tags[k]}\n`).join("") +
    "\n";
}

/** One Label Studio task holding `entities` as a prediction (pre-annotation); `id` goes to `data.id`. */
export function labelStudioTask(
  text: string,
  entities: readonly FormatEntity[],
  key: string | number,
  names: LabelStudioNames = {},
  id?: string,
): Record<string, unknown> {
  const scored = entities.filter((e) => typeof e.score === "number");
  return {
    data: id === undefined ? { text } : { text, id },
    predictions: [{
      model_version: names.modelVersion ?? "nersota",
      // The task's score (Label Studio sorts by it to review the least sure first): the weakest entity's.
      ...(scored.length ? { score: Math.min(...scored.map((e) => e.score!)) } : {}),
      result: entities.map((e, j) => ({
        id: `${key}_${j}`,
        from_name: names.fromName ?? "label",
        to_name: names.toName ?? "text",
        type: "labels",
        value: { start: e.start, end: e.end, text: text.slice(e.start, e.end), labels: [e.type] },
        ...(typeof e.score === "number" ? { score: e.score } : {}),
      })),
    }],
  };
}

/** A writer for `format` (see the module doc). */
export function outputWriter(format: OutputFormat, names: LabelStudioNames = {}): OutputWriter {
  let n = 0;
  switch (format) {
    case "json":
      return {
        begin: () => "",
        text: (text, entities) => JSON.stringify({ text, entities }) + "\n",
        end: () => "",
      };
    case "conll":
      return {
        begin: () => "",
        text: (text, entities) => conllLines(text, entities).map((l) => l + "\n").join("") + "\n",
        end: () => "",
      };
    case "klue":
      return {
        begin: () => "",
        text: (text, entities) => klueBlock(String(++n), text, entities),
        end: () => "",
      };
    case "label-studio":
      return {
        begin: () => "[",
        text: (text, entities) =>
          (n++ ? ",\n" : "\n") + JSON.stringify(labelStudioTask(text, entities, n - 1, names)),
        end: () => (n ? "\n]\n" : "]\n"),
      };
  }
}
