/**
 * `deno task export`: converts between Hugging Face ELECTRA folders and NERSOTA model folders.
 *
 * ```sh
 * deno task export --from-hf DIR [--generator DIR] --out DIR   # HF → ours (DIR/generator is used when present)
 * deno task export --to-hf DIR --out DIR [--generator-out DIR]  # ours → HF (generator: OUT/generator by default)
 * deno task export --from-checkpoint FILE --vocab FILE --out DIR [--float16] [--hf DIR]  # pretraining checkpoint → ours
 * ```
 * The conversions themselves are `train/release/hf_folder.ts` and `train/pretrain/checkpoint_folder.ts`.
 * @module
 */
import { parseArgs } from "node:util";
import { refuseOverwrite } from "../train/util/fs.ts";
import { fromHf, toHf } from "../train/release/hf_folder.ts";
import { checkpointToFolder } from "../train/pretrain/checkpoint_folder.ts";
import { runMain } from "./util.ts";

const USAGE = `Usage:
  deno task export --from-hf DIR [--generator DIR] --out DIR   Hugging Face folder → NERSOTA model folder
  deno task export --to-hf DIR --out DIR [--generator-out DIR]  NERSOTA model folder → Hugging Face folder(s)
  deno task export --from-checkpoint FILE --vocab FILE --out DIR [--float16] [--hf DIR]
                                  pretraining checkpoint (RUN/checkpoints/step-N.safetensors) → NERSOTA model
                                  folder (masked LM, or discriminator + generator), float16 weights with
                                  --float16, and its Hugging Face folder with --hf`;

/** CLI entry point. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "from-hf": { type: "string" },
      "to-hf": { type: "string" },
      generator: { type: "string" },
      "generator-out": { type: "string" },
      "from-checkpoint": { type: "string" },
      vocab: { type: "string" },
      float16: { type: "boolean" },
      hf: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const modes = [values["from-hf"], values["to-hf"], values["from-checkpoint"]].filter((m) =>
    m !== undefined
  );
  if (!values.out || modes.length !== 1 || (values["from-checkpoint"] !== undefined) !== !!values.vocab) {
    console.error(USAGE);
    return 2;
  }
  await refuseOverwrite({ "--out": values.out, "--hf": values.hf }, {
    "--from-hf": values["from-hf"],
    "--to-hf": values["to-hf"],
    "--from-checkpoint": values["from-checkpoint"],
    "--vocab": values.vocab,
  });
  if (values["from-checkpoint"]) {
    const { config, step } = await checkpointToFolder({
      checkpoint: values["from-checkpoint"],
      vocab: values.vocab!,
      out: values.out,
      float16: values.float16,
      hfOut: values.hf,
    });
    const what = config.train.objective === "mlm" ? "masked LM" : "ELECTRA discriminator + generator";
    console.log(`Wrote NERSOTA model folder "${values.out}" (${what}, update ${step})`);
    if (values.hf) console.log(`Wrote Hugging Face folder "${values.hf}"`);
  } else if (values["from-hf"]) {
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
