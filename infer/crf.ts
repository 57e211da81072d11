/**
 * Linear-chain CRF decoding (Viterbi) with pytorch-crf's parameterisation: a path's score is
 * `start[y0] + Σ emissions[t][yt] + Σ transitions[y(t-1)][yt] + end[y(T-1)]`. Optional masks
 * forbid invalid BIO/BIOES transitions. How a window's logits become labels, for CRF and softmax models
 * alike, is `infer/window_labels.ts`. Browser-safe.
 * @module
 */
import { decodeSafetensors } from "../onnx/safetensors.ts";

/** CRF parameters for L labels. */
export interface CrfParams {
  /** `transitions[i][j]`: score of label i followed by label j (L×L). */
  transitions: readonly ArrayLike<number>[];
  /** Score of starting with each label (L). */
  start: ArrayLike<number>;
  /** Score of ending with each label (L). */
  end: ArrayLike<number>;
}

/** Allowed moves; a forbidden one scores -Infinity. */
export interface CrfConstraints {
  transitions: boolean[][];
  start: boolean[];
  end: boolean[];
}

/**
 * Allowed transitions for a BIO or BIOES label list (`O`, `B-X`, `I-X`, `E-X`, `S-X`): `I-X`/`E-X`
 * only after `B-X` or `I-X`, and (BIOES) only `O`, `E-` or `S-` may end a sequence.
 */
export function bioConstraints(labels: readonly string[]): CrfConstraints {
  const parts = labels.map((l) => (l === "O" ? ["O", ""] : [l.slice(0, 1), l.slice(2)]));
  const bioes = parts.some(([p]) => p === "E" || p === "S");
  const inside = (p: string) => p === "I" || p === "E";
  const open = (p: string) => p === "B" || p === "I"; // needs a continuation in BIOES
  const transitions = parts.map(([pi, ti]) =>
    parts.map(([pj, tj]) => {
      if (inside(pj)) return open(pi) && ti === tj;
      return bioes ? !open(pi) : true;
    })
  );
  const start = parts.map(([p]) => !inside(p));
  const end = parts.map(([p]) => (bioes ? !open(p) : true));
  return { transitions, start, end };
}

/**
 * The highest-scoring label path for emissions `T×L` and its score; with `constraints`, forbidden
 * moves are never taken (if every path is forbidden the score is -Infinity). Ties go to the lower label.
 */
export function viterbi(
  emissions: readonly ArrayLike<number>[],
  params: CrfParams,
  constraints?: CrfConstraints,
): { path: number[]; score: number } {
  const T = emissions.length;
  const L = params.start.length;
  if (T === 0) return { path: [], score: 0 };
  const trans = (
    i: number,
    j: number,
  ) => (constraints && !constraints.transitions[i][j] ? -Infinity : params.transitions[i][j]);
  let score = Array.from(
    { length: L },
    (_, j) => (constraints && !constraints.start[j] ? -Infinity : params.start[j]) + emissions[0][j],
  );
  const back: Int32Array[] = [];
  for (let t = 1; t < T; t++) {
    const next = new Array<number>(L);
    const bp = new Int32Array(L);
    for (let j = 0; j < L; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < L; i++) {
        const s = score[i] + trans(i, j);
        if (s > best) {
          best = s;
          arg = i;
        }
      }
      next[j] = best + emissions[t][j];
      bp[j] = arg;
    }
    back.push(bp);
    score = next;
  }
  let best = -Infinity;
  let last = 0;
  for (let j = 0; j < L; j++) {
    const s = score[j] + (constraints && !constraints.end[j] ? -Infinity : params.end[j]);
    if (s > best) {
      best = s;
      last = j;
    }
  }
  const path = [last];
  for (let t = T - 2; t >= 0; t--) path.push(back[t][path[path.length - 1]]);
  path.reverse();
  return { path, score: best };
}

/** The score of one given path (pytorch-crf's `_compute_score` for one sequence). */
export function pathScore(
  emissions: readonly ArrayLike<number>[],
  params: CrfParams,
  path: readonly number[],
): number {
  if (path.length !== emissions.length) {
    throw new Error(`pathScore: path of ${path.length} for ${emissions.length} steps`);
  }
  if (path.length === 0) return 0;
  let s = params.start[path[0]] + emissions[0][path[0]];
  for (let t = 1; t < path.length; t++) s += params.transitions[path[t - 1]][path[t]] + emissions[t][path[t]];
  return s + params.end[path[path.length - 1]];
}

/** pytorch-crf's tensor names in `crf.safetensors` (under a `crf.` scope, as `onnx/crf.ts` trains them). */
const CRF_TENSORS = {
  transitions: "crf.transitions",
  start: "crf.start_transitions",
  end: "crf.end_transitions",
} as const;

/**
 * Reads `crf.safetensors` (`crf.transitions` L×L, `crf.start_transitions` L, `crf.end_transitions` L);
 * with `numLabels`, checks that L matches the model's labels. `source` names the file in errors.
 */
export function crfParamsFromSafetensors(bytes: Uint8Array, source: string, numLabels?: number): CrfParams {
  const { tensors } = decodeSafetensors(bytes, source);
  const get = (n: string) => {
    const t = tensors[n];
    if (!t) throw new Error(`"${source}" lacks tensor "${n}"`);
    return Array.from(t.data as ArrayLike<number>);
  };
  const tr = get(CRF_TENSORS.transitions), start = get(CRF_TENSORS.start), end = get(CRF_TENSORS.end);
  const L = start.length;
  if (tr.length !== L * L || end.length !== L) {
    throw new Error(`"${source}": CRF tensors do not match ${L} labels`);
  }
  if (numLabels !== undefined && L !== numLabels) {
    throw new Error(`"${source}": CRF tensors are for ${L} labels but the model has ${numLabels}`);
  }
  return { transitions: Array.from({ length: L }, (_, i) => tr.slice(i * L, (i + 1) * L)), start, end };
}

/** A CRF ready to decode with: its parameters and the label scheme's constraints (`bioConstraints`). */
export interface CrfDecoder {
  params: CrfParams;
  constraints: CrfConstraints;
  /**
   * Label id forced on a window's first and last rows (`[CLS]`, `[SEP]`), for softmax models whose
   * training ignored those rows: without it their arbitrary logits could open or close a path.
   */
  pinEnds?: number;
}

/** The decoder for `params` over `labels`, constrained to valid BIO/BIOES paths. */
export function crfDecoder(params: CrfParams, labels: readonly string[]): CrfDecoder {
  return { params, constraints: bioConstraints(labels) };
}
