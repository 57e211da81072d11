import assert from "node:assert/strict";
import { bioConstraints, pathScore, viterbi } from "../../infer/crf.ts";
import { allPaths, randomCase } from "./crf_cases.ts";

Deno.test("viterbi() finds the best path found by enumerating every path", async (t) => {
  for (const [T, L] of [[1, 3], [2, 2], [3, 3], [4, 3], [4, 2]]) {
    for (let seed = 1; seed <= 5; seed++) {
      await t.step(`T=${T} L=${L} seed=${seed}`, () => {
        const { emissions, params } = randomCase(T, L, seed * 31 + T * 7 + L);
        let best = -Infinity;
        let bestPath: number[] = [];
        for (const p of allPaths(T, L)) {
          const s = pathScore(emissions, params, p);
          if (s > best) [best, bestPath] = [s, p];
        }
        const v = viterbi(emissions, params);
        assert.deepEqual(v.path, bestPath);
        assert.ok(Math.abs(v.score - best) < 1e-12);
      });
    }
  }
});

Deno.test("bioConstraints() forbids I- after O or another type, and I- at the start", () => {
  const labels = ["O", "B-PS", "I-PS", "B-LC", "I-LC"];
  const c = bioConstraints(labels);
  assert.deepEqual(c.start, [true, true, false, true, false]);
  assert.deepEqual(c.transitions.map((r) => r.map((x) => (x ? 1 : 0)).join("")), [
    "11010",
    "11110",
    "11110",
    "11011",
    "11011",
  ]);
  // Emissions that prefer "O I-PS" end up as "O B-PS" (the best allowed path).
  const emissions = [[2, 0, 0, 0, 0], [0, 1, 3, 0, 0]];
  const zero = {
    transitions: labels.map(() => labels.map(() => 0)),
    start: labels.map(() => 0),
    end: labels.map(() => 0),
  };
  assert.deepEqual(viterbi(emissions, zero).path, [0, 2]);
  assert.deepEqual(viterbi(emissions, zero, c).path, [0, 1]);
});

Deno.test("bioConstraints() for BIOES also requires entities to close", () => {
  const labels = ["O", "B-PS", "I-PS", "E-PS", "S-PS"];
  const c = bioConstraints(labels);
  assert.deepEqual(c.end, [true, false, false, true, true]);
  assert.deepEqual(c.transitions.map((r) => r.map((x) => (x ? 1 : 0)).join("")), [
    "11001",
    "00110",
    "00110",
    "11001",
    "11001",
  ]);
  const zero = {
    transitions: labels.map(() => labels.map(() => 0)),
    start: labels.map(() => 0),
    end: labels.map(() => 0),
  };
  // Alone, B-PS then O would win; with constraints it must be B-PS E-PS.
  assert.deepEqual(viterbi([[0, 5, 0, 0, 0], [1, 0, 0, 0.5, 0]], zero, c).path, [1, 3]);
});
