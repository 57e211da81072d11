/**
 * `deno task vocab` as a function: corpus files streamed and cleaned into word counts (with progress), a
 * WordPiece vocabulary trained on them (vocab.ts) and written atomically, as vocab.txt and optionally as a
 * Hugging Face tokenizer.json.
 * @module
 */
import { WordPieceTokenizer } from "../../infer/tokenizer.ts";
import { writeFileAtomic } from "../util/fs.ts";
import { type CorpusFormat, issuePrinter, LineCleaner, readCorpusFile } from "./corpus.ts";
import { trainWordPiece, type VocabOptions, vocabToText, WordCounter } from "./vocab.ts";

/** The corpus, the outputs and the trainer's settings of `buildVocabFiles`. */
export interface VocabFilesOptions
  extends Required<Pick<VocabOptions, "minFrequency" | "limitAlphabet" | "unused">> {
  /** Corpus files (`listCorpusFiles`), in order. */
  files: readonly string[];
  /** Layout of every file; by file name when absent. */
  format?: CorpusFormat;
  /** Where vocab.txt goes. */
  out: string;
  /** Also write a Hugging Face tokenizer.json here. */
  tokenizerJson?: string;
  /** Vocabulary size, special tokens included. */
  size: number;
  /** Distinct words kept in memory before rare ones are pruned. */
  maxWords: number;
  /** Progress lines (counting every 2 s, then each merge report). */
  log: (message: string) => void;
}

/** What `buildVocabFiles` read and wrote. */
export interface VocabSummary {
  out: string;
  /** Tokens written (fewer than asked when no pair is left with enough count). */
  vocabSize: number;
  files: number;
  lines: number;
  distinctWords: number;
  seconds: number;
  peakRssMiB: number;
}

/** The resident set size of this process in MiB. */
function rssMiB(): number {
  return Math.round(Deno.memoryUsage().rss / 2 ** 20);
}

/** Counts the words of `o.files`, trains the vocabulary and writes it (and tokenizer.json); returns the summary. */
export async function buildVocabFiles(o: VocabFilesOptions): Promise<VocabSummary> {
  const { files, format, log } = o;
  const t0 = performance.now();
  const counter = new WordCounter(o.maxWords);
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
    vocabSize: o.size,
    minFrequency: o.minFrequency,
    limitAlphabet: o.limitAlphabet,
    unused: o.unused,
    onMergeProgress: (done, total) => {
      const el = (performance.now() - tCount) / 1000;
      const eta = done > 0 ? (el / done) * (total - done) : 0;
      log(
        `merging: ${done}/${total} merges, ${el.toFixed(0)} s, eta ${eta.toFixed(0)} s, rss ${rssMiB()} MiB`,
      );
    },
  });
  await writeFileAtomic(o.out, vocabToText(tokens));
  if (o.tokenizerJson) {
    const tok = WordPieceTokenizer.fromVocab(vocabToText(tokens));
    await writeFileAtomic(o.tokenizerJson, JSON.stringify(tok.toTokenizerJson(), null, 2) + "\n");
  }
  const total = (performance.now() - t0) / 1000;
  return {
    out: o.out,
    vocabSize: tokens.length,
    files: files.length,
    lines: s.kept,
    distinctWords: counter.counts.size,
    seconds: Number(total.toFixed(1)),
    peakRssMiB: rssMiB(),
  };
}
