/**
 * `deno task vocab --corpus DIR|FILE [--corpus …] --size 35000 --out vocab.txt`: trains a WordPiece
 * vocabulary on corpus files, streaming them with progress, and writes it atomically.
 * @module
 */

import { intFlag as int, parseFlags, usageError } from "./util.ts";
import { refuseOverwrite, writeFileAtomic } from "../train/util/fs.ts";
import {
  type CorpusFormat,
  issuePrinter,
  LineCleaner,
  listCorpusFiles,
  parseFormat,
  readCorpusFile,
} from "../train/corpus/corpus.ts";
import { trainWordPiece, vocabToText, WordCounter } from "../train/corpus/vocab.ts";
import { WordPieceTokenizer } from "../infer/tokenizer.ts";

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

  const log = v.quiet ? () => {} : (s: string) => console.error(s);
  const t0 = performance.now();
  const counter = new WordCounter(maxWords);
  const cleaner = new LineCleaner({ dedupe: true });
  const issues = issuePrinter();
  let lastLog = 0;
  let bytesDone = 0;
  const totalBytes = (await Promise.all(files.map((f) => Deno.stat(f)))).reduce((s, i) => s + i.size, 0);
  for (const file of files) {
    let fileBytes = 0;
    for await (
      const item of readCorpusFile(file, { format, onIssue: issues.onIssue, onBytes: (b) => fileBytes = b })
    ) {
      const line = cleaner.clean(item.text);
      if (line) counter.add(line);
      const now = performance.now();
      if (now - lastLog > 2000) {
        lastLog = now;
        const done = bytesDone + fileBytes;
        log(
          `counting: ${(done / 2 ** 20).toFixed(1)}/${(totalBytes / 2 ** 20).toFixed(1)} MiB, ` +
            `${cleaner.stats.kept} lines, ${counter.counts.size} distinct words, ` +
            `${((now - t0) / 1000).toFixed(0)} s, rss ${rssMiB()} MiB`,
        );
      }
    }
    bytesDone += fileBytes;
  }
  const tCount = performance.now();
  const s = cleaner.stats;
  log(
    `counted ${counter.counts.size} distinct words in ${s.kept} lines (${s.duplicate} duplicate, ${s.empty} empty, ` +
      `${s.tooLong} too long skipped; ${counter.pruned} rare words pruned) in ${
        ((tCount - t0) / 1000).toFixed(1)
      } s`,
  );
  const tokens = trainWordPiece(counter.counts, {
    vocabSize: size,
    minFrequency,
    limitAlphabet,
    unused,
    onMergeProgress: (done, total) => {
      const el = (performance.now() - tCount) / 1000;
      const eta = done > 0 ? (el / done) * (total - done) : 0;
      log(
        `merging: ${done}/${total} merges, ${el.toFixed(0)} s, eta ${eta.toFixed(0)} s, rss ${rssMiB()} MiB`,
      );
    },
  });
  await writeFileAtomic(v.out, vocabToText(tokens));
  if (v["tokenizer-json"]) {
    const tok = WordPieceTokenizer.fromVocab(vocabToText(tokens));
    await writeFileAtomic(v["tokenizer-json"], JSON.stringify(tok.toTokenizerJson(), null, 2) + "\n");
  }
  const total = (performance.now() - t0) / 1000;
  const summary = {
    out: v.out,
    vocabSize: tokens.length,
    files: files.length,
    lines: s.kept,
    distinctWords: counter.counts.size,
    seconds: Number(total.toFixed(1)),
    peakRssMiB: rssMiB(),
  };
  console.log(JSON.stringify(summary));
  if (tokens.length < size) {
    console.error(
      `note: the corpus yielded only ${tokens.length} tokens (no pair left with count ≥ ${minFrequency})`,
    );
  }
  return 0;
}

function rssMiB(): number {
  return Math.round(Deno.memoryUsage().rss / 2 ** 20);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
