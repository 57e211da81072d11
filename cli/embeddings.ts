/**
 * `deno task embeddings`: skip-gram word-piece embeddings trained on pretraining shards, written as an encoder
 * model folder (kind `base`: the trained word embeddings, every other weight random) that
 * `deno task finetune --model` and `deno task probe --encoder` take (train/pretrain/embeddings_folder.ts).
 *
 * ```sh
 * deno task embeddings --data RUNS/shards --vocab RUNS/vocab.txt --config configs/default/model.json --out DIR
 * ```
 * @module
 */
import { intFlag, parseFlags, runMain } from "./util.ts";
import { writeEmbeddingFolder } from "../train/pretrain/embeddings_folder.ts";

const USAGE =
  `Usage: deno task embeddings --data SHARDS --vocab vocab.txt --config model.json --out DIR [options]

  --data DIR          pretraining shards (deno task build-data)
  --vocab FILE        the shards' vocabulary (shipped in the folder; [..] tokens are not trained)
  --config FILE       HF config.json of the encoder (embedding_size is the vector width)
  --out DIR           model folder: config.json, model.safetensors, vocab.txt, embeddings.json (the run's record)
  --epochs N (1)  --window N (5)  --negatives N (5)  --lr X (0.025)  --subsample X (1e-4)  --seed N (0)
  --max-examples N    train on the first N examples only`;

/** CLI entry point; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseFlags(USAGE, {
    args,
    strict: true,
    options: {
      data: { type: "string" },
      vocab: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
      epochs: { type: "string", default: "1" },
      window: { type: "string", default: "5" },
      negatives: { type: "string", default: "5" },
      lr: { type: "string", default: "0.025" },
      subsample: { type: "string", default: "1e-4" },
      seed: { type: "string", default: "0" },
      "max-examples": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (parsed === 2) return 2;
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (!v.data || !v.vocab || !v.config || !v.out) {
    console.error(`embeddings: --data, --vocab, --config and --out are required\n\n${USAGE}`);
    return 2;
  }
  const num = (flag: string, value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} must be a number ≥ 0, got "${value}"`);
    return n;
  };
  const record = await writeEmbeddingFolder({
    data: v.data,
    vocab: v.vocab,
    config: v.config,
    out: v.out,
    maxExamples: v["max-examples"] ? intFlag("max-examples", v["max-examples"], 1) : undefined,
    epochs: intFlag("epochs", v.epochs!, 1),
    window: intFlag("window", v.window!, 1),
    negatives: intFlag("negatives", v.negatives!, 1),
    learningRate: num("lr", v.lr!),
    subsample: num("subsample", v.subsample!),
    seed: intFlag("seed", v.seed!, 0),
    log: (m) => console.error(`embeddings: ${m}`),
  });
  console.log(JSON.stringify(record));
  return 0;
}

if (import.meta.main) await runMain("embeddings", main);
