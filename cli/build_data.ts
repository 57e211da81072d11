/**
 * `deno task build-data --corpus DIR|FILE [--corpus …] --vocab vocab.txt --max-seq-length 128 --out DIR`:
 * cleans a corpus and writes ELECTRA pretraining examples as binary shards with an `index.json`.
 * @module
 */

import { intFlag as int, parseFlags, usageError } from "./util.ts";
import { parseFormat } from "../train/corpus/corpus.ts";
import { buildPretrainingData } from "../train/pretrain_data/build_data.ts";
import { refuseOverwrite } from "../train/util/fs.ts";

const USAGE =
  `Usage: deno task build-data --corpus DIR|FILE [--corpus ...] --vocab vocab.txt --out DIR [options]

  --corpus PATH          corpus file or folder (.txt/.tsv/.csv, recursive); repeatable, or give paths as arguments
  --vocab FILE           WordPiece vocab.txt (required)
  --out DIR              output folder for shard-NNNNN.bin + index.json + vocab.txt (required)
  --max-seq-length N     tokens per example incl. [CLS]/[SEP] (default 128)
  --num-processes N      worker threads (default: number of CPUs); the output does not depend on it
  --seed N               random seed (default 42)
  --chunk-lines N        cleaned lines per shard (default 20000; changes the output)
  --format F             text | pipe-label | label-tsv | label-label-tsv | csv:COL[,COL] (default: by file name)
  --max-line-chars N     drop longer lines (default 2000)
  --keep-duplicates      do not drop repeated lines
  --quiet                no progress`;

/** Parses arguments and builds the shards; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const opts = parseFlags(USAGE, {
    args,
    allowPositionals: true,
    options: {
      corpus: { type: "string", multiple: true },
      vocab: { type: "string" },
      out: { type: "string" },
      "max-seq-length": { type: "string", default: "128" },
      "num-processes": { type: "string", default: String(navigator.hardwareConcurrency ?? 1) },
      seed: { type: "string", default: "42" },
      "chunk-lines": { type: "string", default: "20000" },
      format: { type: "string" },
      "max-line-chars": { type: "string", default: "2000" },
      "keep-duplicates": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (opts === 2) return 2;
  const v = opts.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const fail = (msg: string) => usageError(USAGE, msg);
  const corpus = [...(v.corpus ?? []), ...opts.positionals];
  if (corpus.length === 0) return fail("--corpus is required");
  if (!v.vocab) return fail("--vocab is required");
  if (!v.out) return fail("--out is required");
  let vocabText: string;
  let parsed;
  try {
    parsed = {
      maxSeqLength: int("max-seq-length", v["max-seq-length"], 5),
      numProcesses: int("num-processes", v["num-processes"], 1),
      seed: int("seed", v.seed, 0),
      chunkLines: int("chunk-lines", v["chunk-lines"], 1),
      maxLineChars: int("max-line-chars", v["max-line-chars"], 1),
      format: v.format ? parseFormat(v.format) : undefined,
    };
    vocabText = await Deno.readTextFile(v.vocab).catch((e) => {
      throw new Error(`Cannot read vocabulary "${v.vocab}": ${e.message}`);
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  await refuseOverwrite({ "--out": v.out }, { "--corpus": corpus });
  try {
    const summary = await buildPretrainingData({
      corpus,
      vocabText,
      outDir: v.out,
      dedupe: !v["keep-duplicates"],
      log: v.quiet ? undefined : (s) => console.error(s),
      ...parsed,
    });
    console.log(JSON.stringify({ out: v.out, ...summary }));
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
