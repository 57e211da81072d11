/**
 * `deno task pretrain`: ELECTRA replaced-token-detection pretraining on `deno task build-data` shards.
 *
 * ```sh
 * deno task pretrain --data DIR --config configs/small_config.json --out runs/x [--provider cpu|cuda|webgpu]
 *   [--resume] [--steps N] [--batch-size N] [--accumulate N] [--eval-every N] [--save-every N] [--keep N]
 *   [--seed N] [--threads N] [--eval-data DIR] [--vocab FILE] [--device-id N] [--stop-after N] [--stop-at N] [--quiet]
 * ```
 * Command-line values override the config file's `train` section (and are saved with the run, so
 * `--resume` continues under the same settings).
 * @module
 */
import { parseArgs } from "node:util";
import type { Provider } from "../onnx/runtime.ts";
import { pretrain } from "../train/pretrain/pretrain.ts";
import { stopOnSignal } from "../train/run/training_run.ts";
import {
  presetConfig,
  PRESETS,
  readPretrainConfig,
  TRAIN_SETTINGS,
  validateTrainConfig,
  withGenerator,
} from "../train/pretrain/pretrain_config.ts";
import { runMain } from "./util.ts";

const PRESET_NAMES = Object.keys(PRESETS).join(", ");

const USAGE = `Usage: deno task pretrain --data DIR (--config FILE | --preset NAME) --out DIR [options]

  --data DIR          shard folder from \`deno task build-data\` (its vocab.txt is shipped with the model)
  --config FILE       {"model": HF ElectraConfig, "train": {...}} (see configs/)
  --preset NAME       a config of configs/ by name: ${PRESET_NAMES} (tiny and debug: the tiny model)
  --out DIR           run folder: metrics.jsonl, checkpoints/, model/, discriminator/ (HF), generator/ (HF)
  --provider NAME     cpu (default) | cuda | webgpu
  --device-id N       CUDA device (ONNX Runtime CUDA EP option deviceId)
  --resume            continue from the newest valid checkpoint in OUT/checkpoints (same data and settings)
  --clear             start a new run in an OUT that holds an older one, deleting it (else refused)
  --threads N         intra-op threads
  --eval-data DIR     held-out shards (default: a seeded share of --data)
  --vocab FILE        vocab.txt (default: DATA/vocab.txt)
  --stop-after N      end this invocation after N updates (checkpointed; --resume continues the schedule)
  --stop-at N         end the run at update N of the schedule as if it were the last (checkpoint, eval, model
                      folders): a model taken partway through a longer schedule
  --quiet             no progress on the terminal

Training (flags override the config's "train" section; defaults: ELECTRA-small's recipe):
${TRAIN_SETTINGS.usage("Only in the config file:")}`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: "string" },
      config: { type: "string" },
      preset: { type: "string" },
      out: { type: "string" },
      provider: { type: "string", default: "cpu" },
      "device-id": { type: "string" },
      resume: { type: "boolean", default: false },
      clear: { type: "boolean", default: false },
      ...TRAIN_SETTINGS.parseArgsOptions(),
      threads: { type: "string" },
      "eval-data": { type: "string" },
      vocab: { type: "string" },
      quiet: { type: "boolean", default: false },
      "stop-after": { type: "string" },
      "stop-at": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.data || !values.out || (!values.config && !values.preset)) {
    console.error(USAGE);
    return 2;
  }
  const provider = values.provider as Provider;
  if (!["cpu", "cuda", "webgpu"].includes(provider)) {
    throw new Error(`--provider must be cpu, cuda or webgpu, got "${provider}"`);
  }
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
    }
    return n;
  };
  const overrides = TRAIN_SETTINGS.fromFlags(values);
  let config = values.config ? await readPretrainConfig(values.config) : await presetConfig(values.preset!);
  const train = { ...config.train, ...overrides };
  validateTrainConfig(train, values.config ?? `preset ${values.preset}`);
  config = withGenerator(config.model, train, values.config);
  const deviceId = int("device-id", values["device-id"]);
  const result = await pretrain({
    config,
    data: values.data,
    evalData: values["eval-data"],
    out: values.out,
    vocab: values.vocab,
    provider,
    threads: int("threads", values.threads),
    cuda: deviceId !== undefined ? { deviceId } : undefined,
    resume: values.resume,
    clear: values.clear,
    given: overrides,
    quiet: values.quiet,
    stopAfter: int("stop-after", values["stop-after"]),
    stopAt: int("stop-at", values["stop-at"]),
    signal: stopOnSignal("pretrain"),
    saveOnStop: true,
  });
  console.log(
    `pretrain: ${result.step} updates, ${
      Math.round(result.tokensPerSecond)
    } tokens/s; output in "${values.out}"`,
  );
  return 0;
}

if (import.meta.main) await runMain("pretrain", main);
