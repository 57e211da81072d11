// WebGPU through onnxruntime-web/webgpu on Deno's own WebGPU. On a software adapter (llvmpipe) a cold
// first run compiles every shader and has taken 40–100 s (4 s warm); NERSOTA_WEBGPU=0 skips it.
import { loadRecognizer } from "../../infer/pipeline.ts";
import { assertSameEntities, CROSS_TEXTS } from "./ner_fixture.ts";

const FIXTURE = new URL("../../fixtures/ner-tiny/", import.meta.url);
const wanted = Deno.env.get("NERSOTA_WEBGPU") !== "0";
const adapter = wanted ? await navigator.gpu?.requestAdapter().catch(() => null) : null;
const reason = !wanted
  ? "NERSOTA_WEBGPU=0"
  : !adapter
  ? "no WebGPU adapter (install mesa-vulkan-drivers for a software one)"
  : "";
if (reason) console.log(`webgpu_test: skipped: ${reason}`);

Deno.test({
  name: "results are identical on onnxruntime-node cpu and onnxruntime-web WebGPU",
  ignore: reason !== "",
  sanitizeResources: false,
  fn: async () => {
    const cpu = await loadRecognizer(FIXTURE, { provider: "cpu" });
    const ref = await cpu.recognize(CROSS_TEXTS);
    await cpu.release();
    // An adapter is there, so a session that cannot open is a failure, not a skip.
    const gpu = await loadRecognizer(FIXTURE, { provider: "webgpu" });
    assertSameEntities(await gpu.recognize(CROSS_TEXTS), ref, 1e-4, "webgpu");
    await gpu.release();
  },
});
