/**
 * Naver NER 2018 challenge format: `index<TAB>word<TAB>tag` per word, tags `PER_B`, `ORG_I` or
 * `-`, a blank line between sentences. Words are joined by single spaces to make the text, so an
 * entity covers whole words (particles included, as Naver annotates them).
 * @module
 */

import {
  DatasetError,
  type NerExample,
  type ReadResult,
  readText,
  spansFromTags,
  splitLines,
  WarningSink,
} from "./types.ts";

/** Naver NER's 14 types. */
export const NAVER_TYPES: readonly string[] = [
  "AFW",
  "ANM",
  "CVL",
  "DAT",
  "EVT",
  "FLD",
  "LOC",
  "MAT",
  "NUM",
  "ORG",
  "PER",
  "PLT",
  "TIM",
  "TRM",
];

const TAG = /^(?:-|O|([A-Z]{3})_([BI]))$/;

/** Reads Naver NER text; a bad tag or a line without three columns is an error naming the line. */
export function parseNaver(text: string, file: string): ReadResult {
  const sink = new WarningSink(file);
  const examples: NerExample[] = [];
  const known = new Set(NAVER_TYPES);
  let words: string[] = [];
  let tags: string[] = [];
  let expect = 1;
  const finish = () => {
    if (words.length === 0) return;
    const { text: sentence, entities } = spansFromTags(words, tags, " ");
    examples.push({ id: `${examples.length + 1}`, text: sentence, entities });
    words = [];
    tags = [];
    expect = 1;
  };
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i];
    if (line.trim() === "") {
      finish();
      continue;
    }
    const cols = line.split("\t");
    if (cols.length !== 3) {
      throw new DatasetError(file, n, `expected "index<TAB>word<TAB>tag", found ${cols.length} column(s)`);
    }
    const [index, word, tag] = cols;
    if (!/^\d+$/.test(index)) throw new DatasetError(file, n, `expected a word index, found "${index}"`);
    const m = TAG.exec(tag);
    if (!m) throw new DatasetError(file, n, `expected a tag like PER_B, ORG_I or -, found "${tag}"`);
    if (Number(index) === 1 && words.length > 0) {
      sink.add(n, "no-blank-line", `index 1 without a blank line before it; a new sentence is started`);
      finish();
    }
    if (Number(index) !== expect) sink.add(n, "index", `expected index ${expect}, found ${index}`);
    expect = Number(index) + 1;
    if (word === "" || /\s/.test(word)) {
      sink.add(
        n,
        "word",
        `the word "${word}" is empty or holds whitespace; kept, so the text may not split back into the same words`,
      );
    }
    if (m[1] && !known.has(m[1])) {
      sink.add(n, "unknown-type", `"${m[1]}" is not one of the 14 Naver types; kept`);
    }
    if (m[2] === "I" && (tags.length === 0 || !tags[tags.length - 1].endsWith(m[1]))) {
      sink.add(
        n,
        "tag-repaired",
        `${tag} does not follow ${m[1]}_B or ${m[1]}_I; read as the start of an entity`,
      );
    }
    words.push(word);
    tags.push(m[1] ? `${m[2]}-${m[1]}` : "O");
  }
  finish();
  return { examples, warnings: sink.warnings };
}

/** Reads a Naver NER file from disk. */
export async function readNaver(path: string): Promise<ReadResult> {
  return parseNaver(await readText(path), path);
}

/** Writes examples in the Naver format: whitespace words, a word tagged when it overlaps an entity. */
export function writeNaver(examples: NerExample[]): string {
  const out: string[] = [];
  for (const ex of examples) {
    let k = 0;
    let prev: object | undefined;
    for (const m of ex.text.matchAll(/\S+/g)) {
      const s = m.index!, e = s + m[0].length;
      const ent = ex.entities.find((x) => x.start < e && x.end > s);
      out.push(`${++k}\t${m[0]}\t${ent ? `${ent.type}_${ent === prev ? "I" : "B"}` : "-"}`);
      prev = ent;
    }
    out.push("");
  }
  return out.join("\n") + (out.length ? "\n" : "");
}
