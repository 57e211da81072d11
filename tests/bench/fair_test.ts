import assert from "node:assert/strict";
import {
  bestPeerRun,
  encoderFlops,
  gflops,
  parseCpuInfo,
  peerEnvironment,
  peerThreadOrder,
  pretrainingFlops,
  tokenClassificationFlops,
  trainingFlops,
} from "../../bench/fair.ts";
import { flopsPerToken, summarize } from "../../bench/main.ts";
import { runPeer } from "../../bench/peer.ts";
import { chainFlops, measureRoofline, rooflineChains } from "../../bench/roofline.ts";
import { ELECTRA_SMALL, electraConfig } from "../../onnx/electra/config.ts";

// hidden 4, FFN 8, 1 layer, embedding 2 (projected), vocabulary 10.
const tiny = electraConfig({
  ...ELECTRA_SMALL,
  vocabSize: 10,
  embeddingSize: 2,
  hiddenSize: 4,
  intermediateSize: 8,
  numHiddenLayers: 1,
  numAttentionHeads: 2,
});

Deno.test("encoderFlops and tokenClassificationFlops count GEMM multiply–adds by hand", () => {
  // batch 1 × seq 3: projection 2·3·2·4 = 48; Q,K,V,O 4·2·3·16 = 384; up+down 2·2·3·32 = 384;
  // attention QKᵀ and AV 2·2·1·3·3·4 = 144 → 960; classifier 2·3·4·5 = 120.
  assert.equal(encoderFlops(tiny, 1, 3), 960);
  assert.equal(tokenClassificationFlops(tiny, 1, 3, 5), 1080);
  // Without a projection (embedding = hidden) the first term goes.
  assert.equal(encoderFlops({ ...tiny, embeddingSize: 4 }, 1, 3), 912);
  // ELECTRA-small at 32 × 128, 13 labels, per token: 12 × (1,572,864 dense + 131,072 attention)
  // + 65,536 projection + 6,656 classifier = 20,519,424 (≈ 84 GFLOP per 4,096-token batch).
  assert.equal(tokenClassificationFlops(ELECTRA_SMALL, 32, 128, 13) / 4096, 20_519_424);
  assert.equal(trainingFlops(1080), 3240);
  assert.equal(gflops(1000, 2e6), 2);
});

Deno.test("pretrainingFlops: generator + masked-LM head at the predictions + discriminator + its head", () => {
  const gen = electraConfig({ ...tiny, hiddenSize: 2, intermediateSize: 4, numAttentionHeads: 1 });
  // generator encoder at batch 1 × seq 3 (embedding = hidden = 2: no projection): 2·3·(4·4 + 2·2·4) = 192
  // + 2·2·3·3·2 = 72 → 264;
  // LM head at 2 positions: 2·2·2·2 = 16 dense + 2·2·2·10 = 80 logits; discriminator 960;
  // its head 2·3·4·4 = 96 + 2·3·4 = 24.
  assert.equal(encoderFlops(gen, 1, 3), 264);
  assert.equal(pretrainingFlops(tiny, gen, 1, 3, 2), 264 + 16 + 80 + 960 + 96 + 24);
});

Deno.test("flopsPerToken: training rows are 3× their forward; int8 counts the float32 graph's work", () => {
  const f = flopsPerToken(32, 128);
  assert.equal(f.inference, 20_519_424);
  assert.equal(f.inference_int8, f.inference);
  assert.equal(f.finetune, 3 * f.inference);
  assert.ok(f.pretrain > f.finetune, "pretraining adds the generator and its LM head");
});

Deno.test("peerEnvironment drops the OpenBLAS pinning variables (kept when pinned) and keeps the rest", () => {
  const env = { OPENBLAS_CORETYPE: "Haswell", OPENBLAS_L2_SIZE: "262144", PATH: "/bin", HOME: "/root" };
  const fair = peerEnvironment(env);
  assert.deepEqual(fair.env, { PATH: "/bin", HOME: "/root" });
  assert.deepEqual(fair.removed, { OPENBLAS_CORETYPE: "Haswell", OPENBLAS_L2_SIZE: "262144" });
  const pinned = peerEnvironment(env, true);
  assert.deepEqual(pinned.env, env);
  assert.deepEqual(pinned.removed, {});
});

Deno.test("parseCpuInfo: model, processor count, flags and the SIMD ones", () => {
  const text = [0, 1].map((p) =>
    `processor\t: ${p}\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse sse2 ssse3 fma avx avx2 avx512f avx512_vnni amx_tile pclmulqdq\n`
  ).join("\n");
  const c = parseCpuInfo(text);
  assert.equal(c.model, "Intel(R) Xeon(R) Processor");
  assert.equal(c.cpus, 2);
  assert.equal(c.flags.length, 11);
  assert.deepEqual(c.simd, [
    "sse",
    "sse2",
    "ssse3",
    "fma",
    "avx",
    "avx2",
    "avx512f",
    "avx512_vnni",
    "amx_tile",
  ]);
  assert.deepEqual(parseCpuInfo(""), { model: "", cpus: 0, flags: [], simd: [] });
});

Deno.test("bestPeerRun keeps the faster thread setting per metric; peerThreadOrder alternates", () => {
  const best = bestPeerRun([
    { threads: 1, train_tokens_per_s: 900, infer_tokens_per_s: 9000, peak_rss_kib: 100 },
    { threads: 2, train_tokens_per_s: 1200, infer_tokens_per_s: 8000, peak_rss_kib: 150 },
  ]);
  assert.deepEqual(best, {
    train_tokens_per_s: 1200,
    infer_tokens_per_s: 9000,
    train_threads: 2,
    infer_threads: 1,
    peak_rss_kib: 150,
  });
  assert.throws(() => bestPeerRun([]), /no peer runs/);
  assert.deepEqual(peerThreadOrder(0, 2), [1, 2]);
  assert.deepEqual(peerThreadOrder(1, 2), [2, 1]);
  assert.deepEqual(peerThreadOrder(0, 1), [1], "no more threads than CPUs");
});

Deno.test("summarize: ratios of medians, paired ratios, GFLOP/s and roofline shares per row", () => {
  const ours = {
    inference: [{ tokens_per_s: 1000, peak_rss_kib: 10 }, { tokens_per_s: 3000, peak_rss_kib: 30 }],
  };
  const peer = [
    { train_tokens_per_s: 1, infer_tokens_per_s: 500, train_threads: 1, infer_threads: 2, peak_rss_kib: 40 },
    { train_tokens_per_s: 1, infer_tokens_per_s: 3000, train_threads: 1, infer_threads: 1, peak_rss_kib: 40 },
  ];
  const [row] = summarize(["inference", "tokenizer"], ours, peer, { inference: 1e6 }, 4);
  assert.equal(row.bench, "inference");
  assert.equal(row.ours_tokens_per_s, 2000);
  assert.equal(row.peer_tokens_per_s, 1750);
  assert.equal(row.ratio, 2000 / 1750);
  assert.equal(row.paired_ratio, 1.5, "median of 1000/500 and 3000/3000");
  assert.equal(row.ours_gflops, 2);
  assert.equal(row.ours_roofline_share, 0.5);
  assert.equal(row.peer_roofline_share, 1.75 / 4);
  assert.deepEqual(row.peer_threads, [2, 1]);
  assert.equal(row.memory_ratio, 0.5);
  // Pretraining is paired with the RTD reference where it ran, else with the peer's fine-tuning step.
  const pre = { pretrain: [{ tokens_per_s: 600, peak_rss_kib: 1 }] };
  const withRtd = [{ ...peer[0], pretrain_tokens_per_s: 400, pretrain_threads: 2 }];
  const [a] = summarize(["pretrain"], pre, withRtd, { pretrain: 1 }, NaN);
  assert.equal(a.paired_ratio, 1.5);
  assert.deepEqual(a.peer_threads, [2]);
  assert.match(a.versus, /rtd_reference/);
  assert.ok(Number.isNaN(a.ours_roofline_share), "no roofline, no share");
  const [b] = summarize(["pretrain"], pre, [peer[0]], { pretrain: 1 }, NaN);
  assert.equal(b.paired_ratio, 600);
  assert.match(b.versus, /fine-tuning/);
});

Deno.test("runPeer runs the peer without the pinning variables, at the asked torch threads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nersota-peer-test-" });
  try {
    // A stand-in interpreter: echoes its --threads argument and what it sees of the pinning variables.
    const fake = `${dir}/python`;
    await Deno.writeTextFile(
      fake,
      `#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --threads ] && t=$2; shift; done\n` +
        `echo '{"peer":"fake","batch":2,"seq":4,"train_tokens_per_s":10,"infer_tokens_per_s":20,` +
        `"seen":"'"\${OPENBLAS_CORETYPE:-unset}/\${OPENBLAS_L2_SIZE:-unset}/\${KEEP_ME:-unset}"'","t":'$t'}'\n`,
    );
    await Deno.chmod(fake, 0o755);
    const script = new URL(`file://${dir}/peer.py`);
    await Deno.writeTextFile(script, "");
    Deno.env.set("OPENBLAS_CORETYPE", "Haswell");
    Deno.env.set("OPENBLAS_L2_SIZE", "262144");
    Deno.env.set("KEEP_ME", "yes");
    const fair = await runPeer({ python: fake, script, threads: 2, batch: 2, seq: 4 });
    const r = fair.result as unknown as Record<string, unknown>;
    assert.equal(r.seen, "unset/unset/yes");
    assert.equal(r.t, 2);
    assert.equal(r.threads, 2);
    const pinned = await runPeer({ python: fake, script, pinned: true });
    assert.equal((pinned.result as unknown as Record<string, unknown>).seen, "Haswell/262144/yes");
    assert.equal(pinned.result!.threads, 1, "the peer script's default");
    const missing = await runPeer({ python: fake, script: new URL(`file://${dir}/nope.py`) });
    assert.match(missing.skipped!, /peer script not found/);
  } finally {
    for (const k of ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "KEEP_ME"]) Deno.env.delete(k);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("measureRoofline: every chain at every thread setting, the best among them", async () => {
  assert.deepEqual(rooflineChains(tiny, 4), [[[4, 4], [4, 4], [4, 4], [4, 4]], [[4, 8], [8, 4], [4, 8], [
    8,
    4,
  ]]]);
  assert.equal(chainFlops(3, [[4, 8], [8, 4]]), 2 * 3 * 32 * 2);
  const r = await measureRoofline({ batch: 2, seq: 4, config: tiny, threads: [1, 2], seconds: 0 });
  assert.deepEqual(r.cases.map((c) => [c.shape, c.threads]), [
    ["8×4·4×4", 1],
    ["8×4·4×4", 2],
    ["8×4·4×8 + 8×8·8×4", 1],
    ["8×4·4×8 + 8×8·8×4", 2],
  ]);
  assert.ok(r.cases.every((c) => c.gflops > 0 && c.gflops <= r.best_gflops));
  assert.equal(r.best_gflops, Math.max(...r.cases.map((c) => c.gflops)));
});
