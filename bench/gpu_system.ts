/**
 * What the GPU probe (`bench/gpu_probe.ts`) reads off the machine before it measures anything: the NVIDIA
 * GPUs and driver (`nvidia-smi`), the Vulkan loader and ICD files Deno's WebGPU goes through, the CUDA and
 * ONNX Runtime provider libraries on disk, and the WebGPU adapter and CUDA provider as seen from inside a
 * Deno process. Every command runs with a timeout; nothing here throws on a machine without a GPU: what is
 * missing is reported as missing, with the error text.
 * @module
 */
import { dirname, join } from "node:path";

/** Result of `run`: exit code (null when killed or not started), output, and why it failed. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** "not found", "timeout after N s" or the spawn error; absent when the command ran to its end. */
  error?: string;
}

/** Runs a command with a timeout (SIGKILL on expiry); never throws. */
export async function run(cmd: string, args: string[], timeoutS: number): Promise<CommandResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
  } catch (e) {
    const notFound = e instanceof Deno.errors.NotFound;
    return { code: null, stdout: "", stderr: "", error: notFound ? "not found" : (e as Error).message };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutS * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: timedOut ? null : out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ...(timedOut ? { error: `timeout after ${timeoutS} s` } : {}),
  };
}

/** One GPU as `nvidia-smi --query-gpu` reports it. */
export interface NvidiaGpu {
  name: string;
  driver_version: string;
  memory_total_mib: number;
  compute_cap: string;
  pci_bus_id: string;
}

/** The `nvidia-smi` query fields, in the order `parseNvidiaSmiCsv` reads them. */
export const NVIDIA_SMI_FIELDS = ["name", "driver_version", "memory.total", "compute_cap", "pci.bus_id"];

/**
 * Parses `nvidia-smi --query-gpu=<NVIDIA_SMI_FIELDS> --format=csv,noheader,nounits`, one GPU per line;
 * throws naming the line when a line has the wrong number of fields.
 */
export function parseNvidiaSmiCsv(text: string): NvidiaGpu[] {
  const gpus: NvidiaGpu[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== NVIDIA_SMI_FIELDS.length) {
      throw new Error(
        `Cannot parse line ${
          i + 1
        } of nvidia-smi's output: expected ${NVIDIA_SMI_FIELDS.length} comma-separated fields (${
          NVIDIA_SMI_FIELDS.join(", ")
        }), got ${JSON.stringify(line)}`,
      );
    }
    gpus.push({
      name: f[0],
      driver_version: f[1],
      memory_total_mib: Number(f[2]),
      compute_cap: f[3],
      pci_bus_id: f[4],
    });
  });
  return gpus;
}

/** The "CUDA Version: 13.0" of `nvidia-smi`'s banner (the newest CUDA the driver supports), or null. */
export function cudaVersionFromBanner(text: string): string | null {
  return text.match(/CUDA Version:\s*([0-9.]+)/)?.[1] ?? null;
}

/** What `nvidia-smi` says, or why it said nothing. */
export interface NvidiaReport {
  found: boolean;
  gpus: NvidiaGpu[];
  cuda_driver_version: string | null;
  error?: string;
}

/** Queries `nvidia-smi` (absent on machines without an NVIDIA driver: `found` false with the error). */
export async function probeNvidia(timeoutS = 15): Promise<NvidiaReport> {
  const q = await run("nvidia-smi", [
    `--query-gpu=${NVIDIA_SMI_FIELDS.join(",")}`,
    "--format=csv,noheader,nounits",
  ], timeoutS);
  if (q.error || q.code !== 0) {
    const why = q.error ?? `exit ${q.code}: ${(q.stderr || q.stdout).trim().slice(0, 500)}`;
    return { found: false, gpus: [], cuda_driver_version: null, error: `nvidia-smi: ${why}` };
  }
  const banner = await run("nvidia-smi", [], timeoutS);
  try {
    return {
      found: true,
      gpus: parseNvidiaSmiCsv(q.stdout),
      cuda_driver_version: cudaVersionFromBanner(banner.stdout),
    };
  } catch (e) {
    return { found: true, gpus: [], cuda_driver_version: null, error: (e as Error).message };
  }
}

/** One Vulkan ICD manifest (`*.json` naming a driver library). */
export interface IcdFile {
  path: string;
  library_path: string | null;
  api_version: string | null;
  /** Whether `library_path` exists (absolute paths), or null for a bare name the loader searches for. */
  library_exists: boolean | null;
  error?: string;
}

/** Folders the Vulkan loader reads ICD manifests from on Linux, plus the NVIDIA container toolkit's. */
export function icdFolders(env: (k: string) => string | undefined = (k) => Deno.env.get(k)): string[] {
  const xdg = (env("XDG_DATA_DIRS") ?? "/usr/local/share:/usr/share").split(":").filter(Boolean);
  return [
    ...new Set([
      "/etc/vulkan/icd.d",
      ...xdg.map((d) => join(d, "vulkan/icd.d")),
      "/usr/local/share/vulkan/icd.d",
      "/usr/share/vulkan/icd.d",
      "/usr/local/nvidia/share/vulkan/icd.d",
    ]),
  ];
}

/** Parses an ICD manifest's text (`{"ICD": {"library_path", "api_version"}}`); throws naming the file. */
export function parseIcd(path: string, text: string): Pick<IcdFile, "library_path" | "api_version"> {
  let json: { ICD?: { library_path?: unknown; api_version?: unknown } };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`Cannot parse Vulkan ICD manifest "${path}": ${(e as Error).message}`);
  }
  if (typeof json?.ICD?.library_path !== "string") {
    throw new Error(`Vulkan ICD manifest "${path}" has no ICD.library_path string`);
  }
  return {
    library_path: json.ICD.library_path,
    api_version: typeof json.ICD.api_version === "string" ? json.ICD.api_version : null,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The Vulkan loader library and ICD manifests on this machine (and the variables that override them). */
export interface VulkanReport {
  loader: string | null;
  icds: IcdFile[];
  env: Record<string, string>;
}

/** Looks for `libvulkan.so.1` (ldconfig, LD_LIBRARY_PATH) and every ICD manifest the loader would read. */
export async function probeVulkan(timeoutS = 10): Promise<VulkanReport> {
  const env: Record<string, string> = {};
  for (const k of ["VK_ICD_FILENAMES", "VK_DRIVER_FILES", "VK_ADD_DRIVER_FILES", "LD_LIBRARY_PATH"]) {
    const v = Deno.env.get(k);
    if (v) env[k] = v;
  }
  let loader: string | null = null;
  for (const dir of (env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean)) {
    if (await exists(join(dir, "libvulkan.so.1"))) {
      loader = join(dir, "libvulkan.so.1");
      break;
    }
  }
  if (!loader) {
    const ld = await run("ldconfig", ["-p"], timeoutS);
    loader = ld.stdout.match(/libvulkan\.so\.1 .*=> (\S+)/)?.[1] ?? null;
  }
  const files = new Set<string>();
  for (const k of ["VK_ICD_FILENAMES", "VK_DRIVER_FILES", "VK_ADD_DRIVER_FILES"]) {
    for (const f of (env[k] ?? "").split(":").filter(Boolean)) files.add(f);
  }
  for (const dir of icdFolders()) {
    try {
      for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".json")) files.add(join(dir, e.name));
    } catch { /* folder absent */ }
  }
  const icds: IcdFile[] = [];
  for (const path of [...files].sort()) {
    try {
      const icd = parseIcd(path, await Deno.readTextFile(path));
      const lib = icd.library_path!;
      const absolute = lib.startsWith("/") ? lib : lib.includes("/") ? join(dirname(path), lib) : null;
      icds.push({ path, ...icd, library_exists: absolute ? await exists(absolute) : null });
    } catch (e) {
      icds.push({
        path,
        library_path: null,
        api_version: null,
        library_exists: null,
        error: (e as Error).message,
      });
    }
  }
  return { loader, icds, env };
}

/** Library names that decide whether ONNX Runtime's CUDA provider can load (CUDA 12 build of ORT 1.30). */
export const CUDA_LIBRARY_PATTERN =
  /^lib(cudart|cublas|cublasLt|cudnn|cufft|curand|nvrtc|onnxruntime_providers_(cuda|shared|tensorrt))\.so(\.\d+)*$/;

/**
 * Walks `roots` (depth ≤ `maxDepth`, at most `maxEntries` entries, `timeoutS` seconds) for the libraries
 * that ORT's CUDA provider needs, so the report says which CUDA major versions a machine has and whether
 * any copy of the provider libraries exists (a Python onnxruntime-gpu, say). Symbolic links are listed,
 * not followed.
 */
export async function findCudaLibraries(
  roots = ["/usr/local/cuda", "/usr/lib/x86_64-linux-gnu", "/usr/local/lib", "/usr/local/nvidia", "/opt"],
  { maxDepth = 8, maxEntries = 200_000, timeoutS = 15, pattern = CUDA_LIBRARY_PATTERN } = {},
): Promise<{ found: string[]; truncated: boolean }> {
  const found = new Set<string>();
  const deadline = performance.now() + timeoutS * 1000;
  let entries = 0, truncated = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > maxDepth || truncated) return;
    let it: AsyncIterable<Deno.DirEntry>;
    try {
      it = Deno.readDir(dir);
    } catch {
      return;
    }
    try {
      for await (const e of it) {
        if (++entries > maxEntries || performance.now() > deadline) {
          truncated = true;
          return;
        }
        const p = join(dir, e.name);
        if (e.isDirectory && !e.isSymlink) await walk(p, depth + 1);
        else if (pattern.test(e.name)) found.add(p);
      }
    } catch { /* unreadable folder */ }
  };
  for (const r of roots) await walk(r, 0);
  return { found: [...found].sort(), truncated };
}

/** Host facts that put the figures in context. */
export async function probeHost(): Promise<Record<string, unknown>> {
  const read = async (p: string) => {
    try {
      return await Deno.readTextFile(p);
    } catch {
      return "";
    }
  };
  const cpuinfo = await read("/proc/cpuinfo");
  const memKib = Number((await read("/proc/meminfo")).match(/MemTotal:\s+(\d+)/)?.[1] ?? NaN);
  const osName = (await read("/etc/os-release")).match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? Deno.build.os;
  return {
    cpus: navigator.hardwareConcurrency,
    cpu_model: cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? null,
    memory_gib: Number.isFinite(memKib) ? Math.round(memKib / 1048576 * 10) / 10 : null,
    os: osName,
    kernel: (await read("/proc/sys/kernel/osrelease")).trim() || null,
    load_average: (await read("/proc/loadavg")).split(" ").slice(0, 3).map(Number),
    arch: Deno.build.arch,
  };
}

/** A WebGPU adapter as Deno's `navigator.gpu` describes it. */
export interface WebGpuReport {
  status: "ok" | "absent" | "error";
  /** True for a real GPU: not a fallback adapter and not a CPU rasteriser by name (llvmpipe, lavapipe, SwiftShader). */
  hardware: boolean;
  adapter?: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    is_fallback: boolean | null;
  };
  limits?: Record<string, number>;
  features?: string[];
  error?: string;
}

/** Whether an adapter description names a software rasteriser. */
export function isSoftwareAdapter(description: string): boolean {
  return /llvmpipe|lavapipe|swiftshader|software|softpipe/i.test(description);
}

/** Asks `navigator.gpu` for a high-performance adapter (call in a child process: a broken driver can hang it). */
export async function probeWebGpu(): Promise<WebGpuReport> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return { status: "absent", hardware: false, error: "navigator.gpu is undefined in this Deno" };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { status: "error", hardware: false, error: `requestAdapter() threw: ${(e as Error).message}` };
  }
  if (!adapter) {
    return {
      status: "absent",
      hardware: false,
      error: "navigator.gpu.requestAdapter() returned null: no Vulkan driver (ICD) that wgpu can use",
    };
  }
  // deno-lint-ignore no-explicit-any
  const info = (adapter as any).info ?? {};
  const fallback = typeof info.isFallbackAdapter === "boolean"
    ? info.isFallbackAdapter
    // deno-lint-ignore no-explicit-any
    : typeof (adapter as any).isFallbackAdapter === "boolean"
    // deno-lint-ignore no-explicit-any
    ? (adapter as any).isFallbackAdapter
    : null;
  const description = String(info.description ?? "");
  const limits: Record<string, number> = {};
  for (const k of ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize"]) {
    // deno-lint-ignore no-explicit-any
    const v = (adapter.limits as any)[k];
    if (typeof v === "number") limits[k] = v;
  }
  return {
    status: "ok",
    hardware: fallback !== true && !isSoftwareAdapter(description),
    adapter: {
      vendor: String(info.vendor ?? ""),
      architecture: String(info.architecture ?? ""),
      device: String(info.device ?? ""),
      description,
      is_fallback: fallback,
    },
    limits,
    features: [...adapter.features].sort(),
  };
}
