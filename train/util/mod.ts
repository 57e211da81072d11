/**
 * Small helpers every stage uses: atomic file writes and the seeded, checkpointable random number generator.
 * @module
 */
export * from "./fs.ts";
export * from "./rng.ts";
