import assert from "node:assert/strict";
import type { MetricsRecord } from "../../../train/run/metrics_log.ts";
import {
  computeFromMetrics,
  modelCard,
  type ModelCardInput,
  resultsTable,
} from "../../../train/release/model_card.ts";
import { report } from "./card_report.ts";

Deno.test("computeFromMetrics() sums window times from cumulative (pretrain) and windowed (finetune) logs", () => {
  // Pretraining: 10 updates of 4,096 tokens at 2,048 tokens/s = 20 s, then 10 more at 4,096 tokens/s = 10 s.
  const pre = [
    { type: "eval", step: 0, loss: 1 },
    { type: "train", step: 10, tokens: 40960, tokens_per_s: 2048 },
    { type: "train", step: 20, tokens: 81920, tokens_per_s: 4096 },
  ] as MetricsRecord[];
  assert.deepEqual(computeFromMetrics(pre, "pretraining", "cpu"), {
    stage: "pretraining",
    updates: 20,
    tokens: 81920,
    seconds: 30,
    hardware: "cpu",
  });
  // Fine-tuning logs its own window seconds and tokens; an explicit `seconds` wins over tokens/rate.
  const ft = [
    { type: "train", step: 10, window_tokens: 1000, tokens_per_s: 100, seconds: 12 },
    { type: "train", step: 15, window_tokens: 500, tokens_per_s: 250, seconds: 2 },
  ] as MetricsRecord[];
  assert.deepEqual(computeFromMetrics(ft, "fine-tuning", "cpu"), {
    stage: "fine-tuning",
    updates: 15,
    tokens: 1500,
    seconds: 14,
    hardware: "cpu",
  });
});

Deno.test("resultsTable() prints percentages per split, subset and type, with a dash for a missing type", () => {
  const t = resultsTable([{ name: "KLUE test", description: "d", report }], ["PS", "LC"]).split("\n");
  assert.equal(t[0], "| test split | sentences | entities | micro F1 | macro F1 | PS | LC |");
  assert.equal(t[2], "| **KLUE test** | 6 | 14 | 80.00 | 70.00 | 90.00 | 50.00 |");
  assert.equal(t[3], "| KLUE test: nsmc | 3 | 5 | 75.00 | 60.00 | 80.00 | – |");
  assert.equal(t.length, 4);
  // With the no-entity rate in a report: a column; a subset with no gold entity prints dashes, not 0 F1.
  const empty = {
    ...report.subsets!.nsmc,
    support: 0,
    perType: {},
    noEntity: { sentences: 3, flagged: 1, rate: 1 / 3 },
  };
  const withRate = {
    ...report,
    noEntity: { sentences: 270, flagged: 119, rate: 119 / 270 },
    subsets: { reaction: empty },
  };
  const u = resultsTable([{ name: "Colloquial test", description: "d", report: withRate }], ["PS"]).split(
    "\n",
  );
  assert.equal(
    u[0],
    "| test split | sentences | entities | micro F1 | macro F1 | PS | gold-empty texts given an entity |",
  );
  assert.equal(u[1], "|---|---:|---:|---:|---:|---:|---:|");
  assert.equal(u[2], "| **Colloquial test** | 6 | 14 | 80.00 | 70.00 | 90.00 | 44.1 % (119 of 270) |");
  assert.equal(u[3], "| Colloquial test: reaction | 3 | 0 | – | – | – | 33.3 % (1 of 3) |");
});

Deno.test("modelCard() names the licences, the architecture, the compute and the recipe", () => {
  const card = modelCard({
    title: "T",
    model: {
      num_hidden_layers: 4,
      hidden_size: 256,
      num_attention_heads: 4,
      intermediate_size: 1024,
      embedding_size: 128,
      vocab_size: 8000,
    },
    parameters: 1234567,
    labels: ["O", "B-PS", "I-PS", "B-LC", "I-LC"],
    onnxBytes: 3 * 2 ** 20,
    weightsBytes: 16 * 2 ** 20,
    decoding: "bio-viterbi",
    variants: [{ name: "int8", file: "inference.int8.onnx", bytes: 4 * 2 ** 20 }],
    pretrain: { $comment: "hidden", learning_rate: 0.001, num_train_steps: 10000 },
    pretrainTakenAt: 4801,
    finetune: {
      config: { epochs: 4 },
      trainSentences: 100,
      data: ["klue a ×3"],
      dev: ["klue a-dev"],
      bestDevStep: 7,
      earlier: [{
        config: { num_train_epochs: 3 },
        trainSentences: 2500,
        data: ["klue b"],
        dev: ["klue kmou/dev.tsv (types mapped kmou-klue)"],
        bestDevStep: 1234,
      }],
    },
    evals: [{ name: "KLUE test", description: "465 sentences", report }],
    compute: [{ stage: "pretraining", updates: 20, tokens: 81920, seconds: 5400, hardware: "2-core CPU" }],
    recipe: ["bash recipes/default-model.sh"],
    dataNotes: ["KMOU harmonised"],
    licence: "non-commercial use only",
    data: [{
      data: "KMOU",
      use: "fine-tuning (train side), dev (choosing the kept epoch)",
      licence: "MIT, non-commercial use only",
    }, {
      data: "KLUE",
      use: "test",
      licence: "CC BY-SA 4.0",
    }],
    references: "| model | reported |\n|---|---|\n| NERSOTA-ELECTRA | 77 |",
    trainingNotes: ["a note"],
  });
  for (
    const want of [
      /^# T\n/,
      /non-commercial use only/,
      /CC BY-SA 4\.0/,
      /4 layers, hidden 256/,
      /1,234,567 parameters/,
      /3\.0 MiB/,
      /\| pretraining \| 20 \| 81,920 \| 1\.50 \| 2-core CPU \|/,
      /\| total \| \| \| 1\.50 \| \|/,
      /learning_rate 0\.001/,
      /Pretraining \(the encoder of update 4,801, before the end of this 10,000-update schedule\)/,
      /epochs 4; kept the best dev macro F1 \(update 7; dev: klue a-dev\)\./,
      /- Fine-tuning run 1 \(continued by the next\) on 2,500 sentences \(klue b\): num_train_epochs 3; kept the best dev macro F1 \(update 1,234; dev: klue kmou\/dev\.tsv \(types mapped kmou-klue\)\)\.\n- Fine-tuning on 100 sentences/,
      /fine-tuning \(train side\), dev \(choosing the kept epoch\) \| MIT, non-commercial use only/,
      /Variant `int8` \(`inference\.int8\.onnx`, 4\.0 MiB: dense layers computed in int8/,
      /--variant int8/,
      /`model\.safetensors`: 16\.0 MiB, the float32 weights as trained/,
      /Decoding: the most probable valid BIO path/,
      /\| \*\*KLUE test\*\* \| 6 \| 14 \| 80\.00 \| 70\.00 \| 90\.00 \| 50\.00 \|/,
      /- KLUE test: 465 sentences/,
      /bash recipes\/default-model\.sh/,
      /CC BY-SA 4\.0 \|\n\n- KMOU harmonised\n/,
      /For context, numbers reported elsewhere:\n\n\| model \| reported \|/,
      /\(update 7; dev: klue a-dev\)\.\n- a note\n/,
    ]
  ) {
    assertMatchMsg(card, want);
  }
  assert.ok(!card.includes("$comment"), "keys starting with $ are not hyperparameters");
});

/** The least a card needs: a 4-layer model, one type, one evaluation, no compute or recipe lines. */
const smallCard: ModelCardInput = {
  title: "M",
  model: { num_hidden_layers: 4, hidden_size: 256 },
  parameters: 10,
  labels: ["O", "B-PS", "I-PS"],
  onnxBytes: 2 ** 20,
  finetune: { config: { epochs: 2 }, trainSentences: 5, data: ["klue a"] },
  evals: [{ name: "KLUE test", description: "465 sentences", report }],
  compute: [],
  recipe: [],
};

Deno.test("modelCard() of a user's run makes no claim its spec and logs do not make", () => {
  const card = modelCard({
    ...smallCard,
    title: "Mine",
    labels: ["O", "B-PRODUCT", "I-PRODUCT"],
    labelMode: "first-subword",
    lowercase: true,
    start: { kind: "folder", dir: "models/default", notice: "weights read from inference.onnx" },
    finetune: { config: { epochs: 2 }, trainSentences: 500, data: ["label-studio mine.json"] },
    evals: [{ name: "My test", description: "50 sentences", report }],
    recipe: ["deno task finetune --model models/default --train label-studio:mine.json --out mine"],
  });
  for (
    const claim of [
      /KMOU/,
      /KLUE/,
      /non-commercial/,
      /CC BY-SA/,
      /NERSOTA-ELECTRA/,
      /spoken/,
      /random weights/,
      /model\.safetensors/, // a folder without float32 weights does not offer them
    ]
  ) {
    assert.doesNotMatch(card, claim);
  }
  for (
    const want of [
      /Named-entity recognition \(PRODUCT\) trained with NERSOTA/,
      /\*\*Licence of the weights: not stated\*\* by this card's spec/,
      /fine-tuning started from the model in `models\/default` \(weights read from inference\.onnx\)/,
      /first sub-word of each word labelled/,
      /WordPiece, lower-cased/,
      /The training and dev sets are those listed under Training/,
    ]
  ) {
    assertMatchMsg(card, want);
  }
});

Deno.test("modelCard() of a masked-LM pretrained encoder says masked LM, not replaced-token detection", () => {
  const card = modelCard({
    ...smallCard,
    pretrain: { objective: "mlm", mask_prob: 0.15, num_train_steps: 6100 },
    pretrainTakenAt: 1200,
  });
  assertMatchMsg(card, /masked-LM\npretraining of the encoder → token-classification fine-tuning/);
  assertMatchMsg(card, /Architecture: ELECTRA encoder, 4 layers/);
  assertMatchMsg(
    card,
    /the encoder of update 1,200, before the end of this 6,100-update schedule\): objective "mlm"/,
  );
  assert.doesNotMatch(card, /replaced-token|discriminator/);
});

function assertMatchMsg(text: string, re: RegExp) {
  assert.match(text, re, `model card lacks ${re}`);
}
