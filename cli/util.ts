/**
 * The one helper module of the command-line entry points in `cli/`: the `main` runner that turns a thrown
 * error into `NAME: message` and exit status 1, usage errors (exit status 2), integer flags, and the one place
 * that resolves the default model of `ner`, `serve`, `web` and `compile`. Deno-only.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isMinScore } from "../infer/decode.ts";
import { exists } from "../train/util/fs.ts";

/**
 * Runs `main(Deno.args)` and exits with its status; an error it throws is printed as `NAME: message`
 * (no stack) with exit status 1. Call it under `if (import.meta.main)`.
 */
export async function runMain(name: string, main: (args: string[]) => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}`);
    Deno.exit(1);
  }
}

/** Prints `error: MESSAGE` and the usage text to stderr; returns exit status 2. */
export function usageError(usage: string, message: string): 2 {
  console.error(`error: ${message}\n\n${usage}`);
  return 2;
}

/**
 * `parseArgs(config)`, or exit status 2 after printing the parse error (unknown flag, missing value) and the
 * usage text.
 */
export function parseFlags<T extends ParseArgsConfig>(
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> | 2 {
  try {
    return parseArgs(config);
  } catch (e) {
    return usageError(usage, (e as Error).message);
  }
}

/** The value of integer flag `--NAME` (at least `min`); throws `--NAME must be an integer ≥ MIN, got "VALUE"`. */
export function intFlag(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  }
  return n;
}

/** The value of `--min-score` (undefined when absent); throws `--min-score must be a number from 0 to 1, got "VALUE"`. */
export function minScoreFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() ? Number(value) : NaN;
  if (!isMinScore(n)) throw new Error(`--min-score must be a number from 0 to 1, got "${value}"`);
  return n;
}

/** The shipped default model folder (`models/default/`), the model of `ner`, `serve`, `web` and `compile`. */
export const DEFAULT_MODEL = new URL("../models/default/", import.meta.url);

/**
 * The model folder a command uses: `model` (its `--model`) when given, else `DEFAULT_MODEL`; throws, naming
 * the folder and `--model`, when the default folder has no `nersota.json`.
 */
export async function resolveModel(model?: string): Promise<string | URL> {
  if (model) return model;
  if (!(await exists(new URL("nersota.json", DEFAULT_MODEL)))) {
    throw new Error(
      `the default model folder "${
        decodeURIComponent(DEFAULT_MODEL.pathname)
      }" has no nersota.json: pass --model DIR`,
    );
  }
  return DEFAULT_MODEL;
}
