import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initParams } from "../../../onnx/electra/init.ts";
import { buildPretrainingData } from "../../../train/pretrain_data/build_data.ts";
import { writeEmbeddingFolder } from "../../../train/pretrain/embeddings_folder.ts";
import { loadStartModel } from "../../../train/finetune/start_model.ts";

Deno.test("writeEmbeddingFolder() writes an encoder folder that fine-tuning starts from", async () => {
  const fixture = (n: string) => fileURLToPath(new URL(`../../../fixtures/pretrain/${n}`, import.meta.url));
  const tmp = await Deno.makeTempDir({ prefix: "nersota-emb-" });
  try {
    await buildPretrainingData({
      corpus: [fixture("corpus.txt")],
      vocabText: await Deno.readTextFile(fixture("vocab.txt")),
      outDir: join(tmp, "shards"),
      maxSeqLength: 32,
      seed: 1,
    });
    const config = fileURLToPath(new URL("../../../configs/tiny_config.json", import.meta.url));
    const model = join(tmp, "model.json");
    await Deno.writeTextFile(model, JSON.stringify(JSON.parse(await Deno.readTextFile(config)).model));
    const out = join(tmp, "emb");
    const settings = { epochs: 1, window: 2, negatives: 5, learningRate: 0.025, subsample: 1e-4, seed: 0 };
    const r = await writeEmbeddingFolder({
      data: join(tmp, "shards"),
      vocab: fixture("vocab.txt"),
      config: model,
      out,
      ...settings,
    });
    const start = await loadStartModel({ kind: "folder", dir: out });
    assert.equal(start.kind, "base");
    assert.equal(start.vocab, await Deno.readTextFile(fixture("vocab.txt")));
    const word = start.weights["electra.embeddings.word_embeddings.weight"].data as Float32Array;
    const fresh = initParams({ seed: 0, std: 0.02, padTokenId: 0 })(
      "electra.embeddings.word_embeddings.weight",
      [128, 16],
      "embedding",
    );
    assert.notDeepEqual(word, fresh.data);
    const record = JSON.parse(await Deno.readTextFile(join(out, "embeddings.json")));
    assert.ok(record.tokens > 1000);
    assert.deepEqual(record, { ...r, options: { dim: 16, ...settings } });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
