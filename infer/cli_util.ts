/**
 * Helpers shared by the command-line front ends (`infer/` and `train/` CLIs): the `main` runner that
 * turns a thrown error into `NAME: message` and exit status 1, usage errors (exit status 2), integer
 * flags, a file-exists test and JSON file reading. Deno-only (not part of the browser bundle).
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

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

/** True when `path` (a path or `file:` URL) exists; any failure to stat it counts as absent. */
export async function exists(path: string | URL): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
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

/** Reads and parses a JSON file; errors name the file (and `what` it is, when given) and the cause. */
export async function readJsonFile(path: string, what?: string): Promise<unknown> {
  const name = what ? `${what} "${path}"` : `"${path}"`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read ${name}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot parse ${name}: ${(e as Error).message}`);
  }
}
