/**
 * 모두의 말뭉치 (NIKL) 개체명 분석 말뭉치 JSON: `document[].sentence[]` with `form` and
 * `NE[]` (`form`, `label`, `begin`, `end`). Labels are kept as written (`PS`, or `PS_NAME` in
 * releases with sub-types); `label_map.ts` reduces them.
 * @module
 */

import { parseLocatedJson } from "./json_source.ts";
import {
  DatasetError,
  locateSurface,
  type NerExample,
  type ReadResult,
  readText,
  sortEntities,
  type TypedSpan,
  WarningSink,
} from "./types.ts";

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/**
 * Reads NIKL NER JSON. Offsets are checked against the NE's `form`: wrong offsets are repaired by
 * treating them as code points or by finding the form nearby, with a warning; an NE that cannot be
 * placed is reported and left out.
 */
export function parseNikl(text: string, file: string): ReadResult {
  const { value: root, lineOf } = parseLocatedJson(text, file);
  const sink = new WarningSink(file);
  const examples: NerExample[] = [];
  if (!isObject(root) || !Array.isArray(root.document)) {
    throw new DatasetError(file, lineOf(root), `expected an object with a "document" array (NIKL NER JSON)`);
  }
  root.document.forEach((doc: unknown, d: number) => {
    if (!isObject(doc) || !Array.isArray(doc.sentence)) {
      throw new DatasetError(file, lineOf(doc), `expected document[${d}] to have a "sentence" array`);
    }
    const docId = typeof doc.id === "string" ? doc.id : `document${d}`;
    doc.sentence.forEach((s: unknown, k: number) => {
      if (!isObject(s) || typeof s.form !== "string") {
        throw new DatasetError(
          file,
          lineOf(s),
          `expected document[${d}].sentence[${k}] to have a string "form"`,
        );
      }
      const form = s.form;
      const id = typeof s.id === "string" ? s.id : `${docId}.${k + 1}`;
      const nes = s.NE ?? s.ne ?? [];
      if (!Array.isArray(nes)) {
        throw new DatasetError(file, lineOf(s), `expected "NE" of sentence "${id}" to be an array`);
      }
      const entities: TypedSpan[] = [];
      for (const ne of nes) {
        const line = lineOf(ne);
        if (
          !isObject(ne) || typeof ne.label !== "string" || typeof ne.begin !== "number" ||
          typeof ne.end !== "number"
        ) {
          throw new DatasetError(
            file,
            line,
            `expected an NE with string "label" and numeric "begin" and "end" in sentence "${id}"`,
          );
        }
        const surface = typeof ne.form === "string" ? ne.form : undefined;
        const at = locateSurface(form, ne.begin, ne.end, surface);
        if (!at) {
          sink.add(
            line,
            "entity-not-found",
            `NE "${surface ?? ""}" [${ne.begin}, ${ne.end}) is not in sentence "${id}"; left out`,
          );
          continue;
        }
        if (at.how === "code-points") {
          sink.add(line, "code-point-offsets", `NE "${surface}" offsets read as code points`);
        } else if (at.how === "searched") {
          sink.add(
            line,
            "offsets-repaired",
            `NE "${surface}" is not at [${ne.begin}, ${ne.end}); found at [${at.start}, ${at.end})`,
          );
        }
        entities.push({ start: at.start, end: at.end, type: ne.label });
      }
      examples.push({ id, text: form, entities: sortEntities(entities) });
    });
  });
  return { examples, warnings: sink.warnings };
}

/** Reads a NIKL NER JSON file from disk. */
export async function readNikl(path: string): Promise<ReadResult> {
  return parseNikl(await readText(path), path);
}

/**
 * Writes examples as NIKL NER JSON, one document holding every sentence. Offsets are JavaScript
 * string indices (the same as code points unless the text has emoji); the reader accepts both.
 */
export function writeNikl(examples: NerExample[], documentId = "NERSOTA"): string {
  const sentence = examples.map((ex) => ({
    id: ex.id,
    form: ex.text,
    NE: ex.entities.map((e, k) => ({
      id: k + 1,
      form: ex.text.slice(e.start, e.end),
      label: e.type,
      begin: e.start,
      end: e.end,
    })),
  }));
  return JSON.stringify({ id: documentId, document: [{ id: documentId, sentence }] }, null, 2) + "\n";
}
