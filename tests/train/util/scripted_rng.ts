import { Rng } from "../../../train/util/rng.ts";

/** A generator whose draws are fixed: `next()` and `int()` return the given values in turn. */
export function scripted(values: number[]): Rng {
  const r = new Rng(0);
  let i = 0;
  r.next = () => values[i++];
  r.int = () => values[i++];
  return r;
}
