/**
 * `deno task export`: converts between Hugging Face ELECTRA folders and NERSOTA model folders.
 *
 * ```sh
 * deno task export --from-hf DIR [--generator DIR] --out DIR   # HF → ours (DIR/generator is used when present)
 * deno task export --to-hf DIR --out DIR [--generator-out DIR]  # ours → HF (generator: OUT/generator by default)
 * ```
 * HF folders hold `config.json`, `model.safetensors`, `vocab.txt` (and tokenizer files); PyTorch `.bin`
 * pickles are refused. Files are written to a temporary name and renamed, so a failed export never leaves
 * a half-written file behind.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeFileAtomic } from "./fs.ts";
import {
  decodeModel,
  type ElectraModelFiles,
  encodeModelWeights,
  exportHf,
  type HfFolder,
  importHf,
  modelConfigJson,
  pythonJson,
  SPECIAL_TOKENS_MAP,
  tokenizerConfig,
} from "../onnx/electra/hf.ts";
import { exists, readJsonFile, runMain } from "../infer/cli_util.ts";

const TOKENIZER_FILES = ["tokenizer_config.json", "special_tokens_map.json"];

/** Reads a HF folder's config and safetensors, refusing PyTorch pickles with a message naming safetensors. */
export async function readHfFolder(dir: string): Promise<HfFolder> {
  const st = join(dir, "model.safetensors");
  if (!(await exists(st))) {
    const bins: string[] = [];
    if (await exists(dir)) {
      for await (const e of Deno.readDir(dir)) if (/\.(bin|pt|pth|ckpt)$/.test(e.name)) bins.push(e.name);
    }
    if (bins.length) {
      throw new Error(
        `"${dir}" has ${
          bins.join(", ")
        } but no model.safetensors: PyTorch pickle files are not read (loading them can run ` +
          `arbitrary code, and it needs Python). Convert once with transformers: ` +
          `AutoModel.from_pretrained(DIR).save_pretrained(OUT, safe_serialization=True), which writes model.safetensors.`,
      );
    }
    if (await exists(join(dir, "model.safetensors.index.json"))) {
      throw new Error(
        `"${dir}" holds a sharded checkpoint (model.safetensors.index.json); ELECTRA models fit one file: re-save unsharded`,
      );
    }
    throw new Error(`"${dir}" has no model.safetensors`);
  }
  return {
    config: await readJsonFile(join(dir, "config.json")),
    safetensors: await Deno.readFile(st),
    source: dir,
  };
}

async function copyTokenizer(from: string, to: string, required: boolean): Promise<void> {
  const vocab = join(from, "vocab.txt");
  if (await exists(vocab)) await writeFileAtomic(join(to, "vocab.txt"), await Deno.readFile(vocab));
  else if (required) {
    throw new Error(`"${from}" has no vocab.txt (the WordPiece vocabulary the model was trained with)`);
  }
  for (const f of TOKENIZER_FILES) {
    if (await exists(join(from, f))) await writeFileAtomic(join(to, f), await Deno.readFile(join(from, f)));
  }
}

/** HF folder(s) → our model folder; returns warnings. */
export async function fromHf(dir: string, out: string, generatorDir?: string): Promise<string[]> {
  const main = await readHfFolder(dir);
  const genDir = generatorDir ??
    ((await exists(join(dir, "generator", "config.json"))) ? join(dir, "generator") : undefined);
  const generator = genDir ? await readHfFolder(genDir) : undefined;
  const { model, warnings } = importHf(main, generator);
  await writeModelFolder(model, out);
  await copyTokenizer(dir, out, true);
  return warnings;
}

/** Writes our model folder (config.json, generator_config.json, model.safetensors). */
export async function writeModelFolder(model: ElectraModelFiles, out: string): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const configs = modelConfigJson(model);
  await writeFileAtomic(join(out, "model.safetensors"), encodeModelWeights(model));
  await writeFileAtomic(join(out, "config.json"), configs.config);
  if (configs.generator) await writeFileAtomic(join(out, "generator_config.json"), configs.generator);
}

/** Reads our model folder. */
export async function readModelFolder(dir: string): Promise<ElectraModelFiles> {
  const gen = join(dir, "generator_config.json");
  return decodeModel(
    await readJsonFile(join(dir, "config.json")),
    await Deno.readFile(join(dir, "model.safetensors")),
    (await exists(gen)) ? await readJsonFile(gen) : undefined,
    dir,
  );
}

/** Our model folder → HF folder(s) that `transformers` loads. */
export async function toHf(dir: string, out: string, generatorOut?: string): Promise<void> {
  const model = await readModelFolder(dir);
  const { main, generator } = exportHf(model);
  const write = async (folder: string, files: { configJson: string; safetensors: Uint8Array }) => {
    await Deno.mkdir(folder, { recursive: true });
    await writeFileAtomic(join(folder, "model.safetensors"), files.safetensors);
    await writeFileAtomic(join(folder, "config.json"), files.configJson);
    await copyTokenizer(dir, folder, true);
    if (!(await exists(join(dir, "tokenizer_config.json")))) {
      await writeFileAtomic(
        join(folder, "tokenizer_config.json"),
        pythonJson(tokenizerConfig(model.config.maxPositionEmbeddings)),
      );
    }
    if (!(await exists(join(dir, "special_tokens_map.json")))) {
      await writeFileAtomic(join(folder, "special_tokens_map.json"), pythonJson(SPECIAL_TOKENS_MAP));
    }
  };
  await write(out, main);
  if (generator) await write(generatorOut ?? join(out, "generator"), generator);
}

const USAGE = `Usage:
  deno task export --from-hf DIR [--generator DIR] --out DIR   Hugging Face folder → NERSOTA model folder
  deno task export --to-hf DIR --out DIR [--generator-out DIR]  NERSOTA model folder → Hugging Face folder(s)`;

/** CLI entry point. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "from-hf": { type: "string" },
      "to-hf": { type: "string" },
      generator: { type: "string" },
      "generator-out": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.out || !!values["from-hf"] === !!values["to-hf"]) {
    console.error(USAGE);
    return 2;
  }
  if (values["from-hf"]) {
    const warnings = await fromHf(values["from-hf"], values.out, values.generator);
    for (const w of warnings) console.error(`warning: ${w}`);
    console.log(`Wrote NERSOTA model folder "${values.out}"`);
  } else {
    await toHf(values["to-hf"]!, values.out, values["generator-out"]);
    console.log(`Wrote Hugging Face folder "${values.out}"`);
  }
  return 0;
}

if (import.meta.main) await runMain("export", main);
