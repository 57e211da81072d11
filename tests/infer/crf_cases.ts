/** Random small CRF cases and path enumeration shared by the CRF tests. */
import type { CrfParams } from "../../infer/crf.ts";

/** A small deterministic generator so failures are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 * 4 - 2;
  };
}
export function randomCase(T: number, L: number, seed: number): { emissions: number[][]; params: CrfParams } {
  const r = rng(seed);
  const row = () => Array.from({ length: L }, r);
  return {
    emissions: Array.from({ length: T }, row),
    params: { transitions: Array.from({ length: L }, row), start: row(), end: row() },
  };
}
export function allPaths(T: number, L: number): number[][] {
  let out: number[][] = [[]];
  for (let t = 0; t < T; t++) out = out.flatMap((p) => Array.from({ length: L }, (_, j) => [...p, j]));
  return out;
}
