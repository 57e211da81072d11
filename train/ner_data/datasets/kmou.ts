/**
 * The KMOU NER corpus (kmounlp/NER): blocks of `## n`, `## raw`, `## marked` lines and morpheme
 * lines (`surface<TAB>analysis<TAB>POS<TAB>BIO`, `_` for a space), and the older KLP-2016 layout
 * (`; raw`, `$marked`, then `token ... <TAB>B_PS` lines). Entities come from the marked line,
 * which is the gold annotation; the morpheme tags are only cross-checked.
 * @module
 */

import { getEntities } from "../../../infer/decode.ts";
import {
  baseName,
  type NerExample,
  parseMarkup,
  type ReadResult,
  readText,
  renderMarkup,
  sortEntities,
  splitLines,
  type TypedSpan,
  WarningSink,
} from "./types.ts";

/** KMOU's ten types. */
export const KMOU_TYPES: readonly string[] = [
  "DAT",
  "DUR",
  "LOC",
  "MNY",
  "NOH",
  "ORG",
  "PER",
  "PNT",
  "POH",
  "TIM",
];

interface Block {
  headers: { line: number; text: string }[];
  layout: "kmou" | "klp";
  morphemes: { line: number; cols: string[] }[];
}

/** Places the marked line's entities on the raw line when the two texts differ slightly. */
function relocate(raw: string, markedText: string, entities: TypedSpan[]): TypedSpan[] | undefined {
  const out: TypedSpan[] = [];
  let delta = 0;
  let cursor = 0;
  for (const e of entities) {
    const surface = markedText.slice(e.start, e.end);
    const expect = e.start + delta;
    let best = -1;
    for (let i = raw.indexOf(surface, cursor); i >= 0; i = raw.indexOf(surface, i + 1)) {
      if (best < 0 || Math.abs(i - expect) < Math.abs(best - expect)) best = i;
      if (i > expect) break;
    }
    if (best < 0) return undefined;
    out.push({ start: best, end: best + surface.length, type: e.type });
    delta = best - e.start;
    cursor = best + surface.length;
  }
  return out;
}

/** The number, raw and marked lines of a block's headers, with a warning for each irregular layout. */
function readHeaders(
  b: Block,
  sink: WarningSink,
): { num?: string; raw?: string; marked?: string; first: number } {
  let num: string | undefined;
  let raw: string | undefined;
  let marked: string | undefined;
  const first = b.headers[0].line;
  const h = b.headers.map((x) => x.text);
  if (b.layout === "klp") {
    raw = h.find((x) => x.startsWith(";"))?.replace(/^; ?/, "");
    marked = h.find((x) => x.startsWith("$"))?.slice(1);
  } else if (h.length === 3) {
    [num, raw, marked] = h;
  } else if (h.length === 2 && !/^\d+$/.test(h[0])) {
    [raw, marked] = h;
    sink.add(
      first,
      "header",
      `expected 3 "## " lines (number, raw, marked), found 2; read as raw and marked`,
    );
  } else {
    sink.add(first, "header", `expected 3 "## " lines (number, raw, marked), found ${h.length}`);
    const rest = /^\d+$/.test(h[0]) ? h.slice(1) : h;
    num = /^\d+$/.test(h[0]) ? h[0] : undefined;
    raw = rest[0];
    marked = rest[rest.length - 1];
  }
  if (num !== undefined && !/^\d+$/.test(num)) {
    sink.add(first, "header", `expected a sentence number, found "${num}"`);
    num = undefined;
  }
  return { num, raw, marked, first };
}

/** The sentence and its entities from the marked line, placed on the raw line when the two differ. */
function markedEntities(
  raw: string | undefined,
  marked: string,
  markedLine: number,
  layout: Block["layout"],
  types: ReadonlySet<string>,
  sink: WarningSink,
): { sentence: string; entities: TypedSpan[] } {
  const m = parseMarkup(marked, layout === "klp" ? undefined : types);
  for (const p of m.problems) sink.add(markedLine, "markup", p);
  if (raw === undefined || m.text === raw) return { sentence: m.text, entities: m.entities };
  const moved = relocate(raw, m.text, m.entities);
  if (moved) {
    sink.add(
      markedLine,
      "markup-differs",
      `the marked line's text differs from the raw line; entities placed on the raw line`,
    );
    return { sentence: raw, entities: moved };
  }
  sink.add(
    markedLine,
    "markup-differs",
    `the marked line's text differs from the raw line and an entity is missing from it; the marked line's text is used`,
  );
  return { sentence: m.text, entities: m.entities };
}

/** Entities from the morpheme tags, placed by walking the morpheme surfaces through the sentence. */
function tagEntities(b: Block, sentence: string, fromTags: [string, number, number][]): TypedSpan[] {
  let pos = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of b.morphemes) {
    const s = m.cols[0] === "_" ? " " : m.cols[0];
    const at = sentence.indexOf(s, pos);
    starts.push(at < 0 ? pos : at);
    pos = at < 0 ? pos : at + s.length;
    ends.push(pos);
  }
  return fromTags.map(([type, a, z]) => ({ type, start: starts[a], end: ends[z] }));
}

/** Warns when the morpheme tags and the markup count different entities of a type (lost brackets). */
function checkTagCounts(
  b: Block,
  fromTags: [string, number, number][],
  entities: TypedSpan[],
  sink: WarningSink,
): void {
  const count = (xs: string[]) => {
    const c = new Map<string, number>();
    for (const x of xs) c.set(x, (c.get(x) ?? 0) + 1);
    return c;
  };
  const a = count(fromTags.map((c) => c[0]));
  const z = count(entities.map((e) => e.type));
  const diff = [...new Set([...a.keys(), ...z.keys()])].filter((k) => (a.get(k) ?? 0) !== (z.get(k) ?? 0));
  if (diff.length > 0) {
    sink.add(
      b.morphemes[0].line,
      "tags-differ",
      `morpheme tags and markup disagree on ${
        diff.map((k) => `${k} (${a.get(k) ?? 0} vs ${z.get(k) ?? 0})`).join(", ")
      }; the markup is used`,
    );
  }
}

/** One block as an example (undefined when it has no header lines); `seen` keeps ids unique. */
function blockExample(
  b: Block,
  stem: string,
  index: number,
  seen: Set<string>,
  types: ReadonlySet<string>,
  sink: WarningSink,
): NerExample | undefined {
  if (b.headers.length === 0) {
    sink.add(
      b.morphemes[0].line,
      "no-header",
      `morpheme lines without "## n / ## raw / ## marked" lines; skipped`,
    );
    return undefined;
  }
  const headers = readHeaders(b, sink);
  const { num, marked, first } = headers;
  let raw = headers.raw;
  let id = `${stem}:${num ?? String(index + 1)}`;
  if (seen.has(id)) {
    sink.add(first, "duplicate-id", `sentence number ${num} repeats in this file; id made unique`);
    id = `${id}@${first}`;
  }
  seen.add(id);

  // The morpheme surfaces joined (with `_` as space) should spell the raw sentence.
  const tagCol = b.layout === "klp" ? -1 : 3;
  const tags: string[] = [];
  let spelled = "";
  for (const m of b.morphemes) {
    tags.push(m.cols[tagCol < 0 ? m.cols.length - 1 : tagCol].replace(/^([BI])_/, "$1-"));
    spelled += m.cols[0] === "_" ? " " : m.cols[0];
  }
  if (raw === undefined && marked === undefined) {
    sink.add(first, "header", `no raw or marked sentence; sentence rebuilt from the morphemes`);
    raw = spelled.trim();
  }
  let entities: TypedSpan[] = [];
  let sentence = raw ?? "";
  if (marked !== undefined) {
    const markedLine = b.layout === "klp" ? first + 1 : first + 2;
    ({ sentence, entities } = markedEntities(raw, marked, markedLine, b.layout, types, sink));
  } else {
    sink.add(first, "no-markup", `no marked line; entities taken from the morpheme tags`);
  }
  if (b.layout === "kmou" && spelled !== (raw ?? sentence) && b.morphemes.length > 0) {
    sink.add(b.morphemes[0].line, "morphemes-differ", `the morpheme surfaces do not spell the raw sentence`);
  }
  // Compare entity counts per type between tags and markup: cheap, and catches lost brackets.
  const fromTags = getEntities(tags);
  if (marked === undefined) entities = tagEntities(b, sentence, fromTags);
  else if (b.morphemes.length > 0) checkTagCounts(b, fromTags, entities, sink);
  return { id, text: sentence, entities: sortEntities(entities) };
}

/**
 * Reads one KMOU corpus file (either layout). Inconsistencies (marked text differing from the raw
 * line, stray markup, morpheme tags disagreeing with the markup, missing header lines) become
 * warnings with the line number, and the sentence is kept.
 */
export function parseKmou(
  text: string,
  file: string,
  types: ReadonlySet<string> = new Set(KMOU_TYPES),
): ReadResult {
  const sink = new WarningSink(file);
  const examples: NerExample[] = [];
  const stem = baseName(file).replace(/\.txt$/, "");
  const lines = splitLines(text);
  const seen = new Set<string>();
  let block: Block | undefined;

  const finish = () => {
    if (!block) return;
    const example = blockExample(block, stem, examples.length, seen, types, sink);
    if (example) examples.push(example);
    block = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const n = i + 1;
    if (line.trim() === "") {
      finish();
      continue;
    }
    const isKmouHeader = line.startsWith("## ") || line === "##";
    const isKlpHeader = (line.startsWith("; ") || line.startsWith("$")) && !line.includes("\t");
    if (isKmouHeader || isKlpHeader) {
      if (block && block.morphemes.length > 0) finish();
      if (!block) block = { headers: [], layout: isKmouHeader ? "kmou" : "klp", morphemes: [] };
      if (isKlpHeader && line.startsWith(";") && block.headers.some((x) => x.text.startsWith(";"))) {
        finish();
        block = { headers: [], layout: "klp", morphemes: [] };
      }
      block.headers.push({ line: n, text: isKmouHeader ? line.slice(3) : line });
      continue;
    }
    const cols = line.split("\t");
    if (!block) block = { headers: [], layout: "kmou", morphemes: [] };
    const want = block.layout === "klp" ? 2 : 4;
    if (cols.length < want) {
      sink.add(
        n,
        "morpheme-line",
        `expected ${want} tab-separated columns, found ${cols.length}; line ignored`,
      );
      continue;
    }
    const tag = cols[block.layout === "klp" ? cols.length - 1 : 3];
    if (!/^(O|[BI][-_][A-Za-z][A-Za-z0-9_]*)$/.test(tag)) {
      sink.add(n, "morpheme-tag", `"${tag}" is not a BIO tag; read as O`);
      cols[block.layout === "klp" ? cols.length - 1 : 3] = "O";
    }
    block.morphemes.push({ line: n, cols });
  }
  finish();
  return { examples, warnings: sink.warnings };
}

/** Reads one KMOU file, or every `*.txt` file of a folder in name order. */
export async function readKmou(path: string): Promise<ReadResult> {
  const stat = await Deno.stat(path);
  if (!stat.isDirectory) return parseKmou(await readText(path), path);
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) if (e.isFile && e.name.endsWith(".txt")) names.push(e.name);
  names.sort();
  const out: ReadResult = { examples: [], warnings: [] };
  for (const name of names) {
    const r = parseKmou(await readText(`${path}/${name}`), `${path}/${name}`);
    for (const e of r.examples) out.examples.push(e);
    for (const w of r.warnings) out.warnings.push(w);
  }
  return out;
}

/**
 * Writes examples in the KMOU layout. Without a morphological analyser each whitespace word is one
 * "morpheme" (analysis = surface, POS `NA`), split where an entity starts or ends inside it.
 */
export function writeKmou(examples: NerExample[]): string {
  const out: string[] = [];
  examples.forEach((ex, k) => {
    if (/[\n\r]/.test(ex.text)) {
      throw new Error(`writeKmou: example "${ex.id}" has a newline, which KMOU cannot hold`);
    }
    out.push(`## ${k + 1}`, `## ${ex.text}`, `## ${renderMarkup(ex.text, ex.entities)}`);
    const cuts = new Set<number>();
    for (const e of ex.entities) cuts.add(e.start).add(e.end);
    let piece = "";
    let pieceStart = 0;
    const flush = (end: number) => {
      if (piece === "") return;
      const e = ex.entities.find((x) => x.start < end && x.end > pieceStart);
      const tag = e ? (e.start === pieceStart ? "B-" : "I-") + e.type : "O";
      out.push(`${piece}\t${piece}\tNA\t${tag}`);
      piece = "";
    };
    for (let i = 0; i < ex.text.length; i++) {
      const c = ex.text[i];
      if (cuts.has(i) || /\s/.test(c)) flush(i);
      if (/\s/.test(c)) {
        const e = ex.entities.find((x) => x.start < i && x.end > i + 1);
        out.push(`_\t_\t_\t${e ? "I-" + e.type : "O"}`);
        continue;
      }
      if (piece === "") pieceStart = i;
      piece += c;
    }
    flush(ex.text.length);
    out.push("");
  });
  return out.join("\n") + (out.length ? "\n" : "");
}
