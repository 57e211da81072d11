/**
 * The model card of a model folder (`README.md` beside `inference.onnx`): what the model is, the recipe, the
 * compute spent (from the runs' metrics logs) and the scores on the test splits (micro/macro F1 and per type).
 * A card says only what its spec and the runs' files say: the licence of the weights, the data table,
 * summary, reference scores and notes are the spec's (configs/default/card.json holds the shipped model's),
 * and are left out when it has none. Pure functions over plain objects: `model_card_files.ts` gathers the inputs.
 * @module
 */
import type { EvalReport, ScoreSummary } from "../evaluate/evaluate.ts";
import type { MetricsRecord } from "../run/metrics_log.ts";

/** One evaluated test split. */
export interface CardEval {
  /** Short name shown in tables ("KLUE test"). */
  name: string;
  /** What the split is (sentences, source, how it was drawn). */
  description: string;
  report: EvalReport;
}

/** Compute spent by one training stage. */
export interface ComputeRecord {
  stage: string;
  updates: number;
  /** Real (unpadded) tokens processed; pretraining counts every position of its full-length examples. */
  tokens: number;
  /** Wall-clock seconds of training steps (evaluations excluded). */
  seconds: number;
  hardware: string;
}

/** Everything the card says. */
export interface ModelCardInput {
  title: string;
  /** Hugging Face config of the discriminator (hidden_size, num_hidden_layers, …). */
  model: Record<string, unknown>;
  parameters: number;
  labels: readonly string[];
  /** Size of `inference.onnx` in bytes. */
  onnxBytes: number;
  /** Weight storage of `inference.onnx` (nersota.json's `quantized`). */
  quantized?: "int8" | "fp16" | null;
  /** nersota.json's `decoding` of the softmax labels (`argmax` when absent). */
  decoding?: string;
  /** Size of the folder's float32 `model.safetensors` in bytes; absent when it ships graphs only. */
  weightsBytes?: number;
  /** nersota.json's `variants` (name → graph file), with their sizes in bytes. */
  variants?: { name: string; file: string; bytes: number }[];
  /** Pretraining hyperparameters as in the config's `train` section; absent when fine-tuning started from random weights. */
  pretrain?: Record<string, unknown>;
  /** The update the pretrained encoder was taken at, where that is before the end of its schedule. */
  pretrainTakenAt?: number;
  /** Fine-tuning hyperparameters (finetune report.json's `config`) plus the training sets. */
  finetune: {
    config: Record<string, unknown>;
    trainSentences: number;
    data: string[];
    /** The dev sets the kept checkpoint was chosen on (as `data`). */
    dev?: string[];
    bestDevStep?: number;
    /** Earlier runs this one continued from, oldest first: their configs, training and dev sets, kept update. */
    earlier?: {
      config: Record<string, unknown>;
      trainSentences?: number;
      data?: string[];
      dev?: string[];
      bestDevStep?: number;
    }[];
  };
  evals: CardEval[];
  compute: ComputeRecord[];
  /** Commands that reproduce the model. */
  recipe: string[];
  /** How the data was prepared beyond the table (one bullet each), e.g. guideline harmonisation. */
  dataNotes?: string[];
  /** The spec's words on what the model is for (a paragraph after the generated first line). */
  summary?: string;
  /** The spec's licence of the weights (Markdown); without it the card says none is stated. */
  licence?: string;
  /** The spec's data table: one row per data set. */
  data?: { data: string; use: string; licence: string }[];
  /** The spec's scores reported elsewhere, for context (Markdown). */
  references?: string;
  /** The spec's notes on training (one bullet each, after the generated ones). */
  trainingNotes?: string[];
  /** Where the first fine-tuning run started (its run.json's `model`, and the notice it logged). */
  start?: { kind: string; dir?: string; notice?: string };
  /** nersota.json's `labelMode` (which sub-words carry labels). */
  labelMode?: string;
  /** nersota.json's `doLowerCase`. */
  lowercase?: boolean;
}

/** Sums the training time, updates and tokens of a metrics log's `train` records (both pretrain and finetune logs). */
export function computeFromMetrics(
  records: readonly MetricsRecord[],
  stage: string,
  hardware: string,
): ComputeRecord {
  let seconds = 0, tokens = 0, updates = 0, prevStep = 0, prevTokens = 0;
  for (const r of records) {
    if (r.type !== "train") continue;
    const rate = Number(r.tokens_per_s);
    // Pretraining logs cumulative `tokens`; fine-tuning logs the window's `window_tokens`.
    const windowTokens = typeof r.window_tokens === "number"
      ? r.window_tokens
      : Number(r.tokens) - prevTokens;
    seconds += typeof r.seconds === "number" ? r.seconds : rate > 0 ? windowTokens / rate : 0;
    tokens += windowTokens;
    updates += r.step - prevStep;
    prevStep = r.step;
    if (typeof r.tokens === "number") prevTokens = r.tokens;
  }
  return { stage, updates, tokens, seconds, hardware };
}

const pct = (x: number) => (100 * x).toFixed(2);
const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** "; kept the best dev METRIC (update N; dev: …)" for a run that kept the checkpoint that scored best on dev. */
function kept(r: { config: Record<string, unknown>; dev?: string[]; bestDevStep?: number }): string {
  if (r.bestDevStep === undefined) return "";
  const metric = String(r.config.metric ?? "macro_f1").replace(/_f1$/, " F1");
  return `; kept the best dev ${metric} (update ${int(r.bestDevStep)}${
    r.dev?.length ? `; dev: ${r.dev.join(", ")}` : ""
  })`;
}

/** Markdown table: one row per split (and subset), micro/macro F1 and the F1 of each label. */
export function resultsTable(evals: readonly CardEval[], labels: readonly string[]): string {
  // The no-entity rate (gold-empty texts given an entity) is the error users see most on chat text; reports
  // older than it have no column.
  const noEntity = evals.some((e) => e.report.noEntity);
  const head = `| test split | sentences | entities | micro F1 | macro F1 | ${labels.join(" | ")} |${
    noEntity ? " gold-empty texts given an entity |" : ""
  }`;
  const rule = `|---|---:|---:|---:|---:|${labels.map(() => "---:").join("|")}|${noEntity ? "---:|" : ""}`;
  const rate = (s: ScoreSummary) =>
    !s.noEntity?.sentences
      ? " – |"
      : ` ${(100 * s.noEntity.rate).toFixed(1)} % (${int(s.noEntity.flagged)} of ${
        int(s.noEntity.sentences)
      }) |`;
  const row = (name: string, s: ScoreSummary) =>
    `| ${name} | ${int(s.sentences)} | ${int(s.support)} | ${s.support ? pct(s.micro.f1) : "–"} | ${
      s.support ? pct(s.macro.f1) : "–"
    } | ${labels.map((l) => (s.perType[l]?.support ? pct(s.perType[l].f1) : "–")).join(" | ")} |${
      noEntity ? rate(s) : ""
    }`;
  const rows: string[] = [];
  for (const e of evals) {
    rows.push(row(`**${e.name}**`, e.report));
    for (const [k, s] of Object.entries(e.report.subsets ?? {})) rows.push(row(`${e.name}: ${k}`, s));
  }
  return [head, rule, ...rows].join("\n");
}

/** The model card as Markdown. */
export function modelCard(c: ModelCardInput): string {
  const m = c.model;
  const hours = c.compute.reduce((a, r) => a + r.seconds, 0) / 3600;
  const fmt = (o: Record<string, unknown>) =>
    Object.entries(o).filter(([k]) => !k.startsWith("$")).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(
      ", ",
    );
  const types = [...new Set(c.labels.filter((l) => l !== "O").map((l) => l.replace(/^[BIES]-/, "")))];
  return `# ${c.title}

Named-entity recognition (${types.join(", ")}) trained with NERSOTA (ONNX Runtime, no Python): ${
    c.pretrain?.objective === "mlm"
      ? "WordPiece vocab → masked-LM\npretraining of the encoder → token-classification fine-tuning."
      : c.pretrain
      ? "WordPiece vocab → ELECTRA\nreplaced-token-detection pretraining → token-classification fine-tuning."
      : c.start?.kind === "folder"
      ? "token-classification\nfine-tuning of an existing model (see Training)."
      : "token-classification\nfine-tuning of an ELECTRA encoder from random weights (no pretraining: see Training)."
  }
${c.summary ? `\n${c.summary}\n` : ""}
${
    c.licence
      ? `**Licence of the weights:** ${c.licence}`
      : "**Licence of the weights: not stated** by this card's spec; the licences of the data it was trained on apply."
  }

## Model
- Architecture: ELECTRA ${
    c.pretrain && c.pretrain.objective !== "mlm" ? "discriminator" : "encoder"
  }, ${m.num_hidden_layers} layers, hidden ${m.hidden_size}, ${m.num_attention_heads} heads,
  FFN ${m.intermediate_size}, embeddings ${m.embedding_size}, vocab ${m.vocab_size} (WordPiece, ${
    c.lowercase ? "lower-cased" : "cased"
  }), ${int(c.parameters)} parameters.
- Labels (${c.labels.length}, ${
    c.labelMode === "first-subword" ? "first sub-word of each word labelled" : "all sub-words labelled"
  }): ${c.labels.join(" ")}.
- \`inference.onnx\`: ${(c.onnxBytes / 2 ** 20).toFixed(1)} MiB, ${
    c.quantized ? `${c.quantized} weight storage (per-channel scales), computed in float32` : "float32"
  }; inputs \`input_ids\`, \`attention_mask\`, \`token_type_ids\` → \`logits\`.
${
    (c.variants ?? []).map((v) =>
      `- Variant \`${v.name}\` (\`${v.file}\`, ${(v.bytes / 2 ** 20).toFixed(1)} MiB${
        v.name === "int8" ? ": dense layers computed in int8 on ONNX Runtime's CPU provider" : ""
      }): \`deno task ner --variant ${v.name}\`.\n`
    ).join("")
  }${
    c.weightsBytes
      ? `- \`model.safetensors\`: ${
        (c.weightsBytes / 2 ** 20).toFixed(1)
      } MiB, the float32 weights as trained: ` +
        "what `deno task finetune --model` and `deno task export --to-hf` start from.\n"
      : ""
  }- Decoding: ${
    c.decoding === "bio-viterbi"
      ? "the most probable valid BIO path (Viterbi over the per-token scores, `I-X` only after `B-X`/`I-X`)"
      : "argmax per token"
  }.

## Scores (entity-level F1, seqeval default mode, %)
${resultsTable(c.evals, c.labels.filter((l) => l.startsWith("B-")).map((l) => l.slice(2)))}

${c.evals.map((e) => `- ${e.name}: ${e.description}`).join("\n")}

${c.references ? `For context, numbers reported elsewhere:\n\n${c.references}\n\n` : ""}## Data
${
    c.data?.length
      ? `| data | use | licence |\n|---|---|---|\n${
        c.data.map((d) => `| ${d.data} | ${d.use} | ${d.licence} |`).join("\n")
      }\n`
      : "The training and dev sets are those listed under Training (from the runs' logs).\n"
  }${(c.dataNotes ?? []).map((n) => `\n- ${n}`).join("")}

## Training
${
    c.pretrain
      ? `- Pretraining${
        c.pretrainTakenAt !== undefined
          ? ` (the encoder of update ${int(c.pretrainTakenAt)}, before the end of this ${
            int(Number(c.pretrain.num_train_steps))
          }-update schedule)`
          : ""
      }: ${fmt(c.pretrain)}.`
      : c.start?.kind === "folder"
      ? `- No pretraining stage in this card's runs: fine-tuning started from the model in \`${c.start.dir}\`${
        c.start.notice ? ` (${c.start.notice})` : ""
      }.`
      : `- No pretraining: the encoder starts from random weights (normal, std ${
        m.initializer_range ?? 0.02
      }; LayerNorm 1/0).`
  }
${
    (c.finetune.earlier ?? []).map((e, i) =>
      `- Fine-tuning run ${i + 1} (continued by the next)${
        e.data?.length
          ? ` on ${e.trainSentences !== undefined ? `${int(e.trainSentences)} sentences ` : ""}(${
            e.data.join("; ")
          })`
          : ""
      }: ${fmt(e.config)}${kept(e)}.\n`
    ).join("")
  }- Fine-tuning on ${int(c.finetune.trainSentences)} sentences (${c.finetune.data.join("; ")}): ${
    fmt(c.finetune.config)
  }${kept(c.finetune)}.
${(c.trainingNotes ?? []).map((n) => `- ${n}\n`).join("")}
## Compute
| stage | updates | tokens | hours | hardware |
|---|---:|---:|---:|---|
${
    c.compute.map((r) =>
      `| ${r.stage} | ${int(r.updates)} | ${int(r.tokens)} | ${
        (r.seconds / 3600).toFixed(2)
      } | ${r.hardware} |`
    ).join("\n")
  }
| total | | | ${hours.toFixed(2)} | |

## Recipe
\`\`\`sh
${c.recipe.join("\n")}
\`\`\`
`;
}
