/**
 * `deno task vocab --corpus DIR|FILE [--corpus …] --size 35000 --out vocab.txt`: trains a WordPiece
 * vocabulary on corpus files, streaming them with progress, and writes it atomically
 * (train/corpus/vocab_files.ts).
 * @module
 */

import { intFlag as int, parseFlags, usageError } from "./util.ts";
import { refuseOverwrite } from "../train/util/fs.ts";
import { type CorpusFormat, listCorpusFiles, parseFormat } from "../train/corpus/corpus.ts";
import { buildVocabFiles } from "../train/corpus/vocab_files.ts";

const USAGE = `Usage: deno task vocab --corpus DIR|FILE [--corpus DIR|FILE ...] --out vocab.txt [options]

  --corpus PATH          corpus file or folder (.txt/.tsv/.csv, recursive); repeatable, or give paths as arguments
  --out FILE             where to write vocab.txt (required)
  --size N               vocabulary size incl. special tokens (default 35000)
  --min-frequency N      smallest pair count that may be merged (default 2)
  --limit-alphabet N     keep the N most frequent characters (default 6000)
  --unused N             [unusedN] placeholders after the special tokens (default 0)
  --format F             text | pipe-label | label-tsv | label-label-tsv | csv:COL[,COL] (default: by file name)
  --max-words N          distinct words kept in memory before pruning rare ones (default 4000000)
  --tokenizer-json FILE  also write a Hugging Face tokenizer.json
  --quiet                no progress`;

/** Parses arguments, trains, writes; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const opts = parseFlags(USAGE, {
    args,
    allowPositionals: true,
    options: {
      corpus: { type: "string", multiple: true },
      out: { type: "string" },
      size: { type: "string", default: "35000" },
      "min-frequency": { type: "string", default: "2" },
      "limit-alphabet": { type: "string", default: "6000" },
      unused: { type: "string", default: "0" },
      format: { type: "string" },
      "max-words": { type: "string", default: "4000000" },
      "tokenizer-json": { type: "string" },
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
  const corpus = [...(v.corpus ?? []), ...opts.positionals];
  const fail = (msg: string) => usageError(USAGE, msg);
  if (corpus.length === 0) return fail("--corpus is required");
  if (!v.out) return fail("--out is required");
  let size, minFrequency, limitAlphabet, unused, maxWords, format: CorpusFormat | undefined, files: string[];
  try {
    size = int("size", v.size, 6);
    minFrequency = int("min-frequency", v["min-frequency"], 1);
    limitAlphabet = int("limit-alphabet", v["limit-alphabet"], 1);
    unused = int("unused", v.unused, 0);
    maxWords = int("max-words", v["max-words"], 1000);
    format = v.format ? parseFormat(v.format) : undefined;
    files = await listCorpusFiles(corpus);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (files.length === 0) return fail(`no .txt/.tsv/.csv files under ${corpus.join(", ")}`);
  await refuseOverwrite({ "--out": v.out, "--tokenizer-json": v["tokenizer-json"] }, { "--corpus": files });

  const summary = await buildVocabFiles({
    files,
    format,
    out: v.out,
    tokenizerJson: v["tokenizer-json"],
    size,
    minFrequency,
    limitAlphabet,
    unused,
    maxWords,
    log: v.quiet ? () => {} : (s: string) => console.error(s),
  });
  console.log(JSON.stringify(summary));
  if (summary.vocabSize < size) {
    console.error(
      `note: the corpus yielded only ${summary.vocabSize} tokens (no pair left with count ≥ ${minFrequency})`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
