/**
 * A pretraining checkpoint (`deno task pretrain`'s `checkpoints/step-N.safetensors`: weights, Adam moments and
 * the run's config) read back as a model, and written as a model folder a user can fine-tune from or share:
 * `deno task export --from-checkpoint`.
 * @module
 */
import { join } from "node:path";
import { decodeCheckpoint } from "../../onnx/checkpoint.ts";
import { narrowToFloat16 } from "../../onnx/electra/hf.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { toHf, writeModelFolder } from "../release/hf_folder.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { type PretrainConfig, pretrainConfigFromJson } from "./pretrain_config.ts";

/** What a pretraining checkpoint holds besides the optimizer state. */
export interface PretrainCheckpoint {
  /** The run's pretraining config (model, generator, objective, schedule). */
  config: PretrainConfig;
  /** Every parameter by graph name: encoder and pretraining heads. */
  params: Record<string, Tensor>;
  /** Updates applied up to the checkpoint. */
  step: number;
}

/** Reads a pretraining checkpoint; refuses a fine-tuning one or any other safetensors file. */
export async function readPretrainCheckpoint(path: string): Promise<PretrainCheckpoint> {
  const state = await decodeCheckpoint(await Deno.readFile(path), path);
  const run = state.config as { format?: string; config?: unknown } | null;
  if (run?.format !== "nersota-pretrain/1") {
    throw new Error(`"${path}" is not a pretraining checkpoint (its run state format is "${run?.format}")`);
  }
  const config = pretrainConfigFromJson(run.config, `${path} (saved config)`);
  return { config, params: state.params, step: state.step };
}

/** Options of {@link checkpointToFolder}. */
export interface CheckpointFolderOptions {
  /** The pretraining checkpoint file. */
  checkpoint: string;
  /** The run's vocab.txt (a checkpoint does not hold it). */
  vocab: string;
  /** The model folder to write (config.json, model.safetensors, vocab.txt). */
  out: string;
  /** Store the weights as float16 (half the size; read back widened to float32). */
  float16?: boolean;
  /** Also write the Hugging Face folder here (float32: transformers' default dtype). */
  hfOut?: string;
}

/**
 * Writes a pretraining checkpoint's model as our model folder: a masked LM (kind "masked-lm") or an ELECTRA
 * discriminator with its generator (kind "pretraining"), heads included, so `--model OUT` fine-tunes its encoder.
 * @example
 * ```ts ignore
 * await checkpointToFolder({ checkpoint: "run/checkpoints/step-00001200.safetensors", vocab: "vocab.txt",
 *   out: "encoder", float16: true });
 * ```
 */
export async function checkpointToFolder(o: CheckpointFolderOptions): Promise<PretrainCheckpoint> {
  const ckpt = await readPretrainCheckpoint(o.checkpoint);
  await writePretrainFolder(o.out, ckpt.config, o.float16 ? narrowToFloat16(ckpt.params) : ckpt.params);
  await writeFileAtomic(join(o.out, "vocab.txt"), await Deno.readFile(o.vocab));
  if (o.hfOut) await toHf(o.out, o.hfOut);
  return ckpt;
}

/** Writes a pretraining model as our model folder: masked LM, or discriminator with its generator, by objective. */
export async function writePretrainFolder(
  dir: string,
  cfg: PretrainConfig,
  weights: Record<string, Tensor>,
): Promise<void> {
  await writeModelFolder(
    cfg.train.objective === "mlm"
      ? { kind: "masked-lm", config: cfg.model, weights }
      : { kind: "pretraining", config: cfg.model, generator: cfg.generator, weights },
    dir,
  );
}
