import assert from "node:assert/strict";
import { main } from "../../cli/embeddings.ts";

Deno.test("deno task embeddings: --help, the required flags exit 2, a bad number is named", async () => {
  const log = console.log, error = console.error;
  let out = "", err = "";
  console.log = (m: string) => void (out += m + "\n");
  console.error = (m: string) => void (err += m + "\n");
  try {
    assert.equal(await main(["--help"]), 0);
    assert.match(out, /^Usage: deno task embeddings --data SHARDS/);
    assert.equal(await main(["--data", "x", "--vocab", "v.txt"]), 2);
    assert.match(err, /^embeddings: --data, --vocab, --config and --out are required\n\nUsage:/);
    const all = ["--data", "x", "--vocab", "v.txt", "--config", "c.json", "--out", "o"];
    await assert.rejects(main([...all, "--lr=-1"]), /--lr must be a number ≥ 0, got "-1"/);
    await assert.rejects(main([...all, "--window", "0"]), /--window must be an integer ≥ 1, got "0"/);
  } finally {
    console.log = log;
    console.error = error;
  }
});
