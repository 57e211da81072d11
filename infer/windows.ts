/**
 * Long encodings → overlapping windows that fit the model, and per-token predictions of the
 * windows → one prediction per token of the long encoding. Browser-safe.
 * @module
 */

import type { Encoding } from "./encoding.ts";

/** One window: an encoding with `[CLS]`/`[SEP]` re-added, and where its content came from. */
export interface Window {
  encoding: Encoding;
  /** Index in the source encoding of each window token; `-1` for the added `[CLS]`/`[SEP]`. */
  sourceIndex: number[];
}

/** Options for {@link splitWindows}. */
export interface WindowOptions {
  /** Model length including `[CLS]` and `[SEP]` (e.g. 128 or 512). */
  maxLength: number;
  /** Tokens shared by consecutive windows (HF's `stride`); default a quarter of the content length. */
  stride?: number;
  clsId: number;
  sepId: number;
  clsToken?: string;
  sepToken?: string;
}

/**
 * Splits an encoding into windows of at most `maxLength` tokens. Special tokens of the source are
 * dropped and each window gets its own `[CLS]`…`[SEP]`; windows start every
 * `maxLength - 2 - stride` content tokens, and the last one is pulled back to end at the text's end.
 */
export function splitWindows(encoding: Encoding, options: WindowOptions): Window[] {
  const width = options.maxLength - 2;
  if (width < 1) throw new Error(`splitWindows: maxLength ${options.maxLength} leaves no room for content`);
  const stride = options.stride ?? Math.floor(width / 4);
  if (!(stride >= 0 && stride < width)) {
    throw new Error(`splitWindows: stride ${stride} must be in [0, ${width})`);
  }
  const content: number[] = [];
  for (let t = 0; t < encoding.ids.length; t++) if (encoding.specialTokensMask[t] !== 1) content.push(t);
  const starts: number[] = [0];
  const step = width - stride;
  while (starts[starts.length - 1] + width < content.length) {
    starts.push(Math.min(starts[starts.length - 1] + step, content.length - width));
  }
  return starts.map((s) => {
    const src = [-1, ...content.slice(s, s + width), -1];
    const pick = <T>(arr: T[], special: T) => src.map((i) => (i < 0 ? special : arr[i]));
    const enc: Encoding = {
      ids: src.map((i, k) => (i >= 0 ? encoding.ids[i] : k === 0 ? options.clsId : options.sepId)),
      tokens: src.map((i, k) =>
        i >= 0 ? encoding.tokens[i] : k === 0 ? (options.clsToken ?? "[CLS]") : (options.sepToken ?? "[SEP]")
      ),
      offsets: src.map((
        i,
      ) => (i >= 0 ? [...encoding.offsets[i]] as [number, number] : [0, 0] as [number, number])),
      wordIds: pick(encoding.wordIds, null),
      specialTokensMask: src.map((i) => (i >= 0 ? 0 : 1)),
    };
    return { encoding: enc, sourceIndex: src };
  });
}

/**
 * Merges per-token predictions of the windows back onto the source encoding: each source token takes
 * the prediction of the window in which it is most central (farthest from either edge; ties go to
 * the earlier window). Source special tokens take the first window's `[CLS]` prediction when they
 * come before the content, else the last window's `[SEP]` prediction.
 */
export function mergeWindows<T>(
  source: Encoding,
  windows: readonly Window[],
  predictions: readonly (readonly T[])[],
): T[] {
  if (windows.length !== predictions.length) {
    throw new Error(`mergeWindows: ${predictions.length} predictions for ${windows.length} windows`);
  }
  const n = source.ids.length;
  const out = new Array<T>(n);
  const best = new Array<number>(n).fill(-1);
  windows.forEach((w, k) => {
    const p = predictions[k];
    if (p.length !== w.sourceIndex.length) {
      throw new Error(
        `mergeWindows: window ${k} has ${w.sourceIndex.length} tokens but ${p.length} predictions`,
      );
    }
    const m = w.sourceIndex.length;
    w.sourceIndex.forEach((src, j) => {
      if (src < 0) return;
      const centrality = Math.min(j - 1, m - 2 - j);
      if (centrality > best[src]) {
        best[src] = centrality;
        out[src] = p[j];
      }
    });
  });
  let seenContent = false;
  for (let t = 0; t < n; t++) {
    if (source.specialTokensMask[t] !== 1) {
      seenContent = true;
      continue;
    }
    if (windows.length === 0) continue;
    if (!seenContent) out[t] = predictions[0][0];
    else {
      const last = predictions[predictions.length - 1];
      out[t] = last[last.length - 1];
    }
  }
  return out;
}
