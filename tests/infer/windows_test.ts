import assert from "node:assert/strict";
import { mergeWindows, splitWindows } from "../../infer/windows.ts";
import type { Encoding } from "../../infer/encoding.ts";

function encoding(n: number): Encoding {
  // [CLS] t0 … t(n-1) [SEP]; token k covers characters [2k, 2k+1).
  return {
    ids: [2, ...Array.from({ length: n }, (_, k) => 100 + k), 3],
    tokens: ["[CLS]", ...Array.from({ length: n }, (_, k) => `t${k}`), "[SEP]"],
    offsets: [[0, 0], ...Array.from({ length: n }, (_, k) => [2 * k, 2 * k + 1] as [number, number]), [0, 0]],
    wordIds: [null, ...Array.from({ length: n }, (_, k) => k), null],
    specialTokensMask: [1, ...new Array(n).fill(0), 1],
  };
}
const opts = { maxLength: 6, stride: 2, clsId: 2, sepId: 3 };

Deno.test("splitWindows() keeps a short encoding whole", () => {
  const w = splitWindows(encoding(4), opts);
  assert.equal(w.length, 1);
  assert.deepEqual(w[0].encoding, encoding(4));
  assert.deepEqual(w[0].sourceIndex, [-1, 1, 2, 3, 4, -1]);
});

Deno.test("splitWindows() overlaps windows by the stride and re-adds [CLS]/[SEP]", () => {
  const w = splitWindows(encoding(10), opts);
  // 4 content tokens per window, step 4 - 2 = 2: windows start at 0, 2, 4, 6.
  assert.deepEqual(w.map((x) => x.encoding.tokens.join(" ")), [
    "[CLS] t0 t1 t2 t3 [SEP]",
    "[CLS] t2 t3 t4 t5 [SEP]",
    "[CLS] t4 t5 t6 t7 [SEP]",
    "[CLS] t6 t7 t8 t9 [SEP]",
  ]);
  assert.deepEqual(w[1].encoding.offsets, [[0, 0], [4, 5], [6, 7], [8, 9], [10, 11], [0, 0]]);
  assert.deepEqual(w[1].encoding.specialTokensMask, [1, 0, 0, 0, 0, 1]);
  assert.deepEqual(w[1].encoding.wordIds, [null, 2, 3, 4, 5, null]);
  // 11 tokens: the last window is pulled back to end at t10 rather than run short.
  assert.deepEqual(splitWindows(encoding(11), opts).map((x) => x.sourceIndex[1] - 1), [0, 2, 4, 6, 7]);
  assert.throws(() => splitWindows(encoding(3), { ...opts, stride: 4 }), /stride 4 must be in \[0, 4\)/);
});

Deno.test("mergeWindows() takes each token from the window where it is most central", () => {
  const src = encoding(10);
  const w = splitWindows(src, opts);
  // Each window predicts its own index for every position.
  const merged = mergeWindows(src, w, w.map((x, k) => x.sourceIndex.map(() => k)));
  // Centrality in a window of 4 content tokens is 0, 1, 1, 0: t2 is central in window 0 (position 3),
  // t3 in window 1 (position 2), and so on; ties go to the earlier window.
  assert.deepEqual(merged, [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 3, 3]);
  assert.throws(() => mergeWindows(src, w, [[1]]), /1 predictions for 4 windows/);
});
