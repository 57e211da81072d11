/**
 * Masked-LM pretraining (BERT's objective) on the full-width ELECTRA encoder, as one forward graph: the
 * encoder reads the masked input, and ELECTRA's generator head (`generator_predictions` + the tied
 * `generator_lm_head`, `maskedLmHead` of pretraining.ts) predicts the original tokens at the masked
 * positions. No discriminator, no sampling: every pretraining token's gradient comes through the encoder
 * that fine-tuning keeps.
 *
 * Parameter names are HF `ElectraForMaskedLM`'s (`electra.*`, `generator_predictions.*`,
 * `generator_lm_head.bias`), so the encoder's tensors are the ones a tagger reads.
 * Feeds: `input_ids` (masked), `attention_mask`, `token_type_ids` (B, T) int64; `masked_lm_positions`,
 * `masked_lm_ids` (B, P) int64; `masked_lm_weights` (B, P) float, as the RTD graph's (masking in train/pretrain_data/masking.ts).
 * Outputs: `loss` (weighted mean cross-entropy), `mlm_accuracy`; with `debugOutputs` also `mlm_logits` (B, P, V).
 * @module
 */
import { Graph } from "../graph.ts";
import { ints } from "../ops.ts";
import type { ElectraConfig } from "./config.ts";
import { attentionBias, type BuildContext, embeddingParams } from "./embeddings.ts";
import { electraModel } from "./encoder.ts";
import { initParams, type ParamSource } from "./init.ts";
import { maskedLmHead, maskedLmInputs, type PretrainGraphOptions } from "./pretraining.ts";

/** Options of `buildMaskedLmGraph`. */
export interface MaskedLmOptions extends PretrainGraphOptions {
  config: ElectraConfig;
  /** Where weights come from, by HF `ElectraForMaskedLM` name (default: fresh init with `seed`). */
  params?: ParamSource;
  /** Also output `mlm_logits` (B, P, V). */
  debugOutputs?: boolean;
}

/** Builds the masked-LM pretraining graph (see the module doc for feeds and outputs). */
export function buildMaskedLmGraph(o: MaskedLmOptions): Graph {
  const c = o.config;
  const dtype = o.dtype ?? "float32";
  const ctx: BuildContext = {
    config: c,
    params: o.params ??
      initParams({ seed: o.seed, std: c.initializerRange, padTokenId: c.padTokenId, dtype }),
    dtype,
    dropout: o.dropout,
    geluForm: o.geluForm,
    flatTokens: o.flatTokens,
  };
  const g = new Graph("electra_masked_lm");
  const { B, P, inputIds, attentionMask, tokenTypeIds, positions, labels, weights, onehot } = maskedLmInputs(
    g,
    dtype,
    o,
  );
  const embeddings = g.scope("electra", () => embeddingParams(g, ctx));
  const bias = attentionBias(attentionMask, dtype); // (B, 1, 1, T)
  const { hidden } = electraModel(g, ctx, { inputIds, attentionMask, tokenTypeIds, bias }, embeddings); // (B, T, H)
  const head = maskedLmHead(g, ctx, hidden, onehot, embeddings.word, labels, weights);
  g.output(head.loss, "loss");
  g.output(head.accuracy, "mlm_accuracy");
  if (o.debugOutputs) {
    const shape = g.op("Concat", [g.op("Shape", [positions])[0], ints(g, [c.vocabSize])], { axis: 0 })[0];
    g.output(
      g.op("Reshape", [head.logits, shape], {}, { types: [{ dtype, shape: [B, P, c.vocabSize] }] })[0],
      "mlm_logits",
    );
  }
  return g;
}
