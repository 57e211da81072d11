/**
 * The model card's inputs read from files (`deno task model-card`): the card spec (configs/default/card.json
 * holds the shipped model's), the evaluation reports it names, the pretraining and fine-tuning runs' logs and
 * the model folder itself; `model_card.ts` turns them into the card.
 *
 * The spec holds what the logs cannot know: the title, the hardware, what each test split is and which report
 * file holds its scores, the recipe's commands, and the claims the card makes about the weights (licence,
 * data table, summary, reference scores, notes); a card has no claims its spec does not make.
 * @module
 */
import { basename, join } from "node:path";
import { decodeModel } from "../../onnx/proto.ts";
import { exists, readJsonFile, writeFileAtomic } from "../util/fs.ts";
import { readMetrics } from "../run/metrics_log.ts";
import {
  type CardEval,
  computeFromMetrics,
  type ComputeRecord,
  modelCard,
  type ModelCardInput,
  resultsTable,
} from "./model_card.ts";

/** A card spec: what the card says beyond the logs (the card's own words, as `ModelCardInput` names them). */
export interface CardSpec extends
  Pick<
    ModelCardInput,
    "title" | "recipe" | "dataNotes" | "summary" | "licence" | "data" | "references" | "trainingNotes"
  > {
  /** Where the runs ran (each compute row's hardware). */
  hardware: string;
  /** The test splits: table name, what the split is, and the evaluation report file with its scores. */
  evals: { name: string; description: string; report: string }[];
}

/** Where a card's inputs are. */
export interface CardFiles {
  /** The card spec (JSON). */
  spec: string;
  /** The folder the spec's relative report paths are read from (default: the spec's folder). */
  runs?: string;
  /** The pretraining run folder (run.json, metrics.jsonl); absent when fine-tuning started from random weights. */
  pretrain?: string;
  /** Fine-tuning run folders that continued one another, in order: the last one's report describes the model. */
  finetune: readonly string[];
  /** The model folder (config.json, inference.onnx, nersota.json): the card is its README.md. */
  model: string;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  return await readJsonFile(path, what) as Record<string, unknown>;
}

/** The keys a card spec may have (what the card says beyond the logs; see model_card.ts). */
const SPEC_KEYS = [
  "title",
  "hardware",
  "evals",
  "recipe",
  "data_notes",
  "summary",
  "licence",
  "data",
  "references",
  "training_notes",
  "$comment",
];

/** Checks the spec's shape, naming the first bad key. */
export function parseSpec(json: Record<string, unknown>, where: string): CardSpec {
  const bad = (k: string, want: string) => new Error(`${where}: "${k}" must be ${want}`);
  for (const k of Object.keys(json)) {
    if (!SPEC_KEYS.includes(k)) {
      throw bad(k, "absent (unknown key)");
    }
  }
  if (typeof json.title !== "string") throw bad("title", "a string");
  if (typeof json.hardware !== "string") throw bad("hardware", "a string");
  const strings = (v: unknown) => Array.isArray(v) && v.every((l) => typeof l === "string");
  if (!strings(json.recipe)) throw bad("recipe", "an array of strings");
  if (json.data_notes !== undefined && !strings(json.data_notes)) {
    throw bad("data_notes", "an array of strings");
  }
  for (const k of ["summary", "licence", "references"]) {
    if (json[k] !== undefined && typeof json[k] !== "string") throw bad(k, "a string");
  }
  if (json.training_notes !== undefined && !strings(json.training_notes)) {
    throw bad("training_notes", "an array of strings");
  }
  if (json.data !== undefined) {
    if (!Array.isArray(json.data)) throw bad("data", "an array of {data, use, licence}");
    json.data.forEach((d, i) => {
      for (const k of ["data", "use", "licence"]) {
        if (typeof (d as Record<string, unknown>)?.[k] !== "string") throw bad(`data[${i}].${k}`, "a string");
      }
    });
  }
  if (!Array.isArray(json.evals)) throw bad("evals", "an array");
  json.evals.forEach((e, i) => {
    for (const k of ["name", "description", "report"]) {
      if (typeof (e as Record<string, unknown>)?.[k] !== "string") throw bad(`evals[${i}].${k}`, "a string");
    }
  });
  return { ...json, dataNotes: json.data_notes, trainingNotes: json.training_notes } as unknown as CardSpec;
}

/** A data source as a fine-tuning run.json lists it. */
type Source = { path: string; format: string; map: string | null };

/** Names training sources as "klue train.tsv ×3", counting a source listed several times (oversampling) once. */
export function countedSources(
  sources: readonly Source[],
): string[] {
  const counts = new Map<string, number>();
  for (const t of sources) {
    const name = `${t.format} ${basename(join(t.path, ".."))}/${basename(t.path)}${
      t.map ? ` (types mapped ${t.map})` : ""
    }`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts].map(([name, n]) => (n > 1 ? `${name} ×${n}` : name));
}

/** What the spec, its evaluation reports and the model's config.json say, read in that order. */
async function readSpecSide(
  f: CardFiles,
): Promise<{ spec: CardSpec; evals: CardEval[]; config: Record<string, unknown>; labels: string[] }> {
  const spec = parseSpec(await readJson(f.spec, "card spec"), f.spec);
  const runs = f.runs ?? join(f.spec, "..");
  const evals: CardEval[] = [];
  for (const e of spec.evals) {
    const path = e.report.startsWith("/") ? e.report : join(runs, e.report);
    evals.push({
      name: e.name,
      description: e.description,
      report: await readJson(path, "evaluation report") as never,
    });
  }
  const config = await readJson(join(f.model, "config.json"), "model config");
  const labels = Object.entries(config.id2label as Record<string, string>).sort((a, b) => +a[0] - +b[0]).map((
    [, l],
  ) => l);
  return { spec, evals, config, labels };
}

/** The card's results table alone (for the project README), from the spec's reports and the model's types. */
export async function cardResultsTable(f: CardFiles): Promise<string> {
  const { evals, labels } = await readSpecSide(f);
  return resultsTable(evals, labels.filter((l) => l.startsWith("B-")).map((l) => l.slice(2)));
}

/** Writes the model folder's README.md, the card of `model_card.ts`, from the files `f` names; returns its path. */
export async function writeModelCard(f: CardFiles): Promise<string> {
  const { spec, evals, config, labels } = await readSpecSide(f);
  const onnxPath = join(f.model, "inference.onnx");
  const onnx = await Deno.readFile(onnxPath);
  const graph = decodeModel(onnx, onnxPath).graph!;
  const parameters = (graph.initializer ?? []).reduce(
    (a, t) => a + (t.dims ?? []).reduce((p, d) => p * Number(d), 1),
    0,
  );
  const ftRuns = f.finetune;
  const ft = await readJson(join(ftRuns.at(-1)!, "report.json"), "fine-tuning report");
  const compute: ComputeRecord[] = [];
  let pretrain: Record<string, unknown> | undefined;
  let pretrainTakenAt: number | undefined;
  // Without a pretraining run the architecture is the shipped config's (HF keys, as the pretraining's "model").
  let architecture: Record<string, unknown> = config;
  if (f.pretrain) {
    const run = await readJson(join(f.pretrain, "run.json"), "pretraining run");
    const pretrainLog = await readMetrics(join(f.pretrain, "metrics.jsonl"));
    compute.push(computeFromMetrics(pretrainLog, "pretraining", spec.hardware));
    // A run stopped with --stop-at ends before its schedule; its last record (an evaluation) says where.
    const lastUpdate = Math.max(0, ...pretrainLog.map((r) => r.step));
    const scheduled = Number((run.train as Record<string, unknown>).num_train_steps);
    pretrain = run.train as Record<string, unknown>;
    pretrainTakenAt = lastUpdate < scheduled ? lastUpdate : undefined;
    architecture = run.model as Record<string, unknown>;
  }
  for (const [i, dir] of ftRuns.entries()) {
    const stage = i === 0 ? "fine-tuning" : `fine-tuning, continued (${i})`;
    compute.push(computeFromMetrics(await readMetrics(join(dir, "metrics.jsonl")), stage, spec.hardware));
  }
  const nersota = await readJson(join(f.model, "nersota.json"), "nersota.json");
  // Where fine-tuning started: the first run's run.json (absent in runs older than that field: unsaid).
  const firstRunPath = join(ftRuns[0], "run.json");
  const firstRun = (await exists(firstRunPath) ? await readJson(firstRunPath, "fine-tuning run") : {}) as {
    model?: { kind: string; dir?: string };
    modelNotice?: string;
  };
  const info = (nersota.info ?? {}) as { train?: Source[]; dev?: Source[] };
  const best = ft.best as { step?: number } | null;
  const card = modelCard({
    title: spec.title,
    model: architecture,
    parameters,
    labels,
    onnxBytes: onnx.length,
    weightsBytes: await exists(join(f.model, "model.safetensors"))
      ? (await Deno.stat(join(f.model, "model.safetensors"))).size
      : undefined,
    quantized: (nersota.quantized ?? null) as "int8" | "fp16" | null,
    decoding: (nersota.decoding as string | undefined) ?? "argmax",
    variants: await Promise.all(
      Object.entries((nersota.variants ?? {}) as Record<string, string>).map(async ([name, file]) => ({
        name,
        file,
        bytes: (await Deno.stat(join(f.model, file))).size,
      })),
    ),
    pretrain,
    pretrainTakenAt,
    finetune: {
      config: ft.config as Record<string, unknown>,
      trainSentences: ft.trainSentences as number,
      earlier: await Promise.all(
        ftRuns.slice(0, -1).map(async (d) => {
          const r = await readJson(join(d, "report.json"), "fine-tuning report");
          const run = await readJson(join(d, "run.json"), "fine-tuning run");
          return {
            config: r.config as Record<string, unknown>,
            trainSentences: r.trainSentences as number | undefined,
            data: countedSources((run.train ?? []) as Source[]),
            dev: countedSources((run.dev ?? []) as Source[]),
            bestDevStep: (r.best as { step?: number } | null)?.step,
          };
        }),
      ),
      data: countedSources(info.train ?? []),
      dev: countedSources(info.dev ?? []),
      bestDevStep: best?.step,
    },
    evals,
    compute,
    recipe: spec.recipe,
    dataNotes: spec.dataNotes,
    summary: spec.summary,
    licence: spec.licence,
    data: spec.data,
    references: spec.references,
    trainingNotes: spec.trainingNotes,
    start: firstRun.model ? { ...firstRun.model, notice: firstRun.modelNotice } : undefined,
    labelMode: nersota.labelMode as string | undefined,
    lowercase: nersota.doLowerCase === true,
  });
  const path = join(f.model, "README.md");
  await writeFileAtomic(path, new TextEncoder().encode(card));
  return path;
}
