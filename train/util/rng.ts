/**
 * A small seeded PRNG (sfc32) whose whole state is four 32-bit words, so a training run can save it in a
 * checkpoint and resume with exactly the same stream. Streams for separate purposes (masking, sampling,
 * data order) are derived from the run seed and a label, so adding a draw in one never shifts another.
 * @module
 */

/** The serialisable state of an `Rng`: sfc32's four 32-bit words. */
export type RngState = [number, number, number, number];

/** 32-bit FNV-1a of a string, mixed with `h` (to derive stream seeds from labels). */
function fnv(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): passes PractRand to terabytes, and its
 * state is plain numbers.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const a = new Rng(42), b = Rng.fromState(a.state());
 * if (a.next() !== b.next()) throw new Error("state round-trip must continue the same stream");
 * ```
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from a number and optional labels (`new Rng(seed, "mask", step)`): each label gives its own stream. */
  constructor(seed: number, ...labels: (string | number)[]) {
    let h = fnv(String(seed >>> 0) + ":" + String(Math.floor(seed / 4294967296)));
    for (const l of labels) h = fnv(`/${l}`, h);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = fnv("c", h);
    this.d = h;
    for (let i = 0; i < 15; i++) this.nextUint32(); // let the seed spread through the state
  }

  /** Restores a generator from `state()`. */
  static fromState(s: RngState): Rng {
    if (
      !Array.isArray(s) || s.length !== 4 || !s.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)
    ) {
      throw new Error(`Invalid RNG state ${JSON.stringify(s)}: expected four unsigned 32-bit integers`);
    }
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = s;
    return r;
  }

  /** The current state (plain numbers, JSON-safe). */
  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) + t | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n), without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0 && n <= 2 ** 32)) {
      throw new RangeError(`Rng.int(): n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextUint32(); while (x >= limit);
    return x % n;
  }

  /** Shuffles `xs` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(xs: T): T {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** A random permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
