/**
 * The one tiny model of tests and smoke runs, configs/tiny_config.json (`--preset tiny`), as an ElectraConfig:
 * embedding 16 ≠ hidden 64 (embeddings_project exercised), 1 layer, 2 heads of 32, 128-piece vocab, 64 positions.
 */
import { configFromHf, type ElectraConfig } from "../../../onnx/electra/config.ts";
import tiny from "../../../configs/tiny_config.json" with { type: "json" };

/** The `model` section of configs/tiny_config.json. */
export const TINY_ELECTRA: ElectraConfig = configFromHf(tiny.model, "configs/tiny_config.json: model");
