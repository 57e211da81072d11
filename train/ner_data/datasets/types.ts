/**
 * The one shape every NER dataset reader produces, plus the error, warning and markup helpers
 * the readers share.
 * @module
 */

import { type Chunk, getEntities } from "../../../infer/decode.ts";

/** One entity as a typed span: `[start, end)` in JavaScript string indices of the example's text. */
export interface TypedSpan {
  start: number;
  end: number;
  type: string;
}

/** One sentence (or document) with its gold entities, sorted by start. */
export interface NerExample {
  id: string;
  text: string;
  entities: TypedSpan[];
}

/** A recoverable inconsistency found while reading; reading went on after it. */
export interface DatasetWarning {
  file: string;
  /** 1-based line of the input the warning is about. */
  line: number;
  /** A stable short name of the kind of problem, for summaries (e.g. `markup-differs`). */
  code: string;
  message: string;
}

/** What every reader returns. */
export interface ReadResult {
  examples: NerExample[];
  warnings: DatasetWarning[];
}

/** The dataset formats `readDataset` understands. */
export type DatasetFormat = "klue" | "kmou" | "nikl" | "naver" | "conll" | "label-studio";

/** An input that cannot be read at all; the message names the file and line. */
export class DatasetError extends Error {
  /** Creates an error whose message is `Cannot parse line N of "file": what`. */
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`Cannot parse line ${line} of "${file}": ${detail}`);
    this.name = "DatasetError";
  }
}

/** Collects warnings for one file so readers need not repeat the file name. */
export class WarningSink {
  readonly warnings: DatasetWarning[] = [];
  /** Starts an empty list for `file`. */
  constructor(readonly file: string) {}
  /** Records one warning. */
  add(line: number, code: string, message: string): void {
    this.warnings.push({ file: this.file, line, code, message });
  }
}

/** Renders a warning as `"file" line N: message` for logs. */
export function formatWarning(w: DatasetWarning): string {
  return `"${w.file}" line ${w.line}: ${w.message} [${w.code}]`;
}

/** Splits text into lines, dropping a UTF-8 BOM and `\r` so Windows-edited files read the same. */
export function splitLines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].endsWith("\r")) lines[i] = lines[i].slice(0, -1);
  }
  // A trailing newline is not an extra empty line of content.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Sorts entities by start, then end, then type, in place, and returns them. */
export function sortEntities(entities: TypedSpan[]): TypedSpan[] {
  return entities.sort((a, b) =>
    a.start - b.start || a.end - b.end || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)
  );
}

/** Counts entities by type over examples (keys sorted). */
export function countTypes(examples: NerExample[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const ex of examples) for (const e of ex.entities) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Result of stripping `<surface:TYPE>` markup. */
export interface Markup {
  text: string;
  entities: TypedSpan[];
  /** Problems such as unclosed `<` that were kept as literal text. */
  problems: string[];
}

// A type is upper-case letters, digits and `_` (KLUE PS, KMOU PER, KLP PS_NAME); anything else
// inside angle brackets is literal text such as a Korean title in <...>. A surface may itself hold
// one bracketed part without a colon, as in KMOU's `<<2>:NOH>`.
const MARK = /<((?:[^<>]|<[^<>:]*>)*):([A-Z][A-Z0-9_]*)>/g;

/**
 * Parses inline `<surface:TYPE>` markup (KLUE, KMOU) into plain text and entities; brackets that
 * are not markup stay literal, and an empty surface is reported.
 */
export function parseMarkup(marked: string, types?: ReadonlySet<string>): Markup {
  const entities: TypedSpan[] = [];
  const problems: string[] = [];
  let text = "";
  let last = 0;
  for (const m of marked.matchAll(MARK)) {
    const surface = m[1];
    const type = m[2];
    if (types && !types.has(type)) {
      problems.push(`unknown type "${type}" in markup "${m[0]}"`);
    }
    text += marked.slice(last, m.index);
    if (surface.length === 0) {
      problems.push(`empty entity "${m[0]}"`);
    } else {
      entities.push({ start: text.length, end: text.length + surface.length, type });
    }
    text += surface;
    last = m.index! + m[0].length;
  }
  text += marked.slice(last);
  // Half-written markup left in the literal text (a lost bracket) is worth a warning.
  const literal = marked.replace(MARK, "\uE000");
  const stray = /<[^<>\uE000]*:[A-Z]{2,}(?![A-Z0-9_]*>)|(?<!<[^<>]*):[A-Z]{2,}[A-Z0-9_]*>/.exec(literal);
  if (stray) problems.push(`stray markup "${stray[0]}"`);
  return { text, entities, problems };
}

/** The text with its entities marked up as KLUE writes it (`<민수:PS>랑`); shared with `deno task ner`. */
export { renderMarkup } from "../../../infer/formats.ts";

/** Converts code-point offsets to JavaScript string indices (they differ after astral characters such as emoji). */
export function codePointToIndex(text: string): (cp: number) => number {
  const map: number[] = [];
  let i = 0;
  for (const ch of text) {
    map.push(i);
    i += ch.length;
  }
  map.push(i);
  return (cp) => (cp >= 0 && cp < map.length ? map[cp] : -1);
}

/**
 * Locates an entity given possibly-wrong offsets and its surface: the offsets as JS indices, then
 * as code points, then the nearest occurrence of the surface. Returns the span and how it was found.
 */
export function locateSurface(
  text: string,
  start: number,
  end: number,
  surface: string | undefined,
): { start: number; end: number; how: "exact" | "code-points" | "searched" | "unchecked" } | undefined {
  if (surface === undefined || surface === "") {
    return start >= 0 && end <= text.length && start < end ? { start, end, how: "unchecked" } : undefined;
  }
  if (text.slice(start, end) === surface) return { start, end, how: "exact" };
  const cp = codePointToIndex(text);
  const s2 = cp(start), e2 = cp(end);
  if (s2 >= 0 && e2 >= 0 && text.slice(s2, e2) === surface) {
    return { start: s2, end: s2 + surface.length, how: "code-points" };
  }
  let best = -1;
  for (let i = text.indexOf(surface); i >= 0; i = text.indexOf(surface, i + 1)) {
    if (best < 0 || Math.abs(i - start) < Math.abs(best - start)) best = i;
  }
  return best >= 0 ? { start: best, end: best + surface.length, how: "searched" } : undefined;
}

/**
 * Reads a text file for a reader, turning "not found" into an error naming the path, and invalid UTF-8 into
 * an error naming the line (read leniently it would become U+FFFD characters the model learns from).
 */
export async function readText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`Cannot read "${path}": no such file`);
    throw e;
  }
  return decodeUtf8(bytes, path);
}

/** Decodes UTF-8 strictly; an invalid sequence is a `DatasetError` naming its line. */
export function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Find the first bad line: decode line by line (rare path, so the simple way).
    let line = 1, start = 0;
    const dec = new TextDecoder("utf-8", { fatal: true });
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          dec.decode(bytes.subarray(start, i));
        } catch {
          throw new DatasetError(path, line, "not valid UTF-8");
        }
        line++;
        start = i + 1;
      }
    }
    throw new DatasetError(path, line, "not valid UTF-8");
  }
}

/** The file name part of a path, used in ids and messages. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

/**
 * Joins tagged pieces (characters or words) with `separator` into a text and turns the BIO/BIOES tags into
 * character spans of it; also returns the chunks (piece ranges) so readers can report repaired tags.
 */
export function spansFromTags(
  pieces: readonly string[],
  tags: readonly string[],
  separator: string,
): { text: string; entities: TypedSpan[]; chunks: Chunk[] } {
  const starts: number[] = [];
  let pos = 0;
  for (const p of pieces) {
    starts.push(pos);
    pos += p.length + separator.length;
  }
  const chunks = getEntities(tags as string[]);
  const entities = chunks.map(([type, a, b]) => ({
    type,
    start: starts[a],
    end: starts[b] + pieces[b].length,
  }));
  return { text: pieces.join(separator), entities, chunks };
}
