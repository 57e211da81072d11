/**
 * Settings declared once. A config is a table of settings, each with its field name, JSON key, command-line
 * flag (if any), default, check and a one-line doc; everything else is derived from that table: the
 * TypeScript type, the defaults, JSON parsing that names unknown keys (with the nearest known one), validation
 * errors that name file, key and what was expected, `node:util` parseArgs options, and usage text.
 * Tables are plain `as const` data (checks too), so their types need no inference. Browser-safe.
 *
 * ```ts
 * import { Settings, type SettingsValues } from "./settings.ts";
 * const RUN_TABLE = {
 *   steps: { key: "num_steps", flag: "steps", default: 100, check: { type: "integer", min: 1 }, doc: "updates" },
 *   mode: { key: "mode", default: "fast", check: { type: "oneOf", values: ["fast", "exact"] }, doc: "how" },
 * } as const;
 * type Run = SettingsValues<typeof RUN_TABLE>; // { steps: number; mode: "fast" | "exact" }
 * const RUN: Settings<typeof RUN_TABLE> = new Settings(RUN_TABLE);
 * const run: Run = RUN.fromJson({ num_steps: 5 }, "run.json");
 * ```
 * @module
 */

/**
 * What a setting accepts, as data: an integer or a number within bounds (`gt`/`lt` exclude the bound,
 * `min`/`max` include it), one of some strings (matched regardless of case on the command line), true or
 * false (a switch as a flag), or a list of names (comma-separated as a flag). `nullable` also accepts null;
 * `expected` replaces the derived phrase that completes "must be …".
 */
export type CheckSpec =
  & (
    | { readonly type: "integer"; readonly min?: number; readonly max?: number }
    | {
      readonly type: "number";
      readonly gt?: number;
      readonly min?: number;
      readonly lt?: number;
      readonly max?: number;
    }
    | { readonly type: "oneOf"; readonly values: readonly string[] }
    | { readonly type: "boolean" }
    | { readonly type: "names"; readonly pattern: string; readonly metavar: string }
  )
  & { readonly nullable?: boolean; readonly expected?: string };

/** One setting of a table. */
export interface SettingSpec {
  /** Key in JSON files (snake_case, as the config files spell it). */
  readonly key: string;
  /** Command-line flag without its dashes, or a switch that sets a fixed value (`--no-bucketing` → 0). */
  readonly flag?: string | { readonly name: string; readonly sets: unknown };
  /** Value when neither a file nor a flag gives one (checked when the table is loaded). */
  readonly default: unknown;
  /** What the value must be. */
  readonly check: CheckSpec;
  /** One line for usage text. */
  readonly doc: string;
}

/** A table of settings by field name. */
export type SettingsTable = { readonly [field: string]: SettingSpec };

/** The type of the values a check accepts. */
export type CheckValue<C> =
  | (C extends { type: "integer" | "number" } ? number
    : C extends { type: "boolean" } ? boolean
    : C extends { type: "oneOf"; values: readonly (infer V)[] } ? V
    : C extends { type: "names" } ? string[]
    : never)
  | (C extends { nullable: true } ? null : never);

/** The config type a table describes: one field per setting, typed by its check. */
export type SettingsValues<S extends SettingsTable> = { -readonly [K in keyof S]: CheckValue<S[K]["check"]> };

/** Options of a `Settings`. */
export interface SettingsOptions<S extends SettingsTable> {
  /** Put before keys in messages when the settings are a section of a larger file (e.g. `"train."`). */
  prefix?: string;
  /** Checks between settings, after each one passed its own; returns what is wrong (without the file). */
  relations?: (c: SettingsValues<S>) => string | undefined;
}

/**
 * Where the keys of the JSON object given to `fromJson` stand in its file (see onnx/json_lines.ts), so that a
 * message about a key the file gave reads `FILE:LINE: …`.
 */
export interface KeyLines {
  /** The file name messages start with. */
  file: string;
  /** The 1-based line of a key of the object, when the file gave it. */
  line: (key: string) => number | undefined;
}

/** A check compiled from its spec. */
interface Check {
  expected: string;
  metavar?: string;
  test(v: unknown): boolean;
  fromText(text: string): unknown;
}

/** A JSON value as messages show it. */
function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** How a default reads in usage text. */
function showDefault(v: unknown): string {
  return typeof v === "string" ? v : show(v);
}

/** "a", "b" or "c". */
function orList(items: string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

/** A number from command-line text ("" stays text, so that it is rejected). */
const numberText = (s: string): unknown => s.trim() === "" ? s : Number(s);

/** "a positive integer", "a number in (0, 1)", … */
function describeRange(
  what: "integer" | "number",
  lo?: number,
  loOpen = false,
  hi?: number,
  hiOpen = false,
): string {
  const a = what === "integer" ? "an integer" : "a number";
  if (lo !== undefined && hi !== undefined) {
    return `${a} in ${loOpen ? "(" : "["}${lo}, ${hi}${hiOpen ? ")" : "]"}`;
  }
  if ((what === "integer" && lo === 1) || (what === "number" && lo === 0 && loOpen)) {
    return `a positive ${what}`;
  }
  if (lo !== undefined) return `${a} ${loOpen ? ">" : "≥"} ${lo}`;
  if (hi !== undefined) return `${a} ${hiOpen ? "<" : "≤"} ${hi}`;
  return a;
}

/** The test, phrasing and flag parsing of a check spec. */
function compile(c: CheckSpec): Check {
  let check: Check;
  switch (c.type) {
    case "integer":
    case "number": {
      const o: { gt?: number; min?: number; lt?: number; max?: number } = c;
      const whole = c.type === "integer";
      check = {
        expected: describeRange(c.type, o.gt ?? o.min, o.gt !== undefined, o.lt ?? o.max, o.lt !== undefined),
        metavar: whole ? "N" : "X",
        test: (v) =>
          typeof v === "number" && (whole ? Number.isInteger(v) : Number.isFinite(v)) &&
          (o.gt === undefined || v > o.gt) && (o.min === undefined || v >= o.min) &&
          (o.lt === undefined || v < o.lt) && (o.max === undefined || v <= o.max),
        fromText: numberText,
      };
      break;
    }
    case "oneOf": {
      const values = c.values;
      check = {
        expected: orList(values.map((v) => show(v))),
        metavar: values.join("|"),
        test: (v) => values.includes(v as string),
        fromText: (s) =>
          values.find((v) => v === s) ?? values.find((v) => v.toLowerCase() === s.toLowerCase()) ?? s,
      };
      break;
    }
    case "boolean":
      check = {
        expected: "true or false",
        test: (v) => typeof v === "boolean",
        fromText: (s) => s === "true" ? true : s === "false" ? false : s,
      };
      break;
    case "names": {
      const pattern = new RegExp(c.pattern);
      check = {
        expected: `a list of names matching /${c.pattern}/`,
        metavar: c.metavar,
        test: (v) => Array.isArray(v) && v.every((x) => typeof x === "string" && pattern.test(x)),
        fromText: (s) => s.split(",").map((t) => t.trim()).filter(Boolean),
      };
      break;
    }
  }
  if (c.nullable) {
    const inner = check;
    check = {
      expected: `null or ${inner.expected}`,
      metavar: inner.metavar,
      test: (v) => v === null || inner.test(v),
      fromText: (s) => s === "null" ? null : inner.fromText(s),
    };
  }
  if (c.expected !== undefined) check.expected = c.expected;
  return check;
}

/** A usage entry: `head` in a column of 23 (on a line of its own when it needs more), then `text` wrapped at 110. */
function wrapped(head: string, text: string, width = 110): string[] {
  const indent = " ".repeat(25);
  const lines: string[] = [];
  let line = `  ${head.padEnd(23)}`;
  if (head.length > 21) [lines[0], line] = [`  ${head}`, indent];
  for (const word of text.split(" ")) {
    if (line.length + word.length > width && line.length > indent.length) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += word + " ";
  }
  lines.push(line.trimEnd());
  return lines;
}

/** Levenshtein distance (typos in keys). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** A name in snake_case lower case, so that `learningRate`, `learning-rate` and `learning_rate` meet. */
function normalise(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/-/g, "_").toLowerCase();
}

/** A field's flag: its name, whether it takes no value, and the value a switch sets. */
interface Flag {
  name: string;
  switch: boolean;
  sets?: unknown;
}

/** A table of settings and what is derived from it (see the module doc). */
export class Settings<S extends SettingsTable> {
  /** The defaults of every setting (frozen). */
  readonly defaults: Readonly<SettingsValues<S>>;
  /** The fields in declaration order (the order of JSON output). */
  readonly fields: readonly string[];
  readonly #checks = new Map<string, Check>();
  readonly #flags = new Map<string, Flag>();
  readonly #byKey = new Map<string, string>();
  readonly #prefix: string;

  /** Compiles the table's checks and checks its defaults (a wrong default fails when the module loads). */
  constructor(readonly table: S, readonly options: SettingsOptions<S> = {}) {
    this.fields = Object.keys(table);
    this.#prefix = options.prefix ?? "";
    for (const f of this.fields) {
      const s = table[f];
      const check = compile(s.check);
      this.#checks.set(f, check);
      this.#byKey.set(s.key, f);
      if (typeof s.flag === "object") {
        this.#flags.set(f, { name: s.flag.name, switch: true, sets: s.flag.sets });
        this.#checked(f, s.flag.sets, `settings table: --${s.flag.name}`);
      } else if (s.flag !== undefined) {
        this.#flags.set(f, { name: s.flag, switch: check.metavar === undefined });
      }
    }
    this.defaults = Object.freeze(this.#build((f) => table[f].default, "settings table defaults"));
  }

  /** The key of a field as messages name it (with the section prefix). */
  keyOf(field: keyof S & string): string {
    return this.#prefix + this.table[field].key;
  }

  /**
   * `base` (the defaults unless given) overridden by a JSON object's keys; `$comment` keys are skipped, unknown
   * keys are an error naming each (and the nearest known key), bad values an error naming key and expectation.
   * `where` (a file name, or "command-line options") starts every message; with `lines`, a message about a key
   * the JSON gave starts with its file and line instead (`FILE:LINE: learning_rate must be …`).
   */
  fromJson(
    json: unknown,
    where: string,
    base: Readonly<SettingsValues<S>> = this.defaults,
    lines?: KeyLines,
  ): SettingsValues<S> {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      const section = this.#prefix ? ` as "${this.#prefix.replace(/\.$/, "")}"` : "";
      throw new Error(`${where}: expected a JSON object${section}, got ${show(json)}`);
    }
    const given = new Map<string, unknown>();
    const unknown: string[] = [];
    for (const [k, v] of Object.entries(json)) {
      const f = this.#byKey.get(k);
      if (f) given.set(f, v);
      else if (k !== "$comment") unknown.push(k);
    }
    const at = (key: string) => {
      const line = lines?.line(key);
      return line === undefined ? where : `${lines!.file}:${line}`;
    };
    if (unknown.length) throw new Error(`${at(unknown[0])}: ${this.#unknownKeys(unknown)}`);
    const from: Record<string, unknown> = base;
    // Lists are copied, so that the result shares nothing with `base` or `json`.
    const copy = (v: unknown) => Array.isArray(v) ? [...v] : v;
    return this.#build(
      (f) => copy(given.has(f) ? given.get(f) : from[f]),
      where,
      (f) => given.has(f) ? at(this.table[f].key) : where,
    );
  }

  /** The config (or the part given) as JSON with the declared keys, in declaration order. */
  toJson(c: Partial<SettingsValues<S>>): Record<string, unknown> {
    const values: Record<string, unknown> = c;
    const out: Record<string, unknown> = {};
    for (const f of this.fields) if (values[f] !== undefined) out[this.table[f].key] = values[f];
    return out;
  }

  /** Throws, naming `where`, the key and what was expected, when a value or a relation between them is wrong. */
  validate(c: Readonly<SettingsValues<S>>, where: string): void {
    const values: Record<string, unknown> = c;
    this.#build((f) => values[f], where);
  }

  /** The options of `node:util` parseArgs for the flags of these settings. */
  parseArgsOptions(): Record<string, { type: "string" | "boolean" }> {
    const out: Record<string, { type: "string" | "boolean" }> = {};
    for (const flag of this.#flags.values()) out[flag.name] = { type: flag.switch ? "boolean" : "string" };
    return out;
  }

  /**
   * The settings parseArgs `values` give (flags absent: not in the result), each checked on its own with the
   * flag named in the error (`--steps must be a positive integer, got "x"`).
   */
  fromFlags(values: Record<string, unknown>): Partial<SettingsValues<S>> {
    const out: Record<string, unknown> = {};
    for (const [f, flag] of this.#flags) {
      const raw = values[flag.name];
      if (raw === undefined || raw === false) continue;
      const check = this.#checks.get(f)!;
      const v = flag.sets !== undefined ? flag.sets : flag.switch ? true : check.fromText(String(raw));
      if (!check.test(v)) throw new Error(`--${flag.name} must be ${check.expected}, got ${show(raw)}`);
      out[f] = v;
    }
    return out as Partial<SettingsValues<S>>;
  }

  /**
   * Usage lines, wrapped at 110 columns: one per flag (metavar, doc, then `[json_key: default]`) and, under the
   * heading `jsonOnly` (such as "Only in --train-config:"), one per setting without a flag.
   */
  usage(jsonOnly?: string): string {
    const lines: string[] = [];
    const rest: string[] = [];
    for (const f of this.fields) {
      const s = this.table[f];
      const flag = this.#flags.get(f);
      const json = `${this.keyOf(f)}: ${showDefault(s.default)}`;
      if (!flag) rest.push(...wrapped(`  ${json}`, s.doc));
      else if (flag.sets !== undefined) {
        lines.push(
          ...wrapped(`--${flag.name}`, `${this.keyOf(f)} ${showDefault(flag.sets)} (${s.doc}) [${json}]`),
        );
      } else {
        const metavar = flag.switch ? "" : ` ${this.#checks.get(f)!.metavar}`;
        lines.push(...wrapped(`--${flag.name}${metavar}`, `${s.doc} [${json}]`));
      }
    }
    if (jsonOnly !== undefined && rest.length) lines.push(`  ${jsonOnly}`, ...rest);
    return lines.join("\n");
  }

  /** A config from each field's value, every value checked (errors start with `whereOf(field)`), then the relations. */
  #build(
    value: (f: string) => unknown,
    where: string,
    whereOf: (f: string) => string = () => where,
  ): SettingsValues<S> {
    const out: Record<string, unknown> = {};
    for (const f of this.fields) out[f] = this.#checked(f, value(f), whereOf(f));
    // Every field was checked against its declared check just above: the object has the table's type.
    const c = out as SettingsValues<S>;
    const wrong = this.options.relations?.(c);
    if (wrong) throw new Error(`${where}: ${wrong}`);
    return c;
  }

  /** `v` when field `f` accepts it, else an error naming `where` and the key. */
  #checked(f: string, v: unknown, where: string): unknown {
    const check = this.#checks.get(f)!;
    if (!check.test(v)) {
      throw new Error(`${where}: ${this.keyOf(f)} must be ${check.expected}, got ${show(v)}`);
    }
    return v;
  }

  /** "unknown key "x" (did you mean "y"?)", for each unknown key; the known keys when one is near none. */
  #unknownKeys(unknown: string[]): string {
    let far = false;
    const named = unknown.map((k) => {
      const near = this.#nearest(k);
      if (!near) far = true;
      return `"${this.#prefix}${k}"${near ? ` (did you mean "${this.#prefix}${near}"?)` : ""}`;
    });
    const known = far ? ` (known: ${[...this.#byKey.keys()].map((k) => this.#prefix + k).join(", ")})` : "";
    return `unknown key${unknown.length > 1 ? "s" : ""} ${named.join(", ")}${known}`;
  }

  /** The known key a mistyped one most likely meant: a field's or flag's name, or a small edit away. */
  #nearest(k: string): string | undefined {
    const n = normalise(k);
    for (const f of this.fields) {
      const flag = this.#flags.get(f);
      if (normalise(f) === n || (flag && normalise(flag.name) === n)) return this.table[f].key;
    }
    let best: string | undefined, bestD = Math.max(1, Math.floor(n.length / 3)) + 1;
    for (const key of this.#byKey.keys()) {
      const d = distance(n, key);
      if (d < bestD) [best, bestD] = [key, d];
    }
    return best;
  }
}
