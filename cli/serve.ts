/**
 * `deno task serve`: the HTTP JSON API of `infer/server.ts` over one recognizer (docs/server.md).
 *
 * ```sh
 * deno task serve --model models/default --port 8080
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import type { Provider } from "../onnx/runtime.ts";
import { checkCorsOrigins, serveModel, type ServerOptions } from "../infer/server.ts";
import { intFlag, minScoreFlag, resolveModel, runMain } from "./util.ts";

const USAGE =
  `Usage: deno task serve [--model DIR|URL] [--port 8080] [--host 127.0.0.1] [--provider cpu|wasm|webgpu|cuda]
                       [--batch-size 32] [--max-batch 64] [--max-body-bytes 1048576] [--max-text-length 100000]
                       [--max-tokens 65536] [--max-queue 64] [--timeout-ms 60000] [--body-timeout-ms 10000]
                       [--header-timeout-ms 10000] [--idle-timeout-ms 60000] [--shutdown-timeout-ms 10000]
                       [--cors ORIGIN]... [--variant fp32|int8] (default int8 on cpu where the folder lists it)
                       [--min-score X] (leave out entities scoring below X, 0–1; default nersota.json's minScore)`;

const PROVIDERS: Provider[] = ["cpu", "cuda", "webgpu", "wasm"];

/** CLI entry point; `hooks` let tests stop the server and learn its address. */
export async function main(
  args: string[],
  hooks: Pick<ServerOptions, "signal" | "onListen" | "handleSignals"> = {},
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      provider: { type: "string" },
      "batch-size": { type: "string" },
      "max-batch": { type: "string" },
      "max-body-bytes": { type: "string" },
      "max-text-length": { type: "string" },
      "max-tokens": { type: "string" },
      "max-queue": { type: "string" },
      "timeout-ms": { type: "string" },
      "body-timeout-ms": { type: "string" },
      "header-timeout-ms": { type: "string" },
      "idle-timeout-ms": { type: "string" },
      "shutdown-timeout-ms": { type: "string" },
      cors: { type: "string", multiple: true },
      variant: { type: "string" },
      "min-score": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Every flag is checked before the model loads (which takes seconds and may fail for its own reasons).
  const int = (name: keyof typeof values, min: number) => {
    const v = values[name];
    return v === undefined ? undefined : intFlag(name, v as string, min);
  };
  const provider = values.provider as Provider | undefined;
  if (provider !== undefined && !PROVIDERS.includes(provider)) {
    throw new Error(`--provider must be one of ${PROVIDERS.join(", ")}, got "${provider}"`);
  }
  checkCorsOrigins(values.cors ?? []);
  const options: ServerOptions = {
    hostname: values.host,
    port: int("port", 0),
    maxBatch: int("max-batch", 1),
    maxBodyBytes: int("max-body-bytes", 1),
    maxTextLength: int("max-text-length", 1),
    maxQueue: int("max-queue", 1),
    timeoutMs: int("timeout-ms", 1),
    bodyTimeoutMs: int("body-timeout-ms", 1),
    headerTimeoutMs: int("header-timeout-ms", 0),
    idleTimeoutMs: int("idle-timeout-ms", 1),
    shutdownTimeoutMs: int("shutdown-timeout-ms", 0),
    cors: values.cors,
    ...hooks,
  };
  const batchSize = int("batch-size", 1);
  const maxTokens = int("max-tokens", 1);
  const minScore = minScoreFlag(values["min-score"]);
  const model = await resolveModel(values.model);
  const load = { provider, batchSize, variant: values.variant, minScore };
  await serveModel(model, load, { ...options, maxTokens }, (m) => console.error(`serve: ${m}`));
  console.error("serve: stopped");
  return 0;
}

if (import.meta.main) await runMain("serve", main);
