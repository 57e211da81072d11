// The GPU probe: its parsers and arithmetic against hand-written inputs, and the whole script
// (bench/gpu_probe.sh → bench/gpu_probe.ts) in fast mode on this machine's CPU, where the GPU parts must come
// out as absent (or, on a machine with a GPU, as measured) and the CPU parts as measured.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cudaVersionFromBanner,
  isSoftwareAdapter,
  parseIcd,
  parseNvidiaSmiCsv,
} from "../../bench/gpu_system.ts";
import { ortLines, planDeadlines, projectHours, projection, toJson } from "../../bench/gpu_probe.ts";
import { entityDifferences, maxAbsDiff, sweepBatches } from "../../bench/gpu_probe_parts.ts";
import { readPretrainConfig } from "../../train/pretrain/pretrain_config.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("parseNvidiaSmiCsv() reads one GPU per line and names a malformed line", () => {
  const gpus = parseNvidiaSmiCsv(
    "NVIDIA H200, 580.159.03, 143771, 9.0, 00000000:19:00.0\nNVIDIA H100 80GB HBM3, 570.1, 81559, 9.0, 00000000:1A:00.0\n",
  );
  assert.deepEqual(gpus[0], {
    name: "NVIDIA H200",
    driver_version: "580.159.03",
    memory_total_mib: 143771,
    compute_cap: "9.0",
    pci_bus_id: "00000000:19:00.0",
  });
  assert.equal(gpus[1].name, "NVIDIA H100 80GB HBM3");
  assert.deepEqual(parseNvidiaSmiCsv("\n"), []);
  assert.throws(() => parseNvidiaSmiCsv("NVIDIA H200, 580\n"), /line 1 of nvidia-smi's output: expected 5/);
  assert.equal(
    cudaVersionFromBanner("| NVIDIA-SMI 580.159.03   Driver Version: 580.159.03   CUDA Version: 13.0 |"),
    "13.0",
  );
  assert.equal(cudaVersionFromBanner("no banner"), null);
});

Deno.test("parseIcd() reads a Vulkan ICD manifest and names the file it cannot read", () => {
  const icd = parseIcd(
    "/x/nvidia_icd.json",
    '{"file_format_version": "1.0.1", "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.4.312"}}',
  );
  assert.deepEqual(icd, { library_path: "libGLX_nvidia.so.0", api_version: "1.4.312" });
  assert.throws(() => parseIcd("/x/a.json", "{"), /Cannot parse Vulkan ICD manifest "\/x\/a\.json"/);
  assert.throws(() => parseIcd("/x/b.json", '{"ICD": {}}'), /"\/x\/b\.json" has no ICD\.library_path/);
  assert.ok(isSoftwareAdapter("llvmpipe (LLVM 15.0.6, 256 bits)"));
  assert.ok(!isSoftwareAdapter("NVIDIA H200"));
});

Deno.test("planDeadlines() shares the time by weight, cumulatively; projectHours() is tokens / rate / 3600", () => {
  assert.deepEqual(planDeadlines([1, 3, 2, 2], 80, 1000), [11_000, 41_000, 61_000, 81_000]);
  assert.deepEqual(planDeadlines([], 80, 0), []);
  assert.equal(projectHours(36_000_000, 10_000), 1);
  assert.equal(projectHours(8_192_000_000, 1_000_000), 8_192_000_000 / 1_000_000 / 3600);
});

Deno.test("projection() turns each provider's measured tokens/s into hours for configs/small_config.json's tokens", async () => {
  const t = (await readPretrainConfig(join(ROOT, "configs/small_config.json"))).train;
  const tokens = t.trainSteps * t.batchSize * t.maxSeqLength;
  const report = {
    providers: {
      webgpu: {
        pretrain: {
          reference: { batch: 32, tokens_per_s: 20_000 },
          largest: { batch: 512, tokens_per_s: 80_000 },
        },
        "pretrain-run": { batch: 32, loop_tokens_per_s: 16_000 },
      },
      cuda: { status: "absent" },
      cpu: { pretrain: { reference: { batch: 32, error: "out of memory" }, largest: null } },
    },
  };
  const p = await projection(report) as {
    target: { tokens: number };
    by_provider: Record<string, Record<string, { batch: number; tokens_per_s: number; hours: number }>>;
  };
  assert.equal(p.target.tokens, tokens);
  assert.deepEqual(Object.keys(p.by_provider), ["webgpu"]);
  const w = p.by_provider.webgpu;
  assert.deepEqual(w.at_reference_batch, { batch: 32, tokens_per_s: 20_000, hours: tokens / 20_000 / 3600 });
  assert.deepEqual(w.at_largest_batch, { batch: 512, tokens_per_s: 80_000, hours: tokens / 80_000 / 3600 });
  assert.equal(w.real_loop.hours, tokens / 16_000 / 3600);
});

Deno.test("sweepBatches() doubles the batch until a step fails, the largest batch is reached, or the budget ends", async (t) => {
  const feeds = (B: number) => ({ x: { dtype: "float32" as const, dims: [B], data: new Float32Array(B) } });
  const seen: number[] = [];
  const opts = {
    seq: 4,
    refBatch: 2,
    maxBatch: 64,
    steps: 2,
    lr: 0.1,
    budgetS: 600,
    start: performance.now(),
  };
  await t.step("failure", async () => {
    const partials: [number | null, string][] = [];
    const r = await sweepBatches(
      (f) => {
        const B = f.x.dims[0];
        seen.push(B);
        return B >= 16 ? Promise.reject(new Error(`out of memory at ${B}`)) : Promise.resolve(1 / B);
      },
      feeds,
      { ...opts, onRow: (p) => partials.push([p.largest_batch, p.stopped]) },
    );
    // After each batch size that ran, the result so far (what a part killed at its deadline keeps).
    assert.deepEqual(partials, [[2, "in progress"], [4, "in progress"], [8, "in progress"]]);
    assert.equal(r.stopped, "error");
    assert.deepEqual(r.sweep.map((x) => x.batch), [2, 4, 8, 16]);
    assert.equal(r.largest_batch, 8);
    assert.deepEqual(r.sweep.at(-1), { batch: 16, error: "out of memory at 16" });
    const ref = r.reference as { steps: number; tokens_per_s: number; step_ms: number; last_loss: number };
    assert.equal(ref.steps, 2);
    assert.equal(ref.last_loss, 0.5);
    assert.ok(Math.abs(ref.tokens_per_s - (2 * 4 * 1000) / ref.step_ms) < 1e-6 * ref.tokens_per_s);
    assert.deepEqual(seen.slice(0, 3), [2, 2, 2]); // warm-up then two timed steps at the reference batch
  });
  await t.step("largest batch of the mode", async () => {
    const r = await sweepBatches(() => Promise.resolve(1), feeds, { ...opts, maxBatch: 8 });
    assert.equal(r.stopped, "max-batch");
    assert.equal(r.largest_batch, 8);
  });
  await t.step("budget", async () => {
    const r = await sweepBatches(() => Promise.resolve(1), feeds, { ...opts, budgetS: 0 });
    assert.equal(r.stopped, "budget");
    assert.deepEqual(r.sweep.map((x) => x.batch), [2]);
    assert.equal((r.reference as { steps: number }).steps, 1);
  });
  await t.step("a loss that is not finite ends the sweep", async () => {
    const r = await sweepBatches(() => Promise.resolve(NaN), feeds, opts);
    assert.equal(r.stopped, "error");
    assert.deepEqual(r.sweep.at(-1), { batch: 2, error: "the loss is NaN" });
  });
});

Deno.test("entityDifferences(), maxAbsDiff(), ortLines() and toJson() on hand-made inputs", () => {
  const e = (type: string, start: number, end: number) => ({ type, text: "", start, end, score: 0.9 });
  assert.deepEqual(entityDifferences([[e("PS", 0, 2)], []], [[{ ...e("PS", 0, 2), score: 0.5 }], []]), []);
  assert.deepEqual(entityDifferences([[e("PS", 0, 2)]], [[e("LC", 0, 2)]]), [
    "text 0: cpu [PS:0-2] vs [LC:0-2]",
  ]);
  assert.equal(maxAbsDiff([1, 2, 3], [1, 2.5, 2]), 1);
  assert.equal(maxAbsDiff([1], [1, 2]), Infinity);
  assert.equal(maxAbsDiff([1, 2], [1, NaN]), Infinity);
  const stderr =
    "\x1b[1;31m2026-12-05 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] " +
    "Failed to load library libonnxruntime_providers_shared.so\x1b[m\nother line\n" +
    "2026-12-05 [W:onnxruntime:, session_state.cc:1280 VerifyEachNodeIsAssignedToAnEp] Some nodes were not assigned\n";
  const lines = ortLines(stderr);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^2026-12-05 \[E:onnxruntime.*providers_shared\.so$/);
  assert.match(lines[1], /VerifyEachNodeIsAssignedToAnEp/);
  assert.deepEqual(JSON.parse(toJson({ a: Infinity, b: NaN, c: 1 })), { a: "Infinity", b: "NaN", c: 1 });
});

/** Runs bench/gpu_probe.sh with this Deno in a temporary OUT and returns the report, log and exit code. */
async function runScript(args: string[]) {
  const out = await Deno.makeTempDir({ prefix: "gpu-probe-test-" });
  const r = await new Deno.Command("bash", {
    args: [join(ROOT, "bench/gpu_probe.sh"), ...args],
    env: { OUT: out, NERSOTA_DENO: Deno.execPath() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const report = JSON.parse(await Deno.readTextFile(join(out, "gpu_probe.json")));
  const log = await Deno.readTextFile(join(out, "gpu_probe.log"));
  await Deno.remove(out, { recursive: true });
  return { code: r.code, report, log, stderr: new TextDecoder().decode(r.stderr) };
}

type Rec = Record<string, unknown>;

Deno.test("bench/gpu_probe.sh --fast on this machine: a complete report, CPU parts measured, GPU parts absent or measured", async () => {
  // A generous budget: on a loaded 2-core machine the parts' deadlines must not decide the outcome.
  const { code, report, log, stderr } = await runScript(["--fast", "--budget-s", "900"]);
  assert.equal(code, 0, stderr.slice(-3000));
  assert.match(log, /running bench\/gpu_probe\.ts --fast/);
  assert.equal(report.format, "nersota-gpu-probe/1");
  assert.equal(report.mode, "fast");
  assert.equal(report.complete, true);
  assert.ok(report.host.cpus >= 1);
  const smi = report.gpu.nvidia_smi;
  assert.equal(typeof smi.found, "boolean");
  if (!smi.found) assert.match(smi.error, /^nvidia-smi: /);
  else assert.ok(smi.gpus.length >= 1);
  assert.ok(Array.isArray(report.vulkan.icds));
  assert.ok(["ok", "absent", "error", "timeout"].includes(report.webgpu.status), report.webgpu.status);
  assert.ok(["ok", "unavailable", "error", "timeout"].includes(report.cuda.status), report.cuda.status);
  if (report.cuda.status !== "ok") {
    // The exact error ONNX Runtime gave, and the libraries it looked for.
    assert.match(report.cuda.error, /provider "cuda"/);
    assert.equal(typeof report.cuda.provider_libraries["libonnxruntime_providers_cuda.so"], "boolean");
    assert.equal(report.providers.cuda.status, "absent");
    assert.match(report.providers.cuda.reason, /CUDA provider does not load/);
  }
  if (report.webgpu.status !== "ok" || !report.webgpu.hardware) {
    assert.equal(report.providers.webgpu.status, "absent");
  }

  const cpu = report.providers.cpu;
  assert.equal(cpu.status, "ok", toJson(cpu).slice(0, 3000));
  for (const kind of ["pretrain", "finetune"]) {
    const ref = cpu[kind].reference as Rec;
    assert.equal(ref.batch, 8);
    assert.equal(ref.seq, 32);
    const ms = ref.step_ms as number;
    assert.ok(ms > 0 && Number.isFinite(ref.last_loss as number));
    assert.ok(
      Math.abs((ref.tokens_per_s as number) - (8 * 32 * 1000) / ms) < 1e-6 * (ref.tokens_per_s as number),
    );
    assert.ok(Math.abs((ref.steps_per_s as number) - 1000 / ms) < 1e-9 * (ref.steps_per_s as number));
    assert.equal(cpu[kind].largest_batch, 8); // host-memory providers stop at the reference batch
  }
  const run = cpu["pretrain-run"];
  assert.equal(run.updates, 20);
  assert.equal(run.loss_falls, true);
  assert.ok(run.eval_loss_last < run.eval_loss_first, `${run.eval_loss_first} → ${run.eval_loss_last}`);
  assert.ok(run.train_loss_last < run.train_loss_first);

  // wasm is onnxruntime-web, the runtime WebGPU goes through: parity with cpu and a falling loss there too.
  const wasm = report.providers.wasm;
  assert.equal(wasm.status, "ok", toJson(wasm).slice(0, 3000));
  assert.equal(wasm.parity.entities_equal, true, wasm.parity.differences.join("; "));
  assert.ok(wasm.parity.entities > 0);
  assert.ok(wasm.parity.max_logit_diff < 1e-3, `max logit difference ${wasm.parity.max_logit_diff}`);
  assert.equal(wasm["pretrain-run"].loss_falls, true);
  assert.deepEqual(report.projection, {
    skipped: "fast mode measures a tiny model, not ELECTRA-small: run without --fast for hours",
  });
});

Deno.test("a part past its deadline is stopped and reported as a timeout; the report is still complete", async () => {
  const out = join(await Deno.makeTempDir({ prefix: "gpu-probe-timeout-" }), "r.json");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(ROOT, "bench/gpu_probe.ts"),
      "--fast",
      "--providers",
      "cpu",
      "--parts",
      "pretrain-run,finetune",
      "--part-timeout-s",
      "0.5",
      "--out",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr).slice(-2000));
  const report = JSON.parse(await Deno.readTextFile(out));
  await Deno.remove(join(out, ".."), { recursive: true });
  assert.equal(report.complete, true);
  const run = report.providers.cpu["pretrain-run"];
  assert.equal(run.status, "timeout");
  assert.match(run.error, /stopped at its deadline/);
  // The next part ran in a fresh child process (or timed out itself): either way it has a record.
  assert.ok(["ok", "timeout"].includes(report.providers.cpu.finetune.status));
});
