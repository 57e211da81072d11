/**
 * NER dataset readers and writers, all producing `{id, text, entities: [{start, end, type}]}`,
 * plus `readDataset(path, format)` with format detection by extension and content.
 * @module
 */

import { parseConll } from "./conll.ts";
import { parseKlue } from "./klue.ts";
import { parseKmou, readKmou } from "./kmou.ts";
import { parseLabelStudio } from "./label_studio.ts";
import { parseNaver } from "./naver.ts";
import { parseNikl } from "./nikl.ts";
import { type DatasetFormat, type ReadResult, readText } from "./types.ts";

export * from "./types.ts";
export * from "./klue.ts";
export * from "./kmou.ts";
export * from "./nikl.ts";
export * from "./naver.ts";
export * from "./conll.ts";
export * from "./label_studio.ts";
export { type LocatedJson, parseLocatedJson } from "./json_source.ts";

/** Every format name `readDataset` accepts. */
export const DATASET_FORMATS: readonly DatasetFormat[] = [
  "klue",
  "kmou",
  "nikl",
  "naver",
  "conll",
  "label-studio",
];

/**
 * Guesses a dataset's format from its file name and the start of its text: JSON with a `document`
 * array is NIKL, other JSON is Label Studio, as is a `.csv`/`.tsv` whose header has a `text` column and whose
 * cells hold JSON span lists; `##` headers with one character per line are KLUE,
 * with four columns KMOU; `; `/`$` lines are KMOU's older layout; `n<TAB>word<TAB>tag` is Naver;
 * anything else is CoNLL.
 */
export function detectDatasetFormat(name: string, text: string): DatasetFormat {
  const head = text.replace(/^\uFEFF/, "").slice(0, 20000);
  const trimmed = head.trimStart();
  if (/\.json$/i.test(name) || trimmed.startsWith("{") || trimmed.startsWith("[")) {
    return /^\s*\{[\s\S]*?"document"\s*:/.test(head) &&
        !/"annotations"|"predictions"/.test(head.slice(0, 2000))
      ? "nikl"
      : "label-studio";
  }
  // Label Studio's CSV/TSV export: a header row naming a "text" column, spans as JSON in the cells.
  const header = head.slice(0, head.search(/\r?\n|$/)).split(/[,\t]/).map((c) => c.replace(/^"|"$/g, ""));
  if (/\.(csv|tsv)$/i.test(name) && header.includes("text") && /"?\[\{/.test(head)) return "label-studio";
  const lines = head.split(/\r?\n/).filter((l) => l.trim() !== "");
  const body = lines.filter((l) => !l.startsWith("##"));
  if (lines.some((l) => l.startsWith("## ")) && body.length > 0) {
    const cols = body[0].split("\t").length;
    return cols >= 4 ? "kmou" : "klue";
  }
  if (lines.some((l) => /^; /.test(l)) && lines.some((l) => l.startsWith("$"))) return "kmou";
  if (body.length > 0 && body.slice(0, 5).every((l) => /^\d+\t[^\t]*\t\S+$/.test(l))) return "naver";
  return "conll";
}

/** Parses dataset text of a given (or detected) format; `file` is used in messages. */
export function parseDataset(
  text: string,
  file: string,
  format: DatasetFormat | "auto" = "auto",
): ReadResult {
  const f = format === "auto" ? detectDatasetFormat(file, text) : format;
  switch (f) {
    case "klue":
      return parseKlue(text, file);
    case "kmou":
      return parseKmou(text, file);
    case "nikl":
      return parseNikl(text, file);
    case "naver":
      return parseNaver(text, file);
    case "conll":
      return parseConll(text, file);
    case "label-studio":
      return parseLabelStudio(text, file);
    default:
      throw new Error(`Unknown dataset format "${f}"; expected one of ${DATASET_FORMATS.join(", ")} or auto`);
  }
}

/**
 * Reads a dataset file (or, for KMOU, a folder of `*.txt` files) in the given format, detecting it
 * when `format` is `auto`.
 */
export async function readDataset(
  path: string,
  format: DatasetFormat | "auto" = "auto",
): Promise<ReadResult> {
  if (!DATASET_FORMATS.includes(format as DatasetFormat) && format !== "auto") {
    throw new Error(
      `Unknown dataset format "${format}"; expected one of ${DATASET_FORMATS.join(", ")} or auto`,
    );
  }
  const stat = await Deno.stat(path).catch(() => undefined);
  if (!stat) throw new Error(`Cannot read "${path}": no such file or folder`);
  if (stat.isDirectory) {
    if (format !== "auto" && format !== "kmou") {
      throw new Error(`"${path}" is a folder; only the kmou format reads folders`);
    }
    return readKmou(path);
  }
  return parseDataset(await readText(path), path, format);
}
