import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { buildVocabFiles } from "../../../train/corpus/vocab_files.ts";
import { listCorpusFiles } from "../../../train/corpus/corpus.ts";
import { WordPieceTokenizer } from "../../../infer/tokenizer.ts";

const corpusDir = fileURLToPath(new URL("../../../fixtures/tokenizer/corpus/", import.meta.url));

Deno.test("buildVocabFiles() writes vocab.txt and tokenizer.json atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/sub/vocab.txt`;
    const json = `${dir}/tokenizer.json`;
    const files = await listCorpusFiles([corpusDir]);
    const logged: string[] = [];
    const summary = await buildVocabFiles({
      files,
      out,
      tokenizerJson: json,
      size: 200,
      minFrequency: 1,
      limitAlphabet: 6000,
      unused: 0,
      maxWords: 4_000_000,
      log: (m) => logged.push(m),
    });
    const text = await Deno.readTextFile(out);
    assert.equal(text.split("\n").length - 1, 200);
    assert.deepEqual([summary.out, summary.vocabSize, summary.files], [out, 200, files.length]);
    assert.ok(summary.lines > 0 && summary.distinctWords > 0);
    assert.match(logged.join("\n"), /^counted \d+ distinct words in \d+ lines/m);
    const fromJson = WordPieceTokenizer.fromTokenizerJson(await Deno.readTextFile(json));
    assert.equal(fromJson.toVocabTxt(), text);
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["vocab.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
