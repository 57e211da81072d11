/**
 * `deno task export --to-hf` writes a folder that transformers.js (the `@huggingface/transformers` npm
 * package) loads from local files alone: its tokenizer gives our token ids, and its token-classification
 * pipeline gives, token by token, the labels our pipeline's argmax gives, emoji and all.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRecognizer } from "../../../infer/pipeline.ts";
import { WordPieceTokenizer } from "../../../infer/tokenizer.ts";
import { main as exportMain } from "../../../cli/export.ts";
import { FIXTURE, SENTENCES } from "../../infer/ner_fixture.ts";
import { normalizeForModel } from "../../../infer/normalize.ts";

const TEXTS = [
  ...SENTENCES,
  "😀민수랑😀 부산에서 만났어 😀😀😀 ㅋㅋㅋ",
  "Ｆｕｌｌ width ＡＢＣ, café naïve 東京 中文字 ㄱㄴㄷ 가\u0301",
  "tab\there\u200bzero-width\u00a0nbsp \u0007bell 🇰🇷 👍🏽 x".repeat(2),
  "카".repeat(120) + " 민수",
];

async function exported(): Promise<{ dir: string; hf: string }> {
  const dir = await Deno.makeTempDir({ prefix: "nersota-tjs-" });
  const log = console.log, err = console.error;
  console.log = console.error = () => {};
  try {
    assert.equal(await exportMain(["--to-hf", fileURLToPath(FIXTURE), "--out", join(dir, "hf")]), 0);
  } finally {
    console.log = log;
    console.error = err;
  }
  return { dir, hf: join(dir, "hf") };
}

// sanitize*: transformers.js keeps its ONNX Runtime sessions and caches for the process's lifetime.
Deno.test({
  name: "transformers.js loads an exported folder locally; tokens and per-token labels equal ours",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { dir, hf } = await exported();
    try {
      const { env, AutoTokenizer, pipeline } = await import("npm:@huggingface/transformers@4.3.2");
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = dir + "/";
      const theirs = await AutoTokenizer.from_pretrained("hf");
      const ours = WordPieceTokenizer.fromTokenizerJson(await Deno.readTextFile(join(hf, "tokenizer.json")));
      const fromVocab = WordPieceTokenizer.fromVocab(await Deno.readTextFile(join(hf, "vocab.txt")));
      for (const text of TEXTS) {
        const want = ours.encode(text).ids;
        assert.deepEqual(
          Array.from(fromVocab.encode(text).ids),
          Array.from(want),
          `tokenizer.json ≠ vocab.txt: ${text}`,
        );
        const got = (theirs(text).input_ids.tolist() as bigint[][])[0].map(Number);
        assert.deepEqual(got, Array.from(want), `transformers.js tokenizer on ${JSON.stringify(text)}`);
      }

      const special = new Set(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map((t) => ours.tokenToId(t)));
      const ner = await loadRecognizer(FIXTURE, { provider: "cpu" });
      const classify = await pipeline("token-classification", "hf", { dtype: "fp32" });
      let compared = 0;
      for (const text of TEXTS.slice(0, -1)) {
        const [mine] = await ner.predictTokens([text]);
        // Our pipeline reads the text NFC-normalised with full-width ASCII folded (infer/normalize.ts); give
        // transformers.js that text, so that both see the same tokens.
        const theirsOut = await classify(normalizeForModel(text)?.text ?? text, { ignore_labels: [] }) as {
          entity: string;
          index: number;
        }[];
        // transformers.js leaves out special tokens ([CLS], [SEP], [UNK]); every other token is compared.
        const expected = mine.ids.map((id, i) => ({ index: i, entity: ner.labels[id] }))
          .filter((t) => !special.has(mine.encoding.ids[t.index]));
        assert.deepEqual(
          theirsOut.map((t) => [t.index, t.entity]),
          expected.map((t) => [t.index, t.entity]),
          JSON.stringify(text),
        );
        compared += expected.length;
      }
      assert.ok(compared > 100, `${compared} tokens compared`);
      await ner.release();
      await classify.dispose();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
