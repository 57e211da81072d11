/**
 * A JSON parser that remembers the line each object and array starts on, so JSON dataset readers
 * can name the line of a bad record (JSON.parse cannot).
 * @module
 */

import { DatasetError } from "./types.ts";

/** A parsed JSON document plus the line lookup for its objects and arrays. */
export interface LocatedJson {
  value: unknown;
  /** 1-based line where the object or array starts (1 for anything not tracked). */
  lineOf(node: unknown): number;
}

/** Parses JSON text strictly (RFC 8259), recording start lines; errors name the file and line. */
export function parseLocatedJson(text: string, file: string): LocatedJson {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = new WeakMap<object, number>();
  let i = 0;
  let line = 1;
  const fail = (what: string): never => {
    throw new DatasetError(file, line, `${what} (invalid JSON)`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 10) line++;
      else if (c !== 32 && c !== 9 && c !== 13) return;
      i++;
    }
  };
  const str = (): string => {
    // Fast path: a run without escapes is one slice.
    let out = "";
    let from = ++i;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c) || c === 10) fail("unterminated string");
      if (c === 34) {
        out += text.slice(from, i++);
        return out;
      }
      if (c === 92) {
        out += text.slice(from, i);
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail(`bad escape "\\${e}"`);
        from = i;
        continue;
      }
      if (c < 32) fail("control character in string");
      i++;
    }
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      const obj: Record<string, unknown> = {};
      lines.set(obj, line);
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') {
          fail(`expected a property name, found ${JSON.stringify(text[i] ?? "end of file")}`);
        }
        const k = str();
        ws();
        if (text[i] !== ":") fail(`expected ":" after property "${k}"`);
        i++;
        Object.defineProperty(obj, k, {
          value: value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail(`expected "," or "}", found ${JSON.stringify(text[i] ?? "end of file")}`);
      }
    }
    if (c === "[") {
      const arr: unknown[] = [];
      lines.set(arr, line);
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail(`expected "," or "]", found ${JSON.stringify(text[i] ?? "end of file")}`);
      }
    }
    if (c === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) fail(`unexpected ${JSON.stringify(c ?? "end of file")}`);
    i += m![0].length;
    return m![0] === "true" ? true : m![0] === "false" ? false : m![0] === "null" ? null : Number(m![0]);
  };
  const v = value();
  ws();
  if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the JSON value`);
  return {
    value: v,
    lineOf: (node) => (node !== null && typeof node === "object" ? lines.get(node) ?? 1 : 1),
  };
}
