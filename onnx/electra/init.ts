/**
 * Parameter sources for the ELECTRA builders: fresh weights initialised as ELECTRA/HF do (normal with
 * std `initializer_range` for matrices and embeddings, LayerNorm 1/0, biases 0, the padding row of the
 * word embeddings zero) from a seeded PRNG, or weights taken from a checkpoint with shape checks.
 * Every tensor's random stream is derived from the seed and the tensor's name, so a parameter gets the
 * same values in every graph that contains it (training, evaluation, inference), in any build order.
 * @module
 */
import { type DType, sizeOf, type Tensor } from "../tensor.ts";

/** How a parameter is initialised when it is new. */
export type InitKind = "normal" | "zeros" | "ones" | "embedding";

/** Supplies the tensor for a parameter: its full HF name, its shape in graph layout, and its init kind. */
export type ParamSource = (name: string, dims: number[], kind: InitKind) => Tensor;

/** 32-bit FNV-1a hash of a string (to derive per-tensor seeds). */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small seeded PRNG (sfc32) returning uniforms in [0, 1). */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0, b >>>= 0, c >>>= 0, d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // decorrelate nearby seeds
  return next;
}

/** Fills `out` with normal(0, std) samples (Box–Muller on `rand`). */
export function fillNormal(out: Float32Array | Float64Array, std: number, rand: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - rand(); // (0, 1]: log stays finite
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/** Options of `initParams`. */
export interface InitOptions {
  seed?: number;
  /** Std of the normal init (ELECTRA's `initializer_range`, 0.02). */
  std?: number;
  /** Word-embedding row to zero, as HF's `padding_idx` does (HF zeroes it at init). */
  padTokenId?: number;
  dtype?: Extract<DType, "float32" | "float64">;
}

/** A source of freshly initialised parameters (deterministic in `seed` and the parameter name). */
export function initParams(options: InitOptions = {}): ParamSource {
  const { seed = 0, std = 0.02, padTokenId, dtype = "float32" } = options;
  return (name, dims, kind) => {
    const n = sizeOf(dims);
    const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    if (kind === "ones") data.fill(1);
    else if (kind === "normal" || kind === "embedding") {
      fillNormal(data, std, prng(hashString(name, hashString(String(seed)))));
      if (kind === "embedding" && padTokenId !== undefined && name.endsWith("word_embeddings.weight")) {
        const width = dims[1];
        data.fill(0, padTokenId * width, (padTokenId + 1) * width);
      }
    }
    return { dtype, dims: [...dims], data };
  };
}

/** Options of `fromWeights`. */
export interface FromWeightsOptions {
  /** Used for parameters the checkpoint lacks (e.g. a new classifier head); without it they are an error. */
  fallback?: ParamSource;
  /** Checkpoint name, for errors. */
  source?: string;
  /** Convert to this dtype (e.g. float64 for finite-difference checks). */
  dtype?: Extract<DType, "float32" | "float64">;
  /** Records which checkpoint tensors were used (to report unused ones). */
  used?: Set<string>;
}

/** A source that reads parameters (graph layout) from `weights`, checking dtype and shape by name. */
export function fromWeights(weights: Record<string, Tensor>, options: FromWeightsOptions = {}): ParamSource {
  const source = options.source ? ` in "${options.source}"` : "";
  return (name, dims, kind) => {
    const t = weights[name];
    if (!t) {
      if (options.fallback) return options.fallback(name, dims, kind);
      throw new Error(`Missing tensor "${name}"${source} (expected shape [${dims.join(", ")}])`);
    }
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      throw new Error(
        `Tensor "${name}"${source} has shape [${t.dims.join(", ")}], expected [${dims.join(", ")}]`,
      );
    }
    if (t.dtype !== "float32" && t.dtype !== "float64") {
      throw new Error(`Tensor "${name}"${source} has dtype ${t.dtype}, expected a float type`);
    }
    options.used?.add(name);
    const want = options.dtype ?? t.dtype;
    if (want === t.dtype) return t;
    return {
      dtype: want,
      dims: [...t.dims],
      data: want === "float64"
        ? Float64Array.from(t.data as Float32Array)
        : Float32Array.from(t.data as Float64Array),
    };
  };
}
