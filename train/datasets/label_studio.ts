/**
 * Label Studio JSON for span labelling: the export (`[{id, data: {text}, annotations: [{result:
 * [{value: {start, end, text, labels}}]}]}]`) and the pre-annotation import (same, with
 * `predictions`).
 * @module
 */

import { parseLocatedJson } from "./json_source.ts";
import {
  DatasetError,
  type Entity,
  locateSurface,
  type NerExample,
  type ReadResult,
  readText,
  sortEntities,
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
 * Reads a Label Studio export. Each task uses its first annotation that was not cancelled, or its
 * first prediction when it has no annotation; other annotations are reported, not merged.
 */
export function parseLabelStudio(text: string, file: string, options: LabelStudioOptions = {}): ReadResult {
  const key = options.textKey ?? "text";
  const { value: root, lineOf } = parseLocatedJson(text, file);
  const sink = new WarningSink(file);
  const tasks = Array.isArray(root) ? root : [root];
  const examples: NerExample[] = [];
  tasks.forEach((task: unknown, k: number) => {
    if (!isObject(task) || !isObject(task.data) || typeof task.data[key] !== "string") {
      throw new DatasetError(file, lineOf(task), `expected task ${k} to have a string "data.${key}"`);
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
    const entities: Entity[] = [];
    const results = isObject(chosen) && Array.isArray(chosen.result) ? chosen.result : [];
    if (chosen !== undefined && !(isObject(chosen) && Array.isArray(chosen.result))) {
      throw new DatasetError(
        file,
        lineOf(chosen),
        `expected the annotation of task ${id} to have a "result" array`,
      );
    }
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
      const v = r.value;
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
    examples.push({ id, text: body, entities: sortEntities(entities) });
  });
  return { examples, warnings: sink.warnings };
}

/** Reads a Label Studio JSON export from disk. */
export async function readLabelStudio(path: string, options: LabelStudioOptions = {}): Promise<ReadResult> {
  return parseLabelStudio(await readText(path), path, options);
}

/** Options for {@link writeLabelStudio}. */
export interface LabelStudioWriteOptions {
  /** Name of the `<Labels>` control; default `label`. */
  fromName?: string;
  /** Name of the `<Text>` object; default `text`. */
  toName?: string;
  /** Written as `predictions[].model_version`; default `nersota`. */
  modelVersion?: string;
  /** Per-entity scores, parallel to each example's entities, written as `score`. */
  scores?: number[][];
}

/** Writes examples as Label Studio pre-annotation import JSON (tasks with `predictions`). */
export function writeLabelStudio(examples: NerExample[], options: LabelStudioWriteOptions = {}): string {
  const fromName = options.fromName ?? "label";
  const toName = options.toName ?? "text";
  const tasks = examples.map((ex, k) => ({
    data: { text: ex.text, id: ex.id },
    predictions: [{
      model_version: options.modelVersion ?? "nersota",
      result: ex.entities.map((e, j) => ({
        id: `${k}_${j}`,
        from_name: fromName,
        to_name: toName,
        type: "labels",
        value: { start: e.start, end: e.end, text: ex.text.slice(e.start, e.end), labels: [e.type] },
        ...(options.scores ? { score: options.scores[k]?.[j] } : {}),
      })),
    }],
  }));
  return JSON.stringify(tasks, null, 2) + "\n";
}
