/**
 * `deno task export`: converts between Hugging Face ELECTRA folders and NERSOTA model folders.
 *
 * ```sh
 * deno task export --from-hf DIR [--generator DIR] --out DIR   # HF → ours (DIR/generator is used when present)
 * deno task export --to-hf DIR --out DIR [--generator-out DIR]  # ours → HF (generator: OUT/generator by default)
 * ```
 * The conversion itself is `train/release/hf_folder.ts`.
 * @module
 */
import { parseArgs } from "node:util";
import { refuseOverwrite } from "../train/util/fs.ts";
import { fromHf, toHf } from "../train/release/hf_folder.ts";
import { runMain } from "./util.ts";

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
  await refuseOverwrite({ "--out": values.out }, {
    "--from-hf": values["from-hf"],
    "--to-hf": values["to-hf"],
  });
  if (values["from-hf"]) {
    const warnings = await fromHf(values["from-hf"], values.out, values.generator);
    for (const w of warnings) console.error(`warning: ${w}`);
    console.log(`Wrote NERSOTA model folder "${values.out}"`);
  } else {
    for (const n of await toHf(values["to-hf"]!, values.out, values["generator-out"])) {
      console.error(`notice: ${n}`);
    }
    console.log(`Wrote Hugging Face folder "${values.out}"`);
  }
  return 0;
}

if (import.meta.main) await runMain("export", main);
