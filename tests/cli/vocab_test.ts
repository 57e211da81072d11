import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/vocab.ts";

const corpusDir = fileURLToPath(new URL("../../fixtures/tokenizer/corpus/", import.meta.url));

Deno.test("vocab CLI: the flags reach the files; bad flags exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const log = console.log, error = console.error;
  let out = "", err = "";
  console.log = (m: string) => void (out += m + "\n");
  console.error = (m: string) => void (err += m + "\n");
  try {
    const vocab = `${dir}/vocab.txt`;
    const args = ["--size", "200", "--min-frequency", "1", "--out", vocab, "--quiet"];
    assert.equal(await main(["--corpus", corpusDir, ...args]), 0);
    assert.equal((await Deno.readTextFile(vocab)).split("\n").length - 1, 200);
    assert.deepEqual(Object.keys(JSON.parse(out)), [
      "out",
      "vocabSize",
      "files",
      "lines",
      "distinctWords",
      "seconds",
      "peakRssMiB",
    ]);
    // Corpus paths as arguments; a size the corpus cannot fill is noted.
    out = "";
    assert.equal(await main([corpusDir, "--out", vocab, "--size", "5000", "--quiet"]), 0);
    assert.match(err, /note: the corpus yielded only \d+ tokens \(no pair left with count ≥ 2\)/);
    assert.equal(await main(["--out", vocab]), 2);
    assert.equal(await main(["--corpus", corpusDir, "--out", vocab, "--size", "abc"]), 2);
    assert.equal(await main(["--help"]), 0);
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
});
