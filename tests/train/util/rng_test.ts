import assert from "node:assert/strict";
import { Rng } from "../../../train/util/rng.ts";

Deno.test("Rng is deterministic in its seed and labels", () => {
  const a = new Rng(7, "mask", 3), b = new Rng(7, "mask", 3);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.nextUint32()));
  // Another label or seed is another stream.
  assert.notEqual(new Rng(7, "mask", 4).nextUint32(), new Rng(7, "mask", 3).nextUint32());
  assert.notEqual(new Rng(8).nextUint32(), new Rng(7).nextUint32());
});

Deno.test("Rng state() / fromState() continue the same stream", () => {
  const a = new Rng(123);
  for (let i = 0; i < 10; i++) a.next();
  const state = a.state();
  const b = Rng.fromState(JSON.parse(JSON.stringify(state)));
  for (let i = 0; i < 50; i++) assert.equal(b.next(), a.next());
  assert.throws(() => Rng.fromState([1, 2, 3] as never), /four unsigned 32-bit integers/);
  assert.throws(() => Rng.fromState([1, 2, 3, -1]), /Invalid RNG state/);
});

Deno.test("Rng.next() is uniform in [0, 1) and int() stays in range without bias", () => {
  const r = new Rng(1);
  let sum = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 6000; i++) counts[r.int(6)]++;
  for (const c of counts) assert.ok(c > 850 && c < 1150, `counts ${counts}`);
  assert.throws(() => r.int(0), RangeError);
});

Deno.test("Rng.permutation() is a permutation", () => {
  const p = new Rng(5).permutation(100);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 100 }, (_, i) => i));
});
