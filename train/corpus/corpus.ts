/**
 * Corpus readers: stream the text out of plain, `text|label`, `label<TAB>text` and CSV files, one
 * line at a time with bounded memory, and report bad lines (invalid UTF-8, binary data, wrong layout)
 * with file and line instead of failing the whole run. Also the line cleaner shared by the vocab
 * trainer and the pretraining data builder.
 * @module
 */

import { basename, extname, join } from "node:path";

/** How the text is laid out in a corpus file. */
export type CorpusFormat =
  | "text" // the whole line
  | "pipe-label" // text|label  (curse_detection.txt)
  | "label-tsv" // label<TAB>text  (3i4k_utterances.tsv)
  | "label-label-tsv" // label<TAB>label<TAB>text  (parakqc.txt)
  | `csv:${string}`; // CSV with a header; the named columns, comma separated (csv:Q,A)

/** A problem with one line of one file; the line is skipped and reading goes on. */
export interface CorpusIssue {
  file: string;
  line: number;
  /** A full sentence naming the file and line, e.g. `Cannot read line 3 of "x.txt": invalid UTF-8`. */
  message: string;
}

/** One piece of text with where it came from (`line` is 1-based; for CSV, the record's first line). */
export interface CorpusText {
  text: string;
  file: string;
  line: number;
}

/** Options of the readers. */
export interface ReadOptions {
  /** Layout of the file; picked from the file name when absent (see `detectCorpusFormat`). */
  format?: CorpusFormat;
  /** Receives each skipped line; the default prints the first 20 per file to stderr. */
  onIssue?: (issue: CorpusIssue) => void;
  /** Longer lines are skipped as probably binary (bytes, default 1 MiB), keeping memory bounded. */
  maxLineBytes?: number;
  /** Called after each chunk read with the file's bytes read so far (for progress). */
  onBytes?: (bytes: number) => void;
}

const KNOWN: Record<string, CorpusFormat> = {
  "nsmc_reviews.txt": "text",
  "news_comments.txt": "text",
  "curse_detection.txt": "pipe-label",
  "parakqc.txt": "label-label-tsv",
  "3i4k_utterances.tsv": "label-tsv",
  "question_pair.csv": "csv:question1,question2",
  "chatbot_data.csv": "csv:Q,A",
};

/** The format of a corpus file from its name: the known corpora, else `.tsv` → label-tsv, `.csv` needs a flag. */
export function detectCorpusFormat(path: string): CorpusFormat {
  const name = basename(path);
  if (name in KNOWN) return KNOWN[name];
  const ext = extname(name).toLowerCase();
  if (ext === ".tsv") return "label-tsv";
  if (ext === ".csv") {
    throw new Error(`Cannot tell which columns of "${path}" hold text: pass --format csv:COLUMN[,COLUMN...]`);
  }
  return "text";
}

/** Checks a `--format` value, returning it typed. */
export function parseFormat(value: string): CorpusFormat {
  if (["text", "pipe-label", "label-tsv", "label-label-tsv"].includes(value)) return value as CorpusFormat;
  if (/^csv:[^,]+(,[^,]+)*$/.test(value)) return value as CorpusFormat;
  throw new Error(
    `Unknown corpus format "${value}": expected text, pipe-label, label-tsv, label-label-tsv or csv:COL[,COL...]`,
  );
}

const CORPUS_EXTENSIONS = new Set([".txt", ".tsv", ".csv"]);

/** Expands files and folders (recursively, `.txt`/`.tsv`/`.csv` only) into a sorted, de-duplicated file list. */
export async function listCorpusFiles(paths: string[]): Promise<string[]> {
  const out = new Set<string>();
  const walk = async (dir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && CORPUS_EXTENSIONS.has(extname(e.name).toLowerCase())) out.add(p);
    }
  };
  for (const p of paths) {
    const info = await Deno.stat(p).catch(() => {
      throw new Error(`Corpus path "${p}" does not exist`);
    });
    if (info.isDirectory) await walk(p);
    else out.add(p);
  }
  return [...out];
}

/** A reporter that prints the first `limit` issues of each file to stderr and counts the rest. */
export function issuePrinter(limit = 20): { onIssue: (i: CorpusIssue) => void; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    counts,
    onIssue(i) {
      const n = (counts.get(i.file) ?? 0) + 1;
      counts.set(i.file, n);
      if (n <= limit) console.error(`warning: ${i.message} (line skipped)`);
      else if (n === limit + 1) console.error(`warning: more issues in "${i.file}" are not shown`);
    },
  };
}

/**
 * Streams the decoded lines of a file (without line terminators), skipping and reporting lines that are
 * not UTF-8 or hold NUL bytes.
 */
export async function* readLines(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<{ text: string; line: number }> {
  const onIssue = options.onIssue ?? issuePrinter().onIssue;
  const maxLineBytes = options.maxLineBytes ?? 1 << 20;
  const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  using file = await Deno.open(path, { read: true });
  const chunk = new Uint8Array(1 << 20);
  let pending: Uint8Array = new Uint8Array(0); // bytes of an unfinished line
  let skipping = false; // inside an over-long line: drop bytes until its end
  let lineNo = 0;
  let bytes = 0;
  const lines: { text: string; line: number }[] = [];

  const tooLong = (no: number) =>
    onIssue({
      file: path,
      line: no,
      message: `Cannot read line ${no} of "${path}": longer than ${maxLineBytes} bytes (binary data?)`,
    });
  const decodeLine = (b: Uint8Array, no: number) => {
    const end = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
    const body = b.subarray(0, end);
    if (body.indexOf(0) >= 0) {
      onIssue({
        file: path,
        line: no,
        message: `Cannot read line ${no} of "${path}": binary data (NUL byte)`,
      });
      return;
    }
    try {
      lines.push({ text: fatal.decode(body), line: no });
    } catch {
      onIssue({ file: path, line: no, message: `Cannot read line ${no} of "${path}": invalid UTF-8` });
    }
  };
  // Decodes the complete lines in `b`, the whole block at once when it is all valid (the common case).
  const decodeBlock = (b: Uint8Array) => {
    const ends: number[] = [];
    let longest = 0;
    for (let nl = b.indexOf(0x0a), start = 0; nl >= 0; start = nl + 1, nl = b.indexOf(0x0a, start)) {
      ends.push(nl);
      if (nl - start > longest) longest = nl - start;
    }
    if (longest <= maxLineBytes && b.indexOf(0) < 0) {
      let text: string | null = null;
      try {
        text = fatal.decode(b);
      } catch { /* some line is bad: fall back to line by line below */ }
      if (text !== null) {
        const parts = text.split("\n");
        parts.pop(); // b ends with "\n"
        for (const p of parts) lines.push({ text: p.endsWith("\r") ? p.slice(0, -1) : p, line: ++lineNo });
        return;
      }
    }
    let start = 0;
    for (const nl of ends) {
      if (nl - start > maxLineBytes) {
        tooLong(++lineNo);
      } else decodeLine(b.subarray(start, nl), ++lineNo);
      start = nl + 1;
    }
  };

  while (true) {
    const n = await file.read(chunk);
    if (n === null) break;
    bytes += n;
    options.onBytes?.(bytes);
    let data = chunk.subarray(0, n);
    if (skipping) {
      const nl = data.indexOf(0x0a);
      if (nl < 0) continue;
      skipping = false;
      data = data.subarray(nl + 1);
    }
    const lastNl = data.lastIndexOf(0x0a);
    if (lastNl < 0) {
      pending = concat(pending, data);
    } else {
      decodeBlock(concat(pending, data.subarray(0, lastNl + 1)));
      pending = data.slice(lastNl + 1);
    }
    if (pending.length > maxLineBytes) {
      tooLong(++lineNo);
      pending = new Uint8Array(0);
      skipping = true;
    }
    yield* lines;
    lines.length = 0;
  }
  if (pending.length > 0 && !skipping) decodeLine(pending, ++lineNo);
  yield* lines;
}

/** Streams the text pieces of one corpus file in the given (or detected) format. */
export async function* readCorpusFile(path: string, options: ReadOptions = {}): AsyncGenerator<CorpusText> {
  const format = options.format ?? detectCorpusFormat(path);
  const onIssue = options.onIssue ?? issuePrinter().onIssue;
  const opts = { ...options, onIssue };
  const bad = (line: number, expected: string) =>
    onIssue({ file: path, line, message: `Cannot parse line ${line} of "${path}": expected ${expected}` });
  if (format.startsWith("csv:")) {
    yield* readCsv(path, format.slice(4).split(","), opts);
    return;
  }
  for await (const { text, line } of readLines(path, opts)) {
    if (format === "text") {
      yield { text, file: path, line };
    } else if (format === "pipe-label") {
      const bar = text.lastIndexOf("|");
      if (bar < 0 || !/^\s*\d+\s*$/.test(text.slice(bar + 1))) {
        if (text.trim() !== "") bad(line, "text|label");
        continue;
      }
      yield { text: text.slice(0, bar), file: path, line };
    } else {
      const fields = text.split("\t");
      const want = format === "label-tsv" ? 2 : 3;
      if (fields.length < want) {
        if (text.trim() !== "") {
          bad(line, format === "label-tsv" ? "label<TAB>text" : "label<TAB>label<TAB>text");
        }
        continue;
      }
      // Extra tabs belong to the text: only the leading label columns are fixed.
      yield { text: fields.slice(want - 1).join("\t"), file: path, line };
    }
  }
}

/** Streams the named columns of a CSV file with a header row (RFC 4180 quoting, multi-line fields). */
async function* readCsv(path: string, columns: string[], options: ReadOptions): AsyncGenerator<CorpusText> {
  const onIssue = options.onIssue!;
  let header: string[] | null = null;
  let indices: number[] = [];
  let record = "";
  let recordLine = 0;
  let quotes = 0;
  for await (const { text, line } of readLines(path, options)) {
    if (record === "" && quotes === 0) recordLine = line;
    record = quotes % 2 === 1 ? record + "\n" + text : text;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0x22) quotes++;
    if (quotes % 2 === 1) {
      if (line - recordLine > 1000) {
        onIssue({
          file: path,
          line: recordLine,
          message: `Cannot parse line ${recordLine} of "${path}": unterminated quoted field`,
        });
        record = "";
        quotes = 0;
      }
      continue; // a quoted field goes on on the next line
    }
    quotes = 0;
    const fields = parseCsvRecord(record);
    record = "";
    if (header === null) {
      header = fields.map((f) => f.replace(/^\ufeff/, "").trim());
      indices = columns.map((c) => header!.indexOf(c));
      if (indices.some((i) => i < 0)) {
        throw new Error(
          `Cannot parse line ${recordLine} of "${path}": expected a header with columns ${
            columns.join(",")
          }, ` +
            `found ${header.join(",")}`,
        );
      }
      continue;
    }
    if (fields.length === 1 && fields[0] === "") continue;
    if (fields.length !== header.length) {
      onIssue({
        file: path,
        line: recordLine,
        message:
          `Cannot parse line ${recordLine} of "${path}": expected ${header.length} CSV fields, found ${fields.length}`,
      });
      continue;
    }
    for (const i of indices) yield { text: fields[i], file: path, line: recordLine };
  }
  if (quotes % 2 === 1) {
    onIssue({
      file: path,
      line: recordLine,
      message: `Cannot parse line ${recordLine} of "${path}": unterminated quoted field at end of file`,
    });
  }
}

/** Splits one complete CSV record into fields (`""` inside quotes is a quote). */
export function parseCsvRecord(record: string): string[] {
  const fields: string[] = [];
  let field = "";
  let inQuotes = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i];
    if (inQuotes) {
      if (c === '"') {
        if (record[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += c;
    } else if (c === '"') inQuotes = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** Streams the text of many files (folders expanded, sorted) one after another. */
export async function* readCorpora(
  paths: string[],
  options: ReadOptions & { onFile?: (path: string, index: number, count: number) => void } = {},
): AsyncGenerator<CorpusText> {
  const files = await listCorpusFiles(paths);
  for (let i = 0; i < files.length; i++) {
    options.onFile?.(files[i], i, files.length);
    yield* readCorpusFile(files[i], options);
  }
}

/** Counts kept by `LineCleaner`. */
export interface CleanStats {
  lines: number;
  kept: number;
  empty: number;
  duplicate: number;
  tooLong: number;
}

/**
 * Cleans corpus lines: NFC, trimmed, inner line breaks made spaces; drops empty lines, exact duplicates
 * (by a 53-bit hash, so memory stays ~16 bytes per distinct line) and lines over `maxChars`.
 */
export class LineCleaner {
  readonly maxChars: number;
  readonly dedupe: boolean;
  readonly stats: CleanStats = { lines: 0, kept: 0, empty: 0, duplicate: 0, tooLong: 0 };
  #seen = new Set<number>();

  constructor(options: { maxChars?: number; dedupe?: boolean } = {}) {
    this.maxChars = options.maxChars ?? 2000;
    this.dedupe = options.dedupe ?? true;
  }

  /** The cleaned line, `""` for an empty one (a document boundary), or `null` when dropped. */
  clean(raw: string): string | null {
    this.stats.lines++;
    const text = raw.normalize("NFC").replace(/[\r\n]+/g, " ").trim();
    if (text === "") {
      this.stats.empty++;
      return "";
    }
    if (text.length > this.maxChars) {
      this.stats.tooLong++;
      return null;
    }
    if (this.dedupe) {
      const h = hash53(text);
      if (this.#seen.has(h)) {
        this.stats.duplicate++;
        return null;
      }
      this.#seen.add(h);
    }
    this.stats.kept++;
    return text;
  }
}

/** cyrb53: a fast 53-bit string hash (collisions among 10M lines: well under 1%). */
export function hash53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed, h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
