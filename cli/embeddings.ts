/**
 * `deno task embeddings`: skip-gram word-piece embeddings trained on pretraining shards (train/pretrain/embeddings.ts),
 * written as an encoder model folder (kind `base`: the trained word embeddings, every other weight random) that
 * `deno task finetune --model` and `deno task probe --encoder` take.
 *
 * ```sh
 * deno task embeddings --data RUNS/shards --vocab RUNS/vocab.txt --config configs/default/model.json --out DIR
 * ```
 * @module
 */
import { join } from "node:path";
import { configFromHf } from "../onnx/electra/config.ts";
import { intFlag, parseFlags, runMain } from "./util.ts";
import { readJsonFile } from "../train/util/fs.ts";
import { writeFileAtomic } from "../train/run/artifacts_io.ts";
import { countTokens, embeddingEncoder, trainSkipGram } from "../train/pretrain/embeddings.ts";
import { writeModelFolder } from "../train/release/hf_folder.ts";
import { openShards } from "../train/pretrain_data/shards.ts";

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
  const config = configFromHf(await readJsonFile(v.config, "model config"), v.config);
  const vocabText = await Deno.readTextFile(v.vocab);
  const tokens = vocabText.split(/\r?\n/);
  if (tokens.at(-1) === "") tokens.pop();
  if (tokens.length > config.vocabSize) {
    throw new Error(
      `"${v.vocab}" has ${tokens.length} tokens, more than the config's vocab_size ${config.vocabSize}`,
    );
  }
  const skip = new Set(tokens.flatMap((t, i) => (/^\[[A-Z]+\]$/.test(t) ? [i] : [])));
  const set = await openShards(v.data);
  const n = v["max-examples"]
    ? Math.min(set.length, intFlag("max-examples", v["max-examples"], 1))
    : set.length;
  const sequences = function* () {
    for (let i = 0; i < n; i++) {
      const e = set.get(i);
      yield e.inputIds.subarray(0, e.length);
    }
  };
  const t0 = performance.now();
  const counts = countTokens(sequences(), config.vocabSize);
  const options = {
    dim: config.embeddingSize,
    epochs: intFlag("epochs", v.epochs!, 1),
    window: intFlag("window", v.window!, 1),
    negatives: intFlag("negatives", v.negatives!, 1),
    learningRate: num("lr", v.lr!),
    subsample: num("subsample", v.subsample!),
    seed: intFlag("seed", v.seed!, 0),
  };
  const vectors = trainSkipGram(sequences, counts, {
    ...options,
    skip,
    onProgress: (done, total) => {
      const s = (performance.now() - t0) / 1000;
      console.error(
        `embeddings: ${(done / 1e6).toFixed(1)}M / ${(total / 1e6).toFixed(1)}M tokens, ${
          Math.round(done / s)
        } tokens/s`,
      );
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const weights = embeddingEncoder(config, vectors, options.seed);
  await writeModelFolder({ kind: "base", config, weights }, v.out);
  await writeFileAtomic(join(v.out, "vocab.txt"), new TextEncoder().encode(vocabText));
  const tokensSeen = counts.reduce((a, c) => a + c, 0);
  const record = { data: v.data, examples: n, tokens: tokensSeen, seconds, options };
  await writeFileAtomic(
    join(v.out, "embeddings.json"),
    new TextEncoder().encode(JSON.stringify(record, null, 2) + "\n"),
  );
  console.log(JSON.stringify(record));
  return 0;
}

if (import.meta.main) await runMain("embeddings", main);
