/**
 * Entity type mapping between tag sets: `--map` files (`FROM<TAB>TO`, `TO` empty or `O` drops the
 * type, `FROM*` matches a prefix) and built-in maps onto KLUE's six types.
 * @module
 */

import type { NerExample } from "./datasets/types.ts";

/** A type mapping: exact entries, then the longest matching prefix entry; `null` drops the type. */
export interface LabelMap {
  exact: Map<string, string | null>;
  /** Prefix entries, longest first. */
  prefixes: [prefix: string, to: string | null][];
}

/** What mapping did: counts per original type. */
export interface LabelMapStats {
  /** `FROM→TO` counts. */
  mapped: Record<string, number>;
  /** Types dropped by the map. */
  dropped: Record<string, number>;
  /** Types the map does not mention (kept, dropped or fatal per `unknown`). */
  unmapped: Record<string, number>;
}

/** Builds a map from `[from, to]` pairs (`to` null/""/"O" drops; `from` ending in `*` is a prefix). */
export function makeLabelMap(entries: Iterable<[string, string | null]>): LabelMap {
  const exact = new Map<string, string | null>();
  const prefixes: [string, string | null][] = [];
  for (const [from, rawTo] of entries) {
    const to = rawTo === null || rawTo === "" || rawTo === "O" ? null : rawTo;
    if (from.endsWith("*")) prefixes.push([from.slice(0, -1), to]);
    else exact.set(from, to);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return { exact, prefixes };
}

/** Parses a `--map` file: `FROM<TAB>TO` lines, `#` comments, blank lines; errors name the line. */
export function parseLabelMap(text: string, file: string): LabelMap {
  const entries: [string, string | null][] = [];
  const seen = new Map<string, number>();
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    const line = raw.replace(/#.*$/, "").trimEnd();
    if (line.trim() === "") return;
    const cols = line.split("\t");
    if (cols.length > 2 || cols[0].trim() === "") {
      throw new Error(
        `Cannot parse line ${n} of "${file}": expected "FROM<TAB>TO" (TO empty or O to drop), found "${raw}"`,
      );
    }
    const from = cols[0].trim();
    const to = (cols[1] ?? "").trim();
    if (/\s/.test(from) || /\s/.test(to)) {
      throw new Error(
        `Cannot parse line ${n} of "${file}": types cannot hold spaces; separate FROM and TO with a tab`,
      );
    }
    if (seen.has(from)) {
      throw new Error(
        `Cannot parse line ${n} of "${file}": "${from}" is already mapped on line ${seen.get(from)}`,
      );
    }
    seen.set(from, n);
    entries.push([from, to]);
  });
  return makeLabelMap(entries);
}

/** Looks a type up: `string` = new type, `null` = drop, `undefined` = the map does not mention it. */
export function lookupType(map: LabelMap, type: string): string | null | undefined {
  if (map.exact.has(type)) return map.exact.get(type)!;
  for (const [prefix, to] of map.prefixes) if (type.startsWith(prefix)) return to;
  return undefined;
}

/** Built-in maps onto KLUE's six types (PS LC OG DT TI QT). */
export const BUILTIN_MAPS: Record<"kmou-klue" | "nikl-klue" | "naver-klue", LabelMap> = {
  // KMOU: durations are DT in KLUE's guideline, all number-like types are QT, POH has no KLUE type.
  "kmou-klue": makeLabelMap([
    ["PER", "PS"],
    ["LOC", "LC"],
    ["ORG", "OG"],
    ["DAT", "DT"],
    ["DUR", "DT"],
    ["TIM", "TI"],
    ["NOH", "QT"],
    ["MNY", "QT"],
    ["PNT", "QT"],
    ["POH", null],
  ]),
  // NIKL: sub-types (PS_NAME, OGG_ECONOMY, LCP_COUNTRY, TMI_HW ...) always begin with the two
  // letters of their TTA type, so two-letter prefixes cover every release.
  "nikl-klue": makeLabelMap([
    ["PS*", "PS"],
    ["LC*", "LC"],
    ["OG*", "OG"],
    ["DT*", "DT"],
    ["TI*", "TI"],
    ["QT*", "QT"],
    ["AF*", null],
    ["AM*", null],
    ["CV*", null],
    ["EV*", null],
    ["FD*", null],
    ["MT*", null],
    ["PT*", null],
    ["TM*", null],
    ["TR*", null],
  ]),
  // Naver: NUM covers counts, money and ordinals, which KLUE's QT also covers.
  "naver-klue": makeLabelMap([
    ["PER", "PS"],
    ["LOC", "LC"],
    ["ORG", "OG"],
    ["DAT", "DT"],
    ["TIM", "TI"],
    ["NUM", "QT"],
    ["FLD", null],
    ["AFW", null],
    ["CVL", null],
    ["EVT", null],
    ["ANM", null],
    ["PLT", null],
    ["MAT", null],
    ["TRM", null],
  ]),
};

/** Options for {@link applyLabelMap}. */
export interface ApplyLabelMapOptions {
  /** What to do with a type the map does not mention; default `keep`. */
  unknown?: "keep" | "drop" | "error";
}

/** Maps every entity's type, dropping what the map drops, and counts what happened. */
export function applyLabelMap(
  examples: NerExample[],
  map: LabelMap,
  options: ApplyLabelMapOptions = {},
): { examples: NerExample[]; stats: LabelMapStats } {
  const unknown = options.unknown ?? "keep";
  const stats: LabelMapStats = { mapped: {}, dropped: {}, unmapped: {} };
  const bump = (r: Record<string, number>, k: string) => (r[k] = (r[k] ?? 0) + 1);
  const out = examples.map((ex) => ({
    ...ex,
    entities: ex.entities.flatMap((e) => {
      const to = lookupType(map, e.type);
      if (to === undefined) {
        bump(stats.unmapped, e.type);
        if (unknown === "error") {
          throw new Error(`Type "${e.type}" of example "${ex.id}" is not in the label map`);
        }
        return unknown === "keep" ? [e] : [];
      }
      if (to === null) {
        bump(stats.dropped, e.type);
        return [];
      }
      bump(stats.mapped, `${e.type}→${to}`);
      return [{ ...e, type: to }];
    }),
  }));
  return { examples: out, stats };
}
