/**
 * What every training run shares: its run folder, metrics log, checkpoints (written atomically, verified on
 * load), training-artifact files and one-line progress.
 * @module
 */
export * from "./artifacts_io.ts";
export * from "./checkpoints.ts";
export * from "./metrics_log.ts";
export * from "./progress.ts";
export * from "./run_folder.ts";
export * from "./training_run.ts";
