import assert from "node:assert/strict";
import { pathScore } from "../../../infer/crf.ts";
import { crfLogPartition, crfNll, crfNllBatch } from "../../../train/finetune/crf_loss_reference.ts";
import { allPaths, randomCase } from "../../infer/crf_cases.ts";

function bruteLogZ(emissions: number[][], params: Parameters<typeof pathScore>[1]): number {
  const scores = allPaths(emissions.length, params.start.length).map((p) => pathScore(emissions, params, p));
  const m = Math.max(...scores);
  return m + Math.log(scores.reduce((a, s) => a + Math.exp(s - m), 0));
}

Deno.test("crfNll() equals log Z minus the path score by brute-force enumeration", async (t) => {
  for (const [T, L] of [[1, 2], [2, 3], [3, 2], [4, 3]]) {
    await t.step(`T=${T} L=${L}`, () => {
      const { emissions, params } = randomCase(T, L, 100 + T * 10 + L);
      const tags = Array.from({ length: T }, (_, k) => (k * 2 + 1) % L);
      const logZ = bruteLogZ(emissions, params);
      assert.ok(Math.abs(crfLogPartition(emissions, params) - logZ) < 1e-12);
      assert.ok(
        Math.abs(crfNll(emissions, tags, params).loss - (logZ - pathScore(emissions, params, tags))) < 1e-12,
      );
    });
  }
});

Deno.test("crfNll() gradient matches central finite differences", async (t) => {
  const h = 1e-5;
  for (const [T, L] of [[1, 3], [3, 3], [4, 2]]) {
    await t.step(`T=${T} L=${L}`, () => {
      const { emissions, params } = randomCase(T, L, 7 + T * 3 + L);
      const tags = Array.from({ length: T }, (_, k) => (k + 1) % L);
      const { grad } = crfNll(emissions, tags, params);
      const loss = () => crfNll(emissions, tags, params).loss;
      const check = (arr: number[], i: number, analytic: number, name: string) => {
        const keep = arr[i];
        arr[i] = keep + h;
        const up = loss();
        arr[i] = keep - h;
        const down = loss();
        arr[i] = keep;
        const numeric = (up - down) / (2 * h);
        assert.ok(
          Math.abs(numeric - analytic) < 1e-7,
          `${name}[${i}]: numeric ${numeric} vs analytic ${analytic}`,
        );
      };
      emissions.forEach((row, t) =>
        row.forEach((_, j) => check(row, j, grad.emissions[t][j], `emissions[${t}]`))
      );
      (params.transitions as number[][]).forEach((row, i) =>
        row.forEach((_, j) => check(row, j, grad.transitions[i][j], `transitions[${i}]`))
      );
      (params.start as number[]).forEach((_, j) =>
        check(params.start as number[], j, grad.start[j], "start")
      );
      (params.end as number[]).forEach((_, j) => check(params.end as number[], j, grad.end[j], "end"));
    });
  }
});

Deno.test("crfNllBatch() applies lengths and pytorch-crf's reductions", () => {
  const a = randomCase(4, 3, 11);
  const b = randomCase(4, 3, 12);
  const params = a.params;
  const tags = [[0, 1, 2, 0], [2, 2, 1, 0]];
  const one = crfNll(a.emissions, tags[0], params).loss;
  const two = crfNll(b.emissions.slice(0, 2), tags[1].slice(0, 2), params).loss;
  const sum = crfNllBatch([a.emissions, b.emissions], tags, [4, 2], params, "sum");
  assert.ok(Math.abs(sum.loss - (one + two)) < 1e-12);
  assert.deepEqual(sum.grad.emissions[1][2], [0, 0, 0]); // past the length: no gradient
  const mean = crfNllBatch([a.emissions, b.emissions], tags, [4, 2], params, "mean");
  assert.ok(Math.abs(mean.loss - (one + two) / 2) < 1e-12);
  assert.ok(Math.abs(mean.grad.start[0] - sum.grad.start[0] / 2) < 1e-12);
  const tokenMean = crfNllBatch([a.emissions, b.emissions], tags, [4, 2], params, "token_mean");
  assert.ok(Math.abs(tokenMean.loss - (one + two) / 6) < 1e-12);
  assert.throws(() => crfNllBatch([a.emissions], [tags[0]], [0], params), /length 0 of sequence 0/);
});
