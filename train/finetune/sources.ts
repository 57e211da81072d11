/**
 * The data sources of fine-tuning as the command line and data spec files write them: `FORMAT:PATH[:MAP]`
 * (or a plain `PATH` with a default format and map), and a JSON spec `{"train": [{path, format, map}], "dev": […]}`.
 * @module
 */
import { DATASET_FORMATS } from "../ner_data/datasets/mod.ts";
import type { DatasetFormat } from "../ner_data/datasets/types.ts";
import { readJsonFile } from "../util/fs.ts";
import type { DataSource } from "./finetune.ts";

/** Parses `FORMAT:PATH[:MAP]` or `PATH` (with the given defaults). */
export function parseSource(spec: string, format: DatasetFormat | "auto", map?: string): DataSource {
  const formats = [...DATASET_FORMATS, "auto"] as string[];
  const i = spec.indexOf(":");
  if (i > 0 && formats.includes(spec.slice(0, i))) {
    const rest = spec.slice(i + 1);
    // The map is the part after the last ':' when the path before it is non-empty (paths rarely hold ':').
    const j = rest.lastIndexOf(":");
    return j > 0
      ? {
        format: spec.slice(0, i) as DatasetFormat,
        path: rest.slice(0, j),
        map: rest.slice(j + 1) || undefined,
      }
      : { format: spec.slice(0, i) as DatasetFormat, path: rest, map };
  }
  return { path: spec, format, map };
}

/** Reads a JSON data spec file into train and dev sources. */
export async function readDataSpec(path: string): Promise<{ train: DataSource[]; dev: DataSource[] }> {
  // deno-lint-ignore no-explicit-any
  const json = await readJsonFile(path, "--data") as Record<string, any>;
  const list = (key: string): DataSource[] => {
    const v = json[key] ?? [];
    if (!Array.isArray(v)) throw new Error(`"${path}": "${key}" must be a list of {path, format, map}`);
    return v.map((s: Record<string, unknown>, k: number) => {
      const unknown = Object.keys(s).filter((x) => !["path", "format", "map"].includes(x));
      if (typeof s.path !== "string" || unknown.length) {
        throw new Error(
          `"${path}": ${key}[${k}] needs a "path" and may have "format" and "map" (unknown: ${
            unknown.join(", ") || "none"
          })`,
        );
      }
      return {
        path: s.path,
        format: (s.format as DatasetFormat) ?? "auto",
        map: s.map as string | undefined,
      };
    });
  };
  const extra = Object.keys(json).filter((k) => k !== "train" && k !== "dev");
  if (extra.length) {
    throw new Error(`"${path}": unknown key(s) ${extra.join(", ")} (expected "train", "dev")`);
  }
  return { train: list("train"), dev: list("dev") };
}
