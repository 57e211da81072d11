/**
 * Where things stand in a JSON text, for messages that name the line: the 1-based line of each object key by
 * its path, and the line and column of the first syntax error (JSON.parse names neither in every engine).
 * One pass over the text; imports nothing; browser-safe.
 *
 * Paths join keys with dots and array indices with brackets: in `{"train": {"lr": 1}, "dev": [{"p": 2}]}`
 * the keys are at `train`, `train.lr`, `dev` and `dev[0].p`, and the element at `dev[0]`.
 *
 * ```ts
 * import { parseJsonText } from "./json_lines.ts";
 * const doc = parseJsonText('{\n  "train": {\n    "lr": 2\n  }\n}', "run.json");
 * doc.lines.get("train.lr"); // 3
 * ```
 * @module
 */
import type { KeyLines } from "./settings.ts";

/** The first syntax error of a JSON text. */
export interface JsonSyntaxError {
  /** Offset in UTF-16 code units. */
  offset: number;
  /** 1-based line and column (in UTF-16 code units) of `offset`. */
  line: number;
  column: number;
  /** What was expected there, and what was found. */
  message: string;
}

/** What one scan of a JSON text finds. */
export interface JsonScan {
  /** Line of each object key, and of each array element's start, by path (the last of repeated keys). */
  lines: Map<string, number>;
  /** The first syntax error; absent when the text is valid JSON. */
  error?: JsonSyntaxError;
}

/** A JSON text parsed, with where its keys are. */
export interface JsonText {
  /** The file name messages start with. */
  file: string;
  json: unknown;
  /** Line of each key by path (see `scanJson`). */
  lines: ReadonlyMap<string, number>;
}

/** The path of key `key` inside the value at `path`. */
function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** Reads the text's keys and lines and stops at its first syntax error (see `JsonScan`). */
class Scanner {
  readonly lines = new Map<string, number>();
  i = 0;
  line = 1;
  #lineStart = 0;

  constructor(readonly text: string) {}

  /** The error at `at` (the current offset unless given). */
  fail(expected: string, at = this.i): JsonSyntaxError {
    const before = this.text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    const c = this.text[at];
    const found = c === undefined ? "the end of the text" : c < " " ? JSON.stringify(c) : `'${c}'`;
    return { offset: at, line, column, message: `expected ${expected}, found ${found}` };
  }

  /** Skips whitespace, counting lines. */
  space(): void {
    const t = this.text;
    while (this.i < t.length && WHITESPACE.has(t[this.i])) {
      if (t[this.i] === "\n") [this.line, this.#lineStart] = [this.line + 1, this.i + 1];
      this.i++;
    }
  }

  /** Reads a string at the current `"`; its decoded value, or the error. */
  string(): string | JsonSyntaxError {
    const t = this.text, start = this.i;
    this.i++;
    for (;;) {
      const c = t[this.i];
      if (c === undefined) {
        return this.fail(`the closing '"' of the string opened at column ${this.#col(start)}`);
      }
      if (c === '"') break;
      if (c === "\n" || c === "\r") {
        return this.fail(`'"' before the end of the line (a string cannot span lines)`);
      }
      if (c < " ") return this.fail("an escape such as \\t instead of a control character in a string");
      if (c === "\\") {
        const e = t[this.i + 1];
        if (e === "u") {
          HEX4.lastIndex = this.i + 2;
          if (!HEX4.test(t)) return this.fail("4 hex digits after \\u", this.i + 2);
          this.i += 6;
          continue;
        }
        if (e === undefined || !ESCAPES.has(e)) {
          return this.fail(`an escape (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)`, this.i + 1);
        }
        this.i += 2;
        continue;
      }
      this.i++;
    }
    this.i++;
    return JSON.parse(t.slice(start, this.i));
  }

  /** The 1-based column of an offset on the current line. */
  #col(at: number): number {
    return at - this.#lineStart + 1;
  }

  /** Reads a number, `true`, `false` or `null`; the error when there is none. */
  scalar(): JsonSyntaxError | undefined {
    const t = this.text;
    for (const word of ["true", "false", "null"]) {
      if (t.startsWith(word, this.i)) return void (this.i += word.length);
    }
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(t);
    if (!m) return this.fail("a value (object, array, string, number, true, false or null)");
    this.i += m[0].length;
  }

  /** Reads the value at `path` and everything in it; the first error, if any. */
  value(path: string): JsonSyntaxError | undefined {
    // An explicit stack, so that deep nesting cannot overflow the call stack.
    const stack: { path: string; array: boolean; count: number }[] = [];
    const t = this.text;
    for (;;) {
      this.space();
      const c = t[this.i];
      let opened = false;
      if (c === "{" || c === "[") {
        this.i++;
        stack.push({ path, array: c === "[", count: 0 });
        this.space();
        if (t[this.i] === (c === "[" ? "]" : "}")) {
          this.i++;
          stack.pop();
        } else opened = true;
      } else if (c === '"') {
        const s = this.string();
        if (typeof s !== "string") return s;
      } else {
        const e = this.scalar();
        if (e) return e;
      }
      // After a value (or an opening): the next member's path, or the end of containers.
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top) return undefined;
        if (!opened) {
          this.space();
          const close = top.array ? "]" : "}";
          if (t[this.i] === close) {
            this.i++;
            stack.pop();
            continue;
          }
          if (t[this.i] !== ",") return this.fail(`',' or '${close}'`);
          this.i++;
          top.count++;
          this.space();
        }
        if (top.array) {
          path = `${top.path}[${top.count}]`;
          this.lines.set(path, this.line);
        } else {
          if (t[this.i] !== '"') return this.fail(opened ? `a '"'-quoted key or '}'` : `a '"'-quoted key`);
          const line = this.line;
          const key = this.string();
          if (typeof key !== "string") return key;
          path = child(top.path, key);
          this.lines.set(path, line);
          this.space();
          if (t[this.i] !== ":") return this.fail("':' after the key");
          this.i++;
        }
        break;
      }
    }
  }
}

/** The line of every key (and array element) by path, and the first syntax error; see the module doc. */
export function scanJson(text: string): JsonScan {
  const s = new Scanner(text);
  let error = s.value("");
  if (!error) {
    s.space();
    if (s.i < text.length) error = s.fail("nothing after the JSON value");
  }
  return error ? { lines: s.lines, error } : { lines: s.lines };
}

/** The 1-based line of each object key by path (`train.learning_rate`, `dev[0].path`); see `scanJson`. */
export function jsonKeyLines(text: string): Map<string, number> {
  return scanJson(text).lines;
}

/**
 * Parses a JSON text read from `file`; a syntax error reads `FILE:LINE:COL: not valid JSON: …` (with
 * ` (WHAT)` after "JSON" when `what` says what the file is, such as `--train-config`).
 */
export function parseJsonText(text: string, file: string, what?: string): JsonText {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const scan = scanJson(text);
    const named = `not valid JSON${what ? ` (${what})` : ""}`;
    // The scanner finds every error JSON.parse does; the engine's message is the fallback should they differ.
    if (!scan.error) throw new Error(`${file}: ${named}: ${(e as Error).message}`);
    const { line, column, message } = scan.error;
    throw new Error(`${file}:${line}:${column}: ${named}: ${message}`);
  }
  return { file, json, lines: jsonKeyLines(text) };
}

/** The lines of the keys of the object at `path` (the whole text's object when ""), for `Settings.fromJson`. */
export function keyLinesAt(doc: Pick<JsonText, "file" | "lines">, path = ""): KeyLines {
  return { file: doc.file, line: (key) => doc.lines.get(child(path, key)) };
}
