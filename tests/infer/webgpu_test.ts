// WebGPU through onnxruntime-web/webgpu on Deno's own WebGPU. On a software adapter (llvmpipe) the
// first run compiles every shader and takes 40–100 s, so this runs only when asked:
//   NERSOTA_WEBGPU=1 deno test -A tests/infer/webgpu_test.ts
import { loadRecognizer } from "../../infer/pipeline.ts";
import { assertSameEntities, CROSS_TEXTS } from "./ner_fixture.ts";

const FIXTURE = new URL("../../fixtures/ner-tiny/", import.meta.url);
const wanted = Deno.env.get("NERSOTA_WEBGPU") === "1";
const adapter = wanted ? await navigator.gpu?.requestAdapter().catch(() => null) : null;
const reason = !wanted
  ? "set NERSOTA_WEBGPU=1 to run (slow on software adapters)"
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
    let gpu;
    try {
      gpu = await loadRecognizer(FIXTURE, { provider: "webgpu" });
    } catch (e) {
      console.log(`webgpu_test: skipped: cannot open a WebGPU session: ${(e as Error).message}`);
      return;
    }
    assertSameEntities(await gpu.recognize(CROSS_TEXTS), ref, 1e-4, "webgpu");
    await gpu.release();
  },
});
