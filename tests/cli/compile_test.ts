// The compiled binary's startup path and `deno task compile`'s checks, without `deno compile` (which needs
// denort from the network).
import assert from "node:assert/strict";
import { main as compile } from "../../cli/compile.ts";
import { prepare } from "../../cli/compiled_main.ts";
import { main } from "../../cli/ner.ts";
import { SENTENCES } from "../infer/ner_fixture.ts";
import { staged } from "../train/release/staged_bundle.ts";

Deno.test("compiled_main prepare(): the binary's startup path recognises with the embedded model", async () => {
  const s = await staged();
  try {
    const p = await prepare(s.stage, s.cache);
    assert.equal(p.provider, "cpu");
    assert.equal(p.notice, undefined);
    let out = "";
    const code = await main([SENTENCES[0]], { stdout: (x) => void (out += x), stderr: () => {} }, {
      model: p.model,
      provider: p.provider,
      ort: p.ort,
    });
    assert.equal(code, 0);
    assert.ok(JSON.parse(out).entities.length > 0);
  } finally {
    await Deno.remove(s.tmp, { recursive: true });
  }
});

Deno.test("deno task compile refuses an unknown flag before it stages anything", async () => {
  await assert.rejects(compile(["--bogus"]), /Unknown option '--bogus'/);
});
