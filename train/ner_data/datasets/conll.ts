/**
 * CoNLL-style BIO: `token ... tag` per line (whitespace-separated, the tag last), a blank line
 * between sentences, `-DOCSTART-` lines skipped. Tokens are joined by single spaces into the text.
 * @module
 */

import {
  DatasetError,
  type DatasetWarning,
  type NerExample,
  type ReadResult,
  readText,
  spansFromTags,
  splitLines,
  WarningSink,
} from "./types.ts";

const TAG = /^(O|[BIES]-\S+)$/;

/** Reads CoNLL BIO/BIOES text; a line without a valid tag is an error naming the line. */
export function parseConll(text: string, file: string): ReadResult {
  const sink = new WarningSink(file);
  const examples: NerExample[] = [];
  let tokens: string[] = [];
  let tags: string[] = [];
  let lineNos: number[] = [];
  const finish = () => {
    if (tokens.length === 0) return;
    const { text: sentence, entities, chunks } = spansFromTags(tokens, tags, " ");
    for (const [type, a] of chunks) {
      const p = tags[a][0];
      if (p === "I" || p === "E") {
        sink.add(
          lineNos[a],
          "tag-repaired",
          `${tags[a]} does not continue an entity; read as the start of a ${type} entity`,
        );
      }
    }
    examples.push({ id: `${examples.length + 1}`, text: sentence, entities });
    tokens = [];
    tags = [];
    lineNos = [];
  };
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i].trim();
    if (line === "") {
      finish();
      continue;
    }
    if (line.startsWith("-DOCSTART-")) {
      finish();
      continue;
    }
    const cols = line.split(/\s+/);
    if (cols.length < 2) throw new DatasetError(file, n, `expected "token tag", found one column`);
    const tag = cols[cols.length - 1];
    if (!TAG.test(tag)) {
      throw new DatasetError(file, n, `expected a tag like O, B-PER or I-PER, found "${tag}"`);
    }
    tokens.push(cols[0]);
    tags.push(tag);
    lineNos.push(n);
  }
  finish();
  return { examples, warnings: sink.warnings };
}

/** Reads a CoNLL file from disk. */
export async function readConll(path: string): Promise<ReadResult> {
  return parseConll(await readText(path), path);
}

/**
 * Writes examples as CoNLL BIO, one whitespace word per line. A word only partly inside an entity is
 * tagged as inside it (CoNLL cannot split words); each such case is added to `warnings`.
 */
export function writeConll(examples: NerExample[], warnings: DatasetWarning[] = []): string {
  const out: string[] = [];
  for (const ex of examples) {
    let prev: object | undefined;
    for (const m of ex.text.matchAll(/\S+/g)) {
      const s = m.index!, e = s + m[0].length;
      const ent = ex.entities.find((x) => x.start < e && x.end > s);
      if (ent && (ent.start > s || ent.end < e)) {
        warnings.push({
          file: ex.id,
          line: out.length + 1,
          code: "word-split",
          message: `entity ${ent.type} "${ex.text.slice(ent.start, ent.end)}" covers part of the word "${
            m[0]
          }"; the whole word is tagged`,
        });
      }
      out.push(`${m[0]} ${ent ? `${ent === prev ? "I" : "B"}-${ent.type}` : "O"}`);
      prev = ent;
    }
    out.push("");
  }
  return out.join("\n") + (out.length ? "\n" : "");
}
