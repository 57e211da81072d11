/**
 * The fixed fine-tuning probe: one short fine-tuning recipe, written down before any probe score was seen
 * (`configs/probe/probe.json`, docs/pretraining.md), that turns any encoder — random weights, a pretraining
 * checkpoint, a discriminator or masked-LM folder — into dev scores, one per dev set (KLUE dev and the
 * colloquial dev split), per seed and averaged. Fine-tuning runs through `finetune()` with no dev set, so the
 * model scored is the one after the recipe's last update (no epoch is chosen on the dev sets being reported).
 *
 * Output folder of one probe:
 * ```
 * OUT/probe.json            the result (also printed by the CLI): encoder, recipe, per seed and mean scores
 * OUT/seed-N/               fine-tuning record of seed N (run.json, metrics.jsonl, report.json, seed.json);
 *                           its model files are deleted after scoring unless `keepModels`
 * ```
 * A curve (`probeCurve`) probes every checkpoint of a pretraining run into `OUT/step-N/` and writes
 * `OUT/curve.jsonl`: one line per checkpoint with pretraining tokens, CPU hours and the probe's mean scores.
 * Both resume: a seed or checkpoint already scored is read back, a fine-tuning killed midway resumes.
 * @module
 */
import { join, resolve } from "node:path";
import { exists, readJsonFile, readJsonText } from "../util/fs.ts";
import { writeFileAtomic } from "../run/artifacts_io.ts";
import { listCheckpoints } from "../run/checkpoints.ts";
import type { DatasetFormat } from "../ner_data/datasets/types.ts";
import { evaluateModelFolder } from "../evaluate/evaluate.ts";
import { finetune } from "../finetune/finetune.ts";
import { type DataSource, loadSources } from "../ner_data/sources.ts";
import type { ModelInit } from "../finetune/start_model.ts";
import {
  FINETUNE_DEFAULTS,
  type FinetuneConfig,
  finetuneConfigFromJson,
  finetuneConfigToJson,
} from "../finetune/finetune_config.ts";
import { decodeCheckpoint } from "../../onnx/checkpoint.ts";
import { type JsonText, keyLinesAt } from "../../onnx/json_lines.ts";

/** The probe's fixed recipe (`configs/probe/probe.json`, paths resolved). */
export interface ProbeRecipe {
  /** HF config.json of the model shape, for random initialisation. */
  model: string;
  /** vocab.txt for random initialisation and pretraining checkpoints. */
  vocab: string;
  train: DataSource[];
  /** Dev sets by name, each scored separately. */
  dev: Record<string, DataSource>;
  seeds: number[];
  finetune: FinetuneConfig;
}

/** Scores of one fine-tuned model on one dev set. */
export interface DevScores {
  macro_f1: number;
  micro_f1: number;
  precision: number;
  recall: number;
  sentences: number;
}

/** One seed's result. */
export interface SeedResult {
  seed: number;
  /** Seconds of fine-tuning (wall clock, this machine) and of scoring. */
  seconds: number;
  steps: number;
  dev: Record<string, DevScores>;
}

/** What `runProbe` writes to `probe.json`. */
export interface ProbeResult {
  format: "nersota-probe/1";
  encoder: string;
  recipe: Record<string, unknown>;
  seeds: SeedResult[];
  /** Mean over seeds, by dev set. */
  mean: Record<string, { macro_f1: number; micro_f1: number }>;
}

const RECIPE_KEYS = ["$comment", "model", "vocab", "train", "dev", "seeds", "finetune"];
const SOURCE_KEYS = ["path", "format", "map", "take"];

/**
 * Parses a probe recipe. `$RUNS/` at the start of a path is the `runs` folder (the recipe's data folder,
 * e.g. /work/nersota-runs/default); other relative paths are relative to the working directory. With `doc` (the
 * file's lines, from `parseJsonText`), errors about a key the file gave name its line.
 */
export function probeRecipeFromJson(
  json: unknown,
  where: string,
  runs: string,
  doc?: Pick<JsonText, "file" | "lines">,
): ProbeRecipe {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error(`"${where}" is not a JSON object`);
  }
  // The file and line of the first of these key paths the file gave, else the file.
  const at = (...keys: string[]): string => {
    const line = keys.map((k) => doc?.lines.get(k)).find((l) => l !== undefined);
    return line === undefined ? `"${where}"` : `${doc!.file}:${line}`;
  };
  const o = json as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !RECIPE_KEYS.includes(k));
  if (extra.length) {
    throw new Error(
      `${at(extra[0])}: unknown key(s) ${extra.join(", ")} (expected ${RECIPE_KEYS.slice(1).join(", ")})`,
    );
  }
  const path = (v: unknown, key: string, parent = key): string => {
    if (typeof v !== "string" || !v) {
      throw new Error(`${at(key, parent)}: ${key} must be a path, got ${JSON.stringify(v)}`);
    }
    return v.startsWith("$RUNS/") ? join(runs, v.slice(6)) : v;
  };
  const source = (v: unknown, key: string): DataSource => {
    if (typeof v !== "object" || v === null) {
      throw new Error(`${at(key)}: ${key} must be {path, format, map, take}`);
    }
    const s = v as Record<string, unknown>;
    const bad = Object.keys(s).filter((k) => !SOURCE_KEYS.includes(k));
    if (bad.length) {
      throw new Error(
        `${at(`${key}.${bad[0]}`, key)}: ${key} has unknown key(s) ${bad.join(", ")} (known: ${SOURCE_KEYS})`,
      );
    }
    if (s.take !== undefined && !(Number.isInteger(s.take) && (s.take as number) > 0)) {
      throw new Error(
        `${at(`${key}.take`)}: ${key}.take must be a positive integer, got ${JSON.stringify(s.take)}`,
      );
    }
    return {
      path: path(s.path, `${key}.path`, key),
      format: (s.format ?? "auto") as DatasetFormat | "auto",
      map: s.map as string | undefined,
      take: s.take as number | undefined,
    };
  };
  if (!Array.isArray(o.train) || !o.train.length) {
    throw new Error(`${at("train")}: train must be a non-empty list of sources`);
  }
  if (typeof o.dev !== "object" || o.dev === null || Array.isArray(o.dev) || !Object.keys(o.dev).length) {
    throw new Error(`${at("dev")}: dev must be an object {name: source} with at least one dev set`);
  }
  const seeds = o.seeds;
  if (!Array.isArray(seeds) || !seeds.length || !seeds.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new Error(
      `${at("seeds")}: seeds must be a non-empty list of integers ≥ 0, got ${JSON.stringify(seeds)}`,
    );
  }
  const ft = finetuneConfigFromJson(
    o.finetune ?? {},
    `${where}: finetune`,
    FINETUNE_DEFAULTS,
    doc && keyLinesAt(doc, "finetune"),
  );
  if (ft.patience !== 0) {
    throw new Error(
      `${at("finetune.patience", "finetune")}: finetune.patience must be 0 (the probe has no dev selection)`,
    );
  }
  return {
    model: path(o.model, "model"),
    vocab: path(o.vocab, "vocab"),
    train: o.train.map((s, i) => source(s, `train[${i}]`)),
    dev: Object.fromEntries(Object.entries(o.dev).map(([k, s]) => [k, source(s, `dev.${k}`)])),
    seeds: seeds as number[],
    finetune: ft,
  };
}

/** Reads a recipe file (see `probeRecipeFromJson`); errors name the file and, where they can, the line. */
export async function readProbeRecipe(path: string, runs: string): Promise<ProbeRecipe> {
  const doc = await readJsonText(path, "probe recipe");
  return probeRecipeFromJson(doc.json, path, runs, doc);
}

/**
 * What an `--encoder` argument names: `random`, a pretraining checkpoint file (`*.safetensors`) or a model
 * folder (NERSOTA or Hugging Face: discriminator, masked LM, encoder, tagger).
 */
export async function encoderInit(spec: string, recipe: ProbeRecipe): Promise<ModelInit> {
  if (spec === "random") return { kind: "random", config: recipe.model, vocab: recipe.vocab };
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(spec);
  } catch {
    throw new Error(
      `Encoder "${spec}" does not exist (expected "random", a checkpoint file or a model folder)`,
    );
  }
  if (info.isFile) {
    if (!spec.endsWith(".safetensors")) {
      throw new Error(`Encoder "${spec}" is a file but not a .safetensors checkpoint`);
    }
    return { kind: "checkpoint", path: spec, vocab: recipe.vocab };
  }
  return { kind: "folder", dir: spec };
}

/** Options of `runProbe`. */
export interface ProbeOptions {
  recipe: ProbeRecipe;
  /** The recipe as written (recorded in probe.json). */
  recipeJson: Record<string, unknown>;
  encoder: string;
  out: string;
  threads?: number;
  quiet?: boolean;
  /** Keep each seed's fine-tuned model folder (default: deleted after scoring; the scores are kept). */
  keepModels?: boolean;
  /** Stop each fine-tuning after this many updates without finishing it (tests of resume). */
  stopAfter?: number;
  log?: (m: string) => void;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Runs the probe (see the module doc); returns and writes `OUT/probe.json`. Undefined when stopped early. */
export async function runProbe(o: ProbeOptions): Promise<ProbeResult | undefined> {
  const log = o.log ?? ((m: string) => console.error(m));
  const init = await encoderInit(o.encoder, o.recipe);
  const quietLog = () => {};
  const devs: Record<string, Awaited<ReturnType<typeof loadSources>>> = {};
  for (const [name, src] of Object.entries(o.recipe.dev)) {
    if (!(await exists(src.path))) throw new Error(`Dev set "${name}": "${src.path}" does not exist`);
    devs[name] = await loadSources([src], o.quiet ? quietLog : log);
  }
  await Deno.mkdir(o.out, { recursive: true });
  const seeds: SeedResult[] = [];
  for (const seed of o.recipe.seeds) {
    const dir = join(o.out, `seed-${seed}`);
    const done = join(dir, "seed.json");
    let result: SeedResult;
    if (await exists(done)) {
      result = JSON.parse(await Deno.readTextFile(done));
      log(`probe: seed ${seed} already fine-tuned ("${done}")`);
    } else {
      const t0 = performance.now();
      const r = await finetune({
        config: { ...o.recipe.finetune, seed },
        model: init,
        train: o.recipe.train,
        dev: [],
        out: dir,
        threads: o.threads,
        resume: true,
        quiet: o.quiet,
        stopAfter: o.stopAfter,
      });
      if (!r.finished) return undefined;
      result = { seed, seconds: (performance.now() - t0) / 1000, steps: r.step, dev: {} };
    }
    // Dev sets not scored yet: all of them after fine-tuning, or one added since (a kept model is needed).
    const missing = Object.keys(devs).filter((name) => !result.dev[name]);
    if (missing.length && !(await exists(join(dir, "inference.onnx")))) {
      throw new Error(
        `Seed ${seed} in "${dir}" has no scores on ${
          missing.join(", ")
        } and its model was not kept (--keep-models): delete the folder to probe again`,
      );
    }
    for (const name of missing) {
      const { report } = await evaluateModelFolder(dir, devs[name], { threads: o.threads });
      result.dev[name] = {
        macro_f1: report.macro.f1,
        micro_f1: report.micro.f1,
        precision: report.micro.precision,
        recall: report.micro.recall,
        sentences: devs[name].length,
      };
      log(
        `probe: seed ${seed} ${name} macro F1 ${report.macro.f1.toFixed(4)} micro ${
          report.micro.f1.toFixed(4)
        }`,
      );
    }
    if (!o.keepModels) {
      // The scores are what a probe keeps; a curve of 20 checkpoints × 2 seeds would otherwise hold 40 models.
      for (const f of ["inference.onnx", "model.safetensors", "checkpoints"]) {
        await Deno.remove(join(dir, f), { recursive: true }).catch(() => {});
      }
    }
    await writeFileAtomic(done, new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"));
    seeds.push(result);
  }
  const meanScores: ProbeResult["mean"] = {};
  for (const name of Object.keys(o.recipe.dev)) {
    meanScores[name] = {
      macro_f1: mean(seeds.map((s) => s.dev[name].macro_f1)),
      micro_f1: mean(seeds.map((s) => s.dev[name].micro_f1)),
    };
  }
  const result: ProbeResult = {
    format: "nersota-probe/1",
    encoder: o.encoder,
    recipe: { ...o.recipeJson, resolved: describeRecipe(o.recipe) },
    seeds,
    mean: meanScores,
  };
  await writeFileAtomic(
    join(o.out, "probe.json"),
    new TextEncoder().encode(JSON.stringify(result, null, 2) + "\n"),
  );
  return result;
}

function describeRecipe(r: ProbeRecipe): Record<string, unknown> {
  return { ...r, finetune: finetuneConfigToJson(r.finetune) };
}

/** One line of `curve.jsonl`. */
export interface CurvePoint {
  step: number;
  /** Pretraining tokens (batch × sequence, padding included) up to the checkpoint. */
  tokens: number;
  /** Wall-clock hours of pretraining updates up to the checkpoint (evaluations excluded), and × their threads. */
  hours: number | null;
  cpu_hours: number | null;
  /** Mean over the probe's seeds, by dev set, and each seed's macro F1. */
  mean: ProbeResult["mean"];
  macro_f1_by_seed: Record<string, number[]>;
}

/** Options of `probeCurve`. */
export interface CurveOptions extends Omit<ProbeOptions, "encoder" | "out"> {
  /** A `deno task pretrain` run folder. */
  run: string;
  out: string;
  /** Probe only checkpoints whose step is a multiple of this, and the schedule's last (default 1: all). */
  every?: number;
  /** A probe.json of random weights with this recipe: the curve's point at 0 tokens. */
  baseline?: string;
}

/** The curve point of a probe result and its checkpoint's run state. */
export function curvePoint(
  step: number,
  state: { tokensSeen?: number; trainSeconds?: number; cpuSeconds?: number } | null,
  threads: number | null,
  probe: ProbeResult,
): CurvePoint {
  const seconds = state?.trainSeconds;
  // The checkpoint's own CPU seconds where it keeps them (right across resumes at another thread count), else
  // its seconds at the thread count of the run's run.json.
  const cpuSeconds = state?.cpuSeconds ??
    (seconds === undefined || threads === null ? undefined : seconds * threads);
  const byseed: Record<string, number[]> = {};
  for (const name of Object.keys(probe.mean)) byseed[name] = probe.seeds.map((s) => s.dev[name].macro_f1);
  return {
    step,
    tokens: state?.tokensSeen ?? 0,
    hours: seconds === undefined ? null : seconds / 3600,
    cpu_hours: cpuSeconds === undefined ? null : cpuSeconds / 3600,
    mean: probe.mean,
    macro_f1_by_seed: byseed,
  };
}

/**
 * Probes the checkpoints of a pretraining run that are not probed yet (`OUT/step-N/`), newest first, then writes
 * `OUT/curve.jsonl` from every probed step (checkpoints deleted since keep their line). Returns the points.
 */
export async function probeCurve(o: CurveOptions): Promise<CurvePoint[]> {
  const log = o.log ?? ((m: string) => console.error(m));
  const runJson = join(o.run, "run.json");
  if (!(await exists(runJson))) throw new Error(`"${o.run}" is not a pretraining run folder (no run.json)`);
  const runInfo = await readJsonFile(runJson, "pretraining run record") as {
    threads?: number;
    train?: { num_train_steps?: number };
  };
  const threads = runInfo.threads ?? null;
  // The schedule's last update is the run's final encoder: a curve point whatever `every` is.
  const last = runInfo.train?.num_train_steps ?? null;
  await Deno.mkdir(o.out, { recursive: true });
  // Newest first: a run's last checkpoint is the point the comparison rules read, so a cut probe session has
  // it before the earlier points, which are reported only.
  for (const c of (await listCheckpoints(join(o.run, "checkpoints"))).reverse()) {
    if (c.step % (o.every ?? 1) !== 0 && c.step !== last) continue;
    const dir = join(o.out, `step-${c.step}`);
    if (await exists(join(dir, "point.json"))) continue;
    // The run state is read before probing: the pretraining run may delete the checkpoint meanwhile.
    let state;
    try {
      state = (await decodeCheckpoint(await Deno.readFile(c.path), c.path)).config as Record<string, number>;
    } catch (e) {
      log(`probe: skipping "${c.path}": ${(e as Error).message}`);
      continue;
    }
    await Deno.mkdir(dir, { recursive: true });
    // A private copy, so the run's checkpoint rotation cannot pull it away mid-probe.
    const copy = join(dir, "encoder.safetensors");
    await Deno.copyFile(c.path, copy);
    log(`probe: checkpoint step ${c.step} (${state.tokensSeen} tokens)`);
    const probe = await runProbe({ ...o, encoder: copy, out: dir });
    await Deno.remove(copy).catch(() => {});
    if (!probe) return [];
    const point = curvePoint(c.step, state, threads, probe);
    await writeFileAtomic(join(dir, "point.json"), new TextEncoder().encode(JSON.stringify(point) + "\n"));
  }
  const points: CurvePoint[] = [];
  if (o.baseline) {
    points.push(
      curvePoint(
        0,
        { tokensSeen: 0, trainSeconds: 0 },
        threads ?? 1,
        await readJsonFile(o.baseline, "baseline probe") as ProbeResult,
      ),
    );
  }
  for await (const e of Deno.readDir(o.out)) {
    const p = join(o.out, e.name, "point.json");
    if (e.isDirectory && /^step-\d+$/.test(e.name) && (await exists(p))) {
      points.push(await readJsonFile(p, "curve point") as CurvePoint);
    }
  }
  points.sort((a, b) => a.step - b.step);
  await writeFileAtomic(
    join(o.out, "curve.jsonl"),
    new TextEncoder().encode(
      points.map((p) => JSON.stringify({ run: resolve(o.run), ...p }) + "\n").join(""),
    ),
  );
  return points;
}
