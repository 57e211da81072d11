/**
 * The one place that touches ONNX Runtime: opens a session on onnxruntime-node (`cpu`, `cuda`) or
 * onnxruntime-web (`wasm`, `webgpu`) by provider name, and converts between this project's plain
 * tensors and ORT's. Browser-safe: the Node package is imported only when a native provider is asked for,
 * and an already-imported ORT module can be injected instead.
 * @module
 */
import type { DType, Tensor, TypedArray } from "./tensor.ts";

/** Execution providers this project knows. */
export type Provider = "cpu" | "cuda" | "webgpu" | "wasm";

/** The part of an `onnxruntime-*` module this adapter uses. */
// deno-lint-ignore no-explicit-any
export type OrtModule = any;
/** An ORT tensor (`onnxruntime-common` Tensor). */
// deno-lint-ignore no-explicit-any
export type OrtTensor = any;

/** Options for `openSession`. */
export interface SessionOptions {
  provider?: Provider;
  /** Intra-op threads (native) or wasm threads; default: ORT's choice natively, 1 for wasm outside browsers. */
  threads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** An ORT module to use instead of importing one (e.g. a browser page's own `onnxruntime-web`). */
  ort?: OrtModule;
  /** Write an ORT profile (native only) with this file prefix. */
  profilePrefix?: string;
  /** CUDA provider options as documented for ONNX Runtime's CUDA EP (`deviceId`, …). */
  cuda?: Record<string, unknown>;
  /** Session log severity (0 verbose … 4 fatal); default 3 (errors). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Outputs to keep on the device between runs (`gpu-buffer` on WebGPU); for training loops. */
  preferredOutputLocation?: "cpu" | "gpu-buffer";
  /**
   * ORT's memory pattern (default true): after the first run it plans one block for all intermediates of
   * that input shape; the arena keeps the first run's chunks as well, so peak memory roughly doubles.
   */
  enableMemPattern?: boolean;
  /** ORT's CPU memory arena (default true). */
  enableCpuMemArena?: boolean;
  /**
   * Whether idle intra-op threads spin waiting for work (native only; ORT's default is true). Training steps
   * ran faster without spinning on a shared machine (docs/benchmarks.md, "Measurements behind the code").
   */
  allowSpinning?: boolean;
  /**
   * Names of ONNX Runtime graph transformers to skip (session config `optimization.disable_specified_optimizers`),
   * e.g. `SkipLayerNormFusion`: `bench/ab_inference.ts` uses it to measure what a fusion is worth.
   */
  disabledOptimizers?: readonly string[];
  /** Write the model as ONNX Runtime optimised it to this path (native only), to see which fusions fired. */
  optimizedModelFilePath?: string;
}

/** An open inference session. */
export interface Session {
  readonly provider: Provider;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model on plain tensors and returns plain tensors (no copies beyond ORT's own). */
  run(feeds: Record<string, Tensor>, outputs?: readonly string[]): Promise<Record<string, Tensor>>;
  /** Runs on ORT tensors, for loops that feed outputs back in without conversion. */
  runOrt(feeds: Record<string, OrtTensor>, outputs?: readonly string[]): Promise<Record<string, OrtTensor>>;
  /** Makes an ORT tensor of this session's runtime from a plain tensor (shares its buffer). */
  toOrt(t: Tensor): OrtTensor;
  /** Ends profiling, returning the profile file name (native only). */
  endProfiling(): string | undefined;
  release(): Promise<void>;
}

const ORT_TYPE: Record<DType, string> = {
  float32: "float32",
  float64: "float64",
  float16: "float16",
  int32: "int32",
  int64: "int64",
  int8: "int8",
  uint8: "uint8",
  bool: "bool",
};
const FROM_ORT: Record<string, DType> = Object.fromEntries(
  Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]),
);

/** Converts an ORT tensor to a plain tensor, sharing its buffer. */
export function fromOrt(t: OrtTensor): Tensor {
  const dtype = FROM_ORT[t.type];
  if (!dtype) throw new Error(`ONNX Runtime returned a tensor of unsupported type "${t.type}"`);
  return { dtype, dims: [...t.dims].map(Number), data: t.data as TypedArray };
}

function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
}

const nativeProviders: Provider[] = ["cpu", "cuda"];
// One import per runtime package per process (a failed one is dropped, so that a later call retries).
const loaded = new Map<string, Promise<OrtModule>>();

async function loadOrt(provider: Provider): Promise<OrtModule> {
  // In Deno versioned npm: specifiers, so that the module works imported by URL from a project without our
  // import map; elsewhere (Node, a browser's import map or bundler) the bare package names.
  const [pre, ver] = isDeno() ? ["npm:", "@1.30.0"] : ["", ""];
  const spec = nativeProviders.includes(provider)
    ? `${pre}onnxruntime-node${ver}`
    : provider === "webgpu"
    ? `${pre}onnxruntime-web${ver}/webgpu`
    : `${pre}onnxruntime-web${ver}`;
  if (!loaded.has(spec)) {
    loaded.set(
      spec,
      import(spec).then((m) => m.default?.InferenceSession ? m.default : m).catch((e) => {
        loaded.delete(spec);
        throw new Error(
          `Cannot load ${spec} for provider "${provider}": ${(e as Error).message}. ` +
            (spec.includes("onnxruntime-node")
              ? "Native providers need Deno or Node with npm packages installed (`deno install`); in browsers use wasm or webgpu."
              : "Install the npm package onnxruntime-web@1.30.0."),
        );
      }),
    );
  }
  return await loaded.get(spec)!;
}

const HINTS: Record<Provider, string> = {
  cpu: "",
  cuda: "The CUDA execution provider needs onnxruntime-node installed with its CUDA binaries " +
    "(reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 and allow its install script: `deno install --allow-scripts=npm:onnxruntime-node`) " +
    "and CUDA 12 with cuDNN 9 on the library path.",
  webgpu:
    "WebGPU needs an adapter: in Deno run with --unstable-webgpu where required and, on Linux without a GPU, " +
    "`apt-get install mesa-vulkan-drivers` for a software Vulkan adapter; in browsers a WebGPU-enabled browser.",
  wasm: "",
};

// onnxruntime-web runs one session at a time; overlapping runs fail, so runs on web providers queue here.
// Module-level on purpose: the wasm runtime is one instance per page or process, so is its queue.
let webQueue: Promise<unknown> = Promise.resolve();
function queued<T>(fn: () => Promise<T>): Promise<T> {
  const next = webQueue.then(fn, fn);
  webQueue = next.catch(() => undefined);
  return next;
}

/**
 * Opens a session for an ONNX model (bytes, or a path/URL the runtime reads) on the given provider.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { mul } from "./ops.ts";
 * import { openSession } from "./runtime.ts";
 * import { tensor } from "./tensor.ts";
 * const g = new Graph("double");
 * g.output(mul(g.input("x", "float32", [2]), 2), "y");
 * const session = await openSession(g.toBytes(), { provider: "cpu" });
 * const { y } = await session.run({ x: tensor("float32", [2], [1, 2]) });
 * if (y.data[1] !== 4) throw new Error("wrong result");
 * await session.release();
 * ```
 */
export async function openSession(
  model: Uint8Array | string,
  options: SessionOptions = {},
): Promise<Session> {
  const provider = options.provider ?? "cpu";
  if (!(provider in HINTS)) throw new Error(`Unknown provider "${provider}": use cpu, cuda, wasm or webgpu`);
  const ort = options.ort ?? await loadOrt(provider);
  const web = !nativeProviders.includes(provider);
  if (web) {
    ort.env.wasm.numThreads = options.threads ?? (isDeno() ? 1 : ort.env.wasm.numThreads);
    if (provider === "webgpu") {
      const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<unknown> } } | undefined)?.gpu;
      if (!gpu || !(await gpu.requestAdapter())) {
        throw new Error(`Provider "webgpu" is unavailable: no WebGPU adapter. ${HINTS.webgpu}`);
      }
    }
  }
  const sessionOptions: Record<string, unknown> = {
    executionProviders: [provider === "cuda" ? { name: "cuda", ...(options.cuda ?? {}) } : provider],
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    logSeverityLevel: options.logSeverityLevel ?? 3,
  };
  if (!web && options.threads) sessionOptions.intraOpNumThreads = options.threads;
  if (options.profilePrefix) {
    sessionOptions.enableProfiling = true;
    sessionOptions.profileFilePrefix = options.profilePrefix;
  }
  if (!web && options.optimizedModelFilePath) {
    sessionOptions.optimizedModelFilePath = options.optimizedModelFilePath;
  }
  if (options.preferredOutputLocation) {
    sessionOptions.preferredOutputLocation = options.preferredOutputLocation;
  }
  if (options.enableMemPattern !== undefined) sessionOptions.enableMemPattern = options.enableMemPattern;
  if (options.enableCpuMemArena !== undefined) sessionOptions.enableCpuMemArena = options.enableCpuMemArena;
  const extra: Record<string, Record<string, string>> = {};
  if (!web && options.allowSpinning === false) extra.session = { "intra_op.allow_spinning": "0" };
  if (options.disabledOptimizers?.length) {
    // ORT splits this list at ";" (its header says comma-separated, but a comma list disables nothing: measured).
    extra.optimization = { disable_specified_optimizers: options.disabledOptimizers.join(";") };
  }
  if (Object.keys(extra).length) sessionOptions.extra = extra;
  let session: OrtModule;
  try {
    session = await ort.InferenceSession.create(model, sessionOptions);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const hint = HINTS[provider];
    throw new Error(
      `Cannot open ONNX Runtime session on provider "${provider}": ${msg}${hint ? `. ${hint}` : ""}`,
    );
  }
  const runOrt = (feeds: Record<string, OrtTensor>, outputs?: readonly string[]) => {
    const call = () => (outputs ? session.run(feeds, outputs) : session.run(feeds));
    return web ? queued(call) : call();
  };
  const toOrt = (t: Tensor) => new ort.Tensor(ORT_TYPE[t.dtype], t.data, t.dims);
  return {
    provider,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    runOrt,
    toOrt,
    async run(feeds, outputs) {
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
      const result = await runOrt(ortFeeds, outputs);
      const out: Record<string, Tensor> = {};
      for (const [k, v] of Object.entries(result)) out[k] = fromOrt(v);
      return out;
    },
    endProfiling() {
      return web ? undefined : session.endProfiling?.();
    },
    async release() {
      await session.release();
    },
  };
}
