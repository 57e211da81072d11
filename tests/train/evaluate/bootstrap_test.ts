/**
 * The paired bootstrap: per-sentence counts add up to seqeval's scores (checked against `scoreSpans` on the
 * whole set and on draws with repeats, and by hand), and the draws' differences have the spread worked out by
 * hand for sets small enough to enumerate.
 */
import assert from "node:assert/strict";
import {
  drawScores,
  formatBootstrap,
  pairedBootstrap,
  sentenceCounts,
} from "../../../train/evaluate/bootstrap.ts";
import { noEntityRate, type ScoredSpan, scoreSpans } from "../../../train/evaluate/metrics.ts";

const span = (type: string, start: number, end: number): ScoredSpan => ({ type, start, end });

// Sentence 0: PS right, LC missed; 1: gold-empty, given a PS; 2: DT right, QT spurious; 3: gold-empty, nothing;
// 4: PS with the wrong end, and the same span twice in the gold (counted once, as seqeval's sets do).
const GOLD = [[span("PS", 0, 2), span("LC", 3, 5)], [], [span("DT", 0, 2)], [], [
  span("PS", 0, 3),
  span("PS", 0, 3),
]];
const PRED = [[span("PS", 0, 2)], [span("PS", 0, 1)], [span("DT", 0, 2), span("QT", 3, 4)], [], [
  span("PS", 0, 2),
]];

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

Deno.test("drawScores() of every sentence once: hand-computed, and equal to scoreSpans and noEntityRate", () => {
  const counts = sentenceCounts(GOLD, PRED);
  const s = drawScores(counts, [0, 1, 2, 3, 4]);
  // correct 2 (PS of 0, DT of 2), predicted 5, gold 4: micro F1 = 2·2 / (5 + 4) = 4/9.
  // PS: c1 p3 g2 → 2/5; LC: c0 p0 g1 → 0; DT: c1 p1 g1 → 1; QT: c0 p1 g0 → 0; macro = 1.4 / 4 = 0.35.
  close(s.micro, 4 / 9);
  close(s.macro, 0.35);
  close(s.noEntityRate, 1 / 2); // sentences 1 and 3 are gold-empty, 1 is given an entity
  const whole = scoreSpans(GOLD, PRED);
  close(s.micro, whole.micro.f1);
  close(s.macro, whole.macro.f1);
  close(s.noEntityRate, noEntityRate(GOLD, PRED).rate);
});

Deno.test("drawScores() of a draw with repeats equals scoreSpans of the repeated sentences", () => {
  const counts = sentenceCounts(GOLD, PRED);
  for (const draw of [[0, 0, 2], [1, 1, 1, 3], [4, 2, 4, 0, 0], [3]]) {
    const s = drawScores(counts, draw);
    const g = draw.map((i) => GOLD[i]), p = draw.map((i) => PRED[i]);
    const whole = scoreSpans(g, p);
    close(s.micro, whole.micro.f1);
    close(s.macro, whole.macro.f1); // macro over the types the draw has, as seqeval on those sentences
    close(s.noEntityRate, noEntityRate(g, p).rate);
  }
});

Deno.test("pairedBootstrap(): the same predictions differ by 0 in every draw", () => {
  const r = pairedBootstrap(GOLD, PRED, PRED, { samples: 300 });
  for (const m of [r.micro, r.macro, r.noEntityRate]) {
    assert.deepEqual([m.diff, m.low, m.high, m.bBetter], [0, 0, 0, 0]);
    assert.equal(m.a, m.b);
  }
  assert.deepEqual([r.samples, r.seed, r.level, r.sentences], [300, 1, 0.95, 5]);
});

Deno.test("pairedBootstrap(): two sentences, each model right on one, gives −1, 0, +1 by hand", () => {
  // Gold: one PS in each sentence. A finds the first, B the second. Draws of two sentences: {0,0} (¼): A 1,
  // B 0; {1,1} (¼): A 0, B 1; mixed (½): both c1 p1 g2 → 2/3. So B − A is −1, 0 or +1 with ¼, ½, ¼.
  const gold = [[span("PS", 0, 2)], [span("PS", 0, 2)]];
  const a = [[span("PS", 0, 2)], []], b = [[], [span("PS", 0, 2)]];
  const r = pairedBootstrap(gold, a, b, { samples: 4000, seed: 7 });
  assert.deepEqual([r.micro.diff, r.micro.low, r.micro.high], [0, -1, 1]);
  // The share of draws where B is better is ¼ (binomial sd ≈ 0.007 at 4,000 draws).
  assert.ok(Math.abs(r.micro.bBetter - 0.25) < 0.03, String(r.micro.bBetter));
  // A narrow level keeps only the middle: the 25th–75th percentiles are both 0.
  const mid = pairedBootstrap(gold, a, b, { samples: 4000, seed: 7, level: 0.4 });
  assert.deepEqual([mid.micro.low, mid.micro.high], [0, 0]);
});

Deno.test("pairedBootstrap(): A finds nothing, B everything: +1 in every draw; lower no-entity rate is better", () => {
  const gold = [[span("LC", 0, 2)], [span("DT", 1, 3)], []];
  const r = pairedBootstrap(gold, [[], [], [span("PS", 0, 1)]], gold, { samples: 500 });
  // Every draw with an entity-bearing sentence: A 0, B 1. A draw of only sentence 2 ((1/3)³ ≈ 4 %) has no gold
  // entity: both 0 there, so B − A is 0 in those draws and the share of B-better draws is below 1.
  assert.equal(r.micro.diff, 1);
  assert.equal(r.micro.high, 1);
  assert.ok(r.micro.bBetter > 0.9 && r.micro.bBetter < 1);
  assert.deepEqual([r.noEntityRate.a, r.noEntityRate.b, r.noEntityRate.diff], [1, 0, -1]);
  // B is better on the no-entity rate in every draw that holds sentence 2 (1 − (2/3)³ ≈ 70 %).
  assert.ok(Math.abs(r.noEntityRate.bBetter - 19 / 27) < 0.07, String(r.noEntityRate.bBetter));
});

Deno.test("pairedBootstrap(): the seed fixes the draws", () => {
  // B drops sentence 0's right PS (worse there) and sentence 1's spurious one (better there): draws disagree.
  const b = [[], [], PRED[2], [], PRED[4]];
  const one = pairedBootstrap(GOLD, PRED, b, { samples: 200, seed: 3 });
  assert.deepEqual(pairedBootstrap(GOLD, PRED, b, { samples: 200, seed: 3 }), one);
  assert.ok(one.micro.bBetter > 0 && one.micro.bBetter < 1);
  const other = pairedBootstrap(GOLD, PRED, b, { samples: 200, seed: 4 });
  assert.equal(other.micro.diff, one.micro.diff); // the whole-set scores do not depend on the draws
  assert.notDeepEqual(other, one);
});

Deno.test("pairedBootstrap() refuses bad settings and mismatched lists", () => {
  assert.throws(
    () => pairedBootstrap(GOLD, PRED, PRED, { samples: 0 }),
    /samples must be a whole number ≥ 1, got 0/,
  );
  assert.throws(
    () => pairedBootstrap(GOLD, PRED, PRED, { level: 1 }),
    /level must be between 0 and 1, got 1/,
  );
  assert.throws(() => pairedBootstrap(GOLD, PRED.slice(1), PRED), /5 gold sentences but 4 and 5 predicted/);
  assert.throws(() => sentenceCounts(GOLD, []), /5 gold sentences but 0 predicted/);
});

Deno.test("formatBootstrap(): one line per metric, in %, with the interval and the share", () => {
  const gold = [[span("PS", 0, 2)], [span("PS", 0, 2)]];
  const r = pairedBootstrap(gold, [[span("PS", 0, 2)], []], gold, { samples: 100 });
  const text = formatBootstrap(r, "a", "b");
  assert.match(text, /^Paired bootstrap, 2 sentences, 100 draws \(seed 1\): A = a, B = b\n/);
  assert.match(text, /\nmetric\tA\tB\tB − A\t95 % interval\tshare of draws B better\n/);
  // A: c1 p1 g2 → 2/3; B: 1.
  assert.match(text, /\nmicro F1\t66\.67\t100\.00\t\+33\.33\t\[\+0\.00, \+100\.00\]\t0\.\d{3}\n/);
  assert.match(text, /\nno-entity rate\t0\.00\t0\.00\t\+0\.00\t\[\+0\.00, \+0\.00\]\t0\.000$/);
});
