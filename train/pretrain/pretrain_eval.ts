/**
 * Held-out evaluation of pretraining: the eval graph's losses and accuracies averaged over the held-out
 * examples, and for replaced-token detection how well the discriminator separates replaced from original
 * tokens (accuracy, ROC-AUC, recall of replaced tokens).
 * @module
 */
import type { OrtTensor, Session } from "../../onnx/runtime.ts";
import type { Tensor } from "../../onnx/tensor.ts";
import { MLM_SCALAR_OUTPUTS, SCALAR_OUTPUTS } from "./pretrain_model.ts";

/** Evaluation results on held-out data. */
export interface EvalMetrics {
  loss: number;
  generator_loss: number;
  discriminator_loss: number;
  /** Generator accuracy at masked positions. */
  mlm_accuracy: number;
  /** Discriminator accuracy over real tokens. */
  discriminator_accuracy: number;
  /** ROC-AUC of the discriminator's logits for "replaced" over real tokens (0.5: chance). */
  discriminator_auc: number;
  /** Share of replaced tokens the discriminator flags. */
  replaced_recall: number;
  /** Share of original tokens it leaves unflagged. */
  original_accuracy: number;
  /** Share of real tokens that the generator replaced (a harder generator replaces fewer). */
  replaced_fraction: number;
}

/** One held-out batch: its masked feeds and how many examples it holds. */
export interface HeldOutBatch {
  feeds: Record<string, Tensor>;
  size: number;
}

/** ROC-AUC by the rank-sum (Mann–Whitney) formula, ties counted half; NaN without both classes. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0, rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] > 0.5) {
        pos++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (!pos || !neg) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** The discriminator's calls on real tokens, gathered over batches. */
class DiscriminatorScores {
  readonly scores: number[] = [];
  readonly labels: number[] = [];
  replaced = 0;
  flagged = 0;
  originals = 0;
  kept = 0;

  /** Adds a batch's logits and replaced-token labels at the positions its attention mask keeps. */
  add(logits: Float32Array, isReplaced: Float32Array, mask: BigInt64Array): void {
    for (let j = 0; j < logits.length; j++) {
      if (!mask[j]) continue;
      this.scores.push(logits[j]);
      this.labels.push(isReplaced[j]);
      if (isReplaced[j] > 0.5) {
        this.replaced++;
        if (logits[j] > 0) this.flagged++;
      } else {
        this.originals++;
        if (logits[j] <= 0) this.kept++;
      }
    }
  }
}

/**
 * Runs the eval graph on `params` over the held-out batches (fixed masks, the same every time, so curves
 * compare); `mlm`: a masked-LM model, whose loss is the generator loss and which has no discriminator to score.
 */
export async function evaluateHeldOut(
  evaluator: Session,
  params: Record<string, Tensor>,
  batches: Iterable<HeldOutBatch>,
  mlm: boolean,
): Promise<EvalMetrics> {
  const ortParams: Record<string, OrtTensor> = {};
  for (const [n, v] of Object.entries(params)) ortParams[n] = evaluator.toOrt(v);
  const sums: Record<string, number> = {};
  const disc = new DiscriminatorScores();
  let examples = 0;
  for (const { feeds, size } of batches) {
    const ortFeeds: Record<string, OrtTensor> = { ...ortParams };
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = evaluator.toOrt(v);
    const out = await evaluator.runOrt(ortFeeds);
    for (const k of ["loss", ...(mlm ? MLM_SCALAR_OUTPUTS : SCALAR_OUTPUTS)]) {
      sums[k] = (sums[k] ?? 0) + Number(out[k].data[0]) * size;
    }
    examples += size;
    if (mlm) continue;
    disc.add(
      out.discriminator_logits.data as Float32Array,
      out.is_replaced.data as Float32Array,
      feeds.attention_mask.data as BigInt64Array,
    );
  }
  const mean = (k: string) => sums[k] / examples;
  if (mlm) {
    const none = NaN;
    return {
      loss: mean("loss"),
      generator_loss: mean("loss"),
      discriminator_loss: none,
      mlm_accuracy: mean("mlm_accuracy"),
      discriminator_accuracy: none,
      discriminator_auc: none,
      replaced_recall: none,
      original_accuracy: none,
      replaced_fraction: none,
    };
  }
  return {
    loss: mean("loss"),
    generator_loss: mean("generator_loss"),
    discriminator_loss: mean("discriminator_loss"),
    mlm_accuracy: mean("mlm_accuracy"),
    discriminator_accuracy: mean("discriminator_accuracy"),
    discriminator_auc: rocAuc(disc.scores, disc.labels),
    replaced_recall: disc.replaced ? disc.flagged / disc.replaced : NaN,
    original_accuracy: disc.originals ? disc.kept / disc.originals : NaN,
    replaced_fraction: disc.scores.length ? disc.replaced / disc.scores.length : NaN,
  };
}
