/**
 * Label Studio for span labelling: its exports — full JSON (`[{id, data: {text}, annotations: [{result:
 * [{value: {start, end, text, labels}}]}]}]`), JSON-MIN (`[{id, text, label: [{start, end, text, labels}]}]`)
 * and CSV/TSV (JSON-MIN's columns) — and the pre-annotation import (full JSON with `predictions`, written by
 * `infer/formats.ts`, which `deno task ner --format label-studio` uses too).
 * @module
 */

import { type LabelStudioNames, labelStudioTask } from "../../../infer/formats.ts";
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

/** Options for {@link parseLabelStudio}. */
export interface LabelStudioOptions {
  /** The `data` key holding the text; default `text`. */
  textKey?: string;
}

/**
 * Reads a Label Studio export: the full JSON export (tasks with `data` and `annotations`), JSON-MIN (one
 * flat object per task: the text under `text`, each `<Labels>` control's spans under its name, e.g.
 * `"label": [{start, end, text, labels}]`) or, when `text` is not JSON, its CSV/TSV export (the same
 * columns, spans as JSON in their cells). In the full export each task uses its first annotation that was
 * not cancelled, or its first prediction when it has no annotation; other annotations are reported, not merged.
 */
export function parseLabelStudio(text: string, file: string, options: LabelStudioOptions = {}): ReadResult {
  const head = text.replace(/^\uFEFF/, "").trimStart();
  if (!head.startsWith("[") && !head.startsWith("{")) return parseLabelStudioTable(text, file, options);
  const key = options.textKey ?? "text";
  const { value: root, lineOf } = parseLocatedJson(text, file);
  const sink = new WarningSink(file);
  const tasks = Array.isArray(root) ? root : [root];
  const examples: NerExample[] = [];
  tasks.forEach((task: unknown, k: number) => {
    if (isObject(task) && !isObject(task.data) && typeof task[key] === "string") {
      examples.push(minTask(task, k, key, file, lineOf, sink));
      return;
    }
    if (!isObject(task) || !isObject(task.data) || typeof task.data[key] !== "string") {
      throw new DatasetError(
        file,
        lineOf(task),
        `expected task ${k} to have a string "data.${key}" (full JSON export) or "${key}" (JSON-MIN)`,
      );
    }
    const body = task.data[key] as string;
    const id = task.id !== undefined
      ? String(task.id)
      : task.data.id !== undefined
      ? String(task.data.id)
      : `${k + 1}`;
    const anns = (Array.isArray(task.annotations) ? task.annotations : []).filter(
      (a) => !(isObject(a) && a.was_cancelled === true),
    );
    const preds = Array.isArray(task.predictions) ? task.predictions : [];
    const chosen = anns[0] ?? preds[0];
    if (anns.length > 1) {
      sink.add(
        lineOf(anns[1]),
        "extra-annotations",
        `task ${id} has ${anns.length} annotations; the first is used`,
      );
    }
    const results = isObject(chosen) && Array.isArray(chosen.result) ? chosen.result : [];
    if (chosen !== undefined && !(isObject(chosen) && Array.isArray(chosen.result))) {
      throw new DatasetError(
        file,
        lineOf(chosen),
        `expected the annotation of task ${id} to have a "result" array`,
      );
    }
    const spans: { value: unknown; line: number }[] = [];
    for (const r of results) {
      const line = lineOf(r);
      // Relations, choices and other non-span results carry no span: reported, not read.
      if (isObject(r) && r.type !== undefined && r.type !== "labels" && r.type !== "hypertextlabels") {
        sink.add(line, "result-type", `result of type "${String(r.type)}" is not a span label; skipped`);
        continue;
      }
      if (!isObject(r) || !isObject(r.value)) {
        throw new DatasetError(file, line, `expected a result with a "value" object`);
      }
      spans.push({ value: r.value, line });
    }
    examples.push({ id, text: body, entities: readSpans(body, id, spans, file, sink) });
  });
  return { examples, warnings: sink.warnings };
}

/** A span value: `{start, end, text?, labels}` (or `hypertextlabels`). */
function isSpan(x: unknown): boolean {
  return isObject(x) && typeof x.start === "number" && typeof x.end === "number" &&
    (Array.isArray(x.labels) || Array.isArray(x.hypertextlabels));
}

/** Task metadata of JSON-MIN and the CSV/TSV exports, never read as spans. */
const META_KEYS = new Set(["id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"]);

/** One JSON-MIN task: every non-metadata key whose value is a span list (or one span) holds entities. */
function minTask(
  task: Record<string, unknown>,
  k: number,
  key: string,
  file: string,
  lineOf: (x: unknown) => number,
  sink: WarningSink,
): NerExample {
  const body = task[key] as string;
  const id = task.id !== undefined ? String(task.id) : `${k + 1}`;
  const spans: { value: unknown; line: number }[] = [];
  for (const [name, v] of Object.entries(task)) {
    if (name === key || META_KEYS.has(name)) continue;
    const list = Array.isArray(v) ? v : [v];
    if (list.length && list.every(isSpan)) {
      for (const x of list) spans.push({ value: x, line: lineOf(x) });
    }
  }
  return { id, text: body, entities: readSpans(body, id, spans, file, sink) };
}

/** Span values → entities, offsets checked against the text (JS indices, else code points, else searched). */
function readSpans(
  body: string,
  id: string,
  spans: { value: unknown; line: number }[],
  file: string,
  sink: WarningSink,
): TypedSpan[] {
  const entities: TypedSpan[] = [];
  for (const { value: v, line } of spans) {
    if (!isObject(v)) throw new DatasetError(file, line, `expected a span object`);
    const labels = v.labels ?? v.hypertextlabels;
    if (
      typeof v.start !== "number" || typeof v.end !== "number" || !Array.isArray(labels) ||
      labels.length === 0
    ) {
      throw new DatasetError(
        file,
        line,
        `expected value.start, value.end (numbers) and value.labels (a non-empty array)`,
      );
    }
    if (labels.length > 1) {
      sink.add(line, "multi-label", `span has ${labels.length} labels; the first, "${labels[0]}", is used`);
    }
    const at = locateSurface(body, v.start, v.end, typeof v.text === "string" ? v.text : undefined);
    if (!at) {
      sink.add(
        line,
        "entity-not-found",
        `span "${v.text ?? ""}" [${v.start}, ${v.end}) is not in the text of task ${id}; left out`,
      );
      continue;
    }
    if (at.how === "code-points") {
      sink.add(line, "code-point-offsets", `span "${v.text}" offsets read as code points`);
    }
    if (at.how === "searched") {
      sink.add(
        line,
        "offsets-repaired",
        `span "${v.text}" is not at [${v.start}, ${v.end}); found at [${at.start}, ${at.end})`,
      );
    }
    entities.push({ start: at.start, end: at.end, type: String(labels[0]) });
  }
  return sortEntities(entities);
}

/** Rows of a CSV or TSV text (RFC 4180 quoting: `"…"` with `""` inside), each with its first line number. */
export function parseDelimited(text: string, sep: "," | "\t"): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [], cell = "", quoted = false, line = 1, rowLine = 1, i = 0;
  const s = text.replace(/^\uFEFF/, "");
  const endRow = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0] !== "") rows.push({ cells, line: rowLine });
    cells = [];
    cell = "";
  };
  while (i < s.length) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') (cell += '"', i += 2);
      else if (c === '"') (quoted = false, i++);
      else {
        if (c === "\n") line++;
        cell += c;
        i++;
      }
    } else if (c === '"' && cell === "") (quoted = true, i++);
    else if (c === sep) (cells.push(cell), cell = "", i++);
    else if (c === "\n" || c === "\r") {
      endRow();
      i += c === "\r" && s[i + 1] === "\n" ? 2 : 1;
      rowLine = ++line;
    } else (cell += c, i++);
  }
  if (cell !== "" || cells.length) endRow();
  return rows;
}

/** Label Studio's CSV/TSV export: a header row, the text column, span lists as JSON in their cells. */
function parseLabelStudioTable(text: string, file: string, options: LabelStudioOptions): ReadResult {
  const key = options.textKey ?? "text";
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const sep = firstLine.includes("\t") ? "\t" : ",";
  const [header, ...rows] = parseDelimited(text, sep);
  const col = header?.cells.indexOf(key) ?? -1;
  if (col < 0) {
    throw new DatasetError(
      file,
      1,
      `expected Label Studio JSON, or a CSV/TSV export whose header has a "${key}" column`,
    );
  }
  const sink = new WarningSink(file);
  const idCol = header.cells.indexOf("id");
  const examples = rows.map(({ cells, line }, k) => {
    if (cells.length !== header.cells.length) {
      throw new DatasetError(file, line, `expected ${header.cells.length} columns, got ${cells.length}`);
    }
    const id = idCol >= 0 && cells[idCol] !== "" ? cells[idCol] : `${k + 1}`;
    const spans: { value: unknown; line: number }[] = [];
    cells.forEach((cell, c) => {
      if (c === col || META_KEYS.has(header.cells[c]) || !cell.trimStart().startsWith("[")) return;
      let v: unknown;
      try {
        v = JSON.parse(cell);
      } catch {
        return; // a column of other text that happens to start with "["
      }
      if (Array.isArray(v) && v.length && v.every(isSpan)) {
        for (const x of v) spans.push({ value: x, line });
      }
    });
    return { id, text: cells[col], entities: readSpans(cells[col], id, spans, file, sink) };
  });
  return { examples, warnings: sink.warnings };
}

/** Reads a Label Studio JSON export from disk. */
export async function readLabelStudio(path: string, options: LabelStudioOptions = {}): Promise<ReadResult> {
  return parseLabelStudio(await readText(path), path, options);
}

/** Options for {@link writeLabelStudio}: the labelling config's names, and scores. */
export interface LabelStudioWriteOptions extends LabelStudioNames {
  /** Per-entity scores, parallel to each example's entities, written as `score`. */
  scores?: number[][];
}

/** Writes examples as Label Studio pre-annotation import JSON (tasks with `predictions`). */
export function writeLabelStudio(examples: NerExample[], options: LabelStudioWriteOptions = {}): string {
  const tasks = examples.map((ex, k) =>
    labelStudioTask(
      ex.text,
      ex.entities.map((e, j) => ({ ...e, score: options.scores?.[k]?.[j] })),
      k,
      options,
      ex.id,
    )
  );
  return JSON.stringify(tasks, null, 2) + "\n";
}
