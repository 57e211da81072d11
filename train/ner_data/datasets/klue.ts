/**
 * KLUE-NER TSV: `## id<TAB>marked sentence`, then one `character<TAB>tag` line per character
 * (spaces included), a blank line between sentences. Earlier `##` lines are comments.
 * @module
 */

import { klueBlock } from "../../../infer/formats.ts";
import {
  DatasetError,
  type NerExample,
  parseMarkup,
  type ReadResult,
  readText,
  sortEntities,
  spansFromTags,
  splitLines,
  type TypedSpan,
  WarningSink,
} from "./types.ts";

/** KLUE-NER's six types. */
export const KLUE_TYPES: readonly string[] = ["DT", "LC", "OG", "PS", "QT", "TI"];

const TAG = /^(O|[BIES]-[A-Za-z][A-Za-z0-9_]*)$/;

/**
 * Reads KLUE-NER TSV text. Entities come from the per-character tags (what KLUE's own loader
 * uses); the markup in the header is checked against them and differences become warnings.
 */
export function parseKlue(text: string, file: string): ReadResult {
  const sink = new WarningSink(file);
  const examples: NerExample[] = [];
  const lines = splitLines(text);
  let header: { line: number; body: string } | undefined;
  let cur:
    | { id: string; line: number; marked?: string; chars: string[]; tags: string[]; lines: number[] }
    | undefined;

  const finish = () => {
    if (!cur) return;
    const { text: sentence, entities, chunks } = spansFromTags(cur.chars, cur.tags, "");
    for (const [type, a] of chunks) {
      if (cur.tags[a].startsWith("I-")) {
        sink.add(
          cur.lines[a],
          "tag-repaired",
          `I-${type} does not follow B-${type}; read as the start of an entity`,
        );
      }
    }
    if (cur.marked !== undefined) {
      const m = parseMarkup(cur.marked);
      for (const p of m.problems) sink.add(cur.line, "markup", p);
      if (m.text !== sentence) {
        sink.add(cur.line, "markup-differs", `the marked sentence differs from the characters below it`);
      } else {
        const key = (e: TypedSpan) => `${e.start}:${e.end}:${e.type}`;
        const fromTags = new Set(entities.map(key));
        const fromMarkup = new Set(m.entities.map(key));
        if (fromTags.size !== fromMarkup.size || [...fromTags].some((k) => !fromMarkup.has(k))) {
          sink.add(
            cur.line,
            "markup-differs",
            `the markup's entities differ from the tags; the tags are used`,
          );
        }
      }
    }
    examples.push({ id: cur.id, text: sentence, entities: sortEntities(entities) });
    cur = undefined;
  };

  // A "## id<TAB>sentence" header no character lines followed: the sentence is empty and skipped, said so.
  const unfinished = () => {
    // An id (no spaces) then a tab: not a comment header such as "## 컬럼명 : CHAR<TAB>NE_TAG".
    if (header && /^[^\s:]+\t/.test(header.body)) {
      sink.add(header.line, "empty-sentence", `the sentence has no character lines; skipped`);
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const n = i + 1;
    if (line.startsWith("##")) {
      finish();
      unfinished();
      header = { line: n, body: line.replace(/^## ?/, "") };
      continue;
    }
    if (line === "") {
      finish();
      unfinished();
      header = undefined;
      continue;
    }
    const tab = line.lastIndexOf("\t");
    if (tab < 0) throw new DatasetError(file, n, `expected "character<TAB>tag", found no tab`);
    const ch = line.slice(0, tab);
    const tag = line.slice(tab + 1);
    if (!TAG.test(tag)) {
      throw new DatasetError(file, n, `expected a tag like O, B-PS or I-PS, found "${tag}"`);
    }
    if (!cur) {
      if (!header) {
        throw new DatasetError(file, n, `expected a "## id<TAB>sentence" line before the characters`);
      }
      const t = header.body.indexOf("\t");
      cur = {
        id: t >= 0 ? header.body.slice(0, t) : header.body,
        line: header.line,
        chars: [],
        tags: [],
        lines: [],
      };
      if (t >= 0) cur.marked = header.body.slice(t + 1);
      else sink.add(header.line, "no-markup", `the header has no tab and no marked sentence`);
      header = undefined;
    }
    if (ch.length === 0) {
      sink.add(n, "empty-character", `empty character field; read as a space`);
    } else if ([...ch].length !== 1) {
      sink.add(n, "multi-character", `"${ch}" is more than one character; kept as is`);
    }
    cur.chars.push(ch.length === 0 ? " " : ch);
    cur.tags.push(tag);
    cur.lines.push(n);
  }
  finish();
  unfinished();
  return { examples, warnings: sink.warnings };
}

/** Reads a KLUE-NER TSV file from disk. */
export async function readKlue(path: string): Promise<ReadResult> {
  return parseKlue(await readText(path), path);
}

/** Writes examples as KLUE-NER TSV (one line per code point); ids and texts must not hold tabs or newlines. */
export function writeKlue(examples: NerExample[]): string {
  return examples.map((ex) => {
    try {
      return klueBlock(ex.id, ex.text, ex.entities);
    } catch {
      throw new Error(`writeKlue: example "${ex.id}" has a tab or newline, which KLUE TSV cannot hold`);
    }
  }).join("");
}
