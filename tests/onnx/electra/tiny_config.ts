/** The tiny ELECTRA several tests build: embedding ≠ hidden (embeddings_project exercised), 2 layers, 4 heads of 8. */
import { electraConfig } from "../../../onnx/electra/config.ts";

/** A 2-layer, hidden-32 ELECTRA config over a 40-token vocab and 12 positions. */
export const TINY_ELECTRA = electraConfig({
  vocabSize: 40,
  embeddingSize: 16,
  hiddenSize: 32,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
  intermediateSize: 48,
  maxPositionEmbeddings: 12,
});
