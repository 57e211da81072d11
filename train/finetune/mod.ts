/**
 * Stage 5, fine-tuning: NER fine-tuning of an ELECTRA encoder into an inference model folder
 * (`deno task finetune`), its configuration, and the plain-TypeScript CRF loss the ONNX graph is checked against.
 * @module
 */
export * from "./crf_loss_reference.ts";
export * from "./finetune.ts";
export * from "./finetune_config.ts";
export * from "./start_model.ts";
export * from "./tagger.ts";
