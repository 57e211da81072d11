/**
 * The data sources of fine-tuning as the command line and data spec files write them: `FORMAT:PATH[:MAP]`
 * (or a plain `PATH` with a default format and map), and a JSON spec `{"train": [{path, format, map}], "dev": […]}`;
 * and their reading into one example list (a fixed subset, a label map).
 * @module
 */
import { DATASET_FORMATS, readDataset } from "./datasets/mod.ts";
import { countTypes, type DatasetFormat, type NerExample } from "./datasets/types.ts";
import { applyLabelMap, BUILTIN_MAPS, type LabelMap, parseLabelMap } from "./label_map.ts";
import { exists, readJsonFile } from "../util/fs.ts";
import { Rng } from "../util/rng.ts";

/** One data source: a file (or KMOU folder), its format, and an optional type map (built-in name or file). */
export interface DataSource {
  path: string;
  format: DatasetFormat | "auto";
  map?: string;
  /** Use only this many sentences: a fixed choice (`fixedSubset`), the same in every run. */
  take?: number;
}

/**
 * `n` examples chosen by a permutation seeded with a constant (not the run's seed), in their original order:
 * a subset that stays the same across runs and seeds, so runs that use it see the same sentences.
 */
export function fixedSubset<T>(examples: readonly T[], n: number): T[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`take must be an integer ≥ 0, got ${n}`);
  if (n >= examples.length) return [...examples];
  const chosen = new Rng(0, "fixed-subset").permutation(examples.length).slice(0, n).sort();
  return Array.from(chosen, (i) => examples[i]);
}

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

/** Reads a label map: a built-in name (`kmou-klue`, …) or a `FROM<TAB>TO` file. */
export async function loadLabelMap(spec: string): Promise<LabelMap> {
  if (spec in BUILTIN_MAPS) return BUILTIN_MAPS[spec as keyof typeof BUILTIN_MAPS];
  if (!(await exists(spec))) {
    throw new Error(
      `Label map "${spec}" is neither a built-in map (${Object.keys(BUILTIN_MAPS).join(", ")}) nor a file`,
    );
  }
  return parseLabelMap(await Deno.readTextFile(spec), spec);
}

/** Reads every source (applying its map) into one example list; logs warnings and mapping counts. */
export async function loadSources(
  sources: readonly DataSource[],
  log: (m: string) => void,
): Promise<NerExample[]> {
  const out: NerExample[] = [];
  for (const s of sources) {
    const { examples, warnings } = await readDataset(s.path, s.format);
    if (warnings.length) {
      log(`"${s.path}": ${warnings.length} warning(s) while reading, e.g. ${warnings[0].message}`);
    }
    let ex = s.take === undefined ? examples : fixedSubset(examples, s.take);
    if (s.take !== undefined) {
      log(`"${s.path}": a fixed subset of ${ex.length} of ${examples.length} sentences`);
    }
    if (s.map) {
      const { examples: mapped, stats } = applyLabelMap(ex, await loadLabelMap(s.map));
      ex = mapped;
      const dropped = Object.entries(stats.dropped).map(([k, v]) => `${k} ${v}`).join(", ");
      log(`"${s.path}": map ${s.map}${dropped ? `; dropped ${dropped}` : ""}`);
    }
    log(`"${s.path}": ${ex.length} sentences, types ${JSON.stringify(countTypes(ex))}`);
    for (const e of ex) out.push(e); // not push(...ex): a spread of ~130k items overflows the stack
  }
  return out;
}
