/**
 * A tiny static file server for the browser page (`deno task web`): serves a folder (the built page)
 * and mounts a model folder at `/model/`. GET/HEAD only, no directory listings, no paths outside the roots.
 * @module
 */
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  // Sources, so that the repository served as a folder can be imported by URL (`mod.ts`).
  ".ts": "application/typescript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".onnx": "application/octet-stream",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** Options of `serveStatic`. */
export interface StaticOptions {
  /** Folder served at `/`. */
  root: string;
  /** Model folder served at `/model/`. */
  model?: string;
  hostname?: string;
  port?: number;
  signal?: AbortSignal;
  onListen?: (addr: Deno.NetAddr) => void;
}

/** Maps a URL path to a file under `root`, or undefined when it would leave `root`. */
export function resolveUnder(root: string, urlPath: string): string | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (rel.includes("\0")) return undefined;
  const path = normalize(join(root, rel));
  const base = normalize(root).replace(/\/$/, "");
  return path === base || path.startsWith(base + "/") ? path : undefined;
}

/** The request handler of the static server. */
export function staticHandler(
  options: Pick<StaticOptions, "root" | "model">,
): (req: Request) => Promise<Response> {
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed", { status: 405 });
    }
    let path = new URL(req.url).pathname;
    let root = options.root;
    if (options.model && path.startsWith("/model/")) {
      root = options.model;
      path = path.slice("/model".length);
    }
    if (path.endsWith("/")) path += "index.html";
    const file = resolveUnder(root, path);
    if (!file) return new Response("Forbidden", { status: 403 });
    try {
      const info = await Deno.stat(file);
      if (!info.isFile) return new Response("Not found", { status: 404 });
      const body = req.method === "HEAD" ? null : (await Deno.open(file)).readable;
      return new Response(body, {
        headers: {
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
          "content-length": String(info.size),
          "cache-control": "no-cache",
        },
      });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  };
}

/** Serves the page and model until `signal` aborts. */
export function serveStatic(options: StaticOptions): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    signal: options.signal,
    onListen: (a) => options.onListen?.(a as Deno.NetAddr),
  }, staticHandler(options));
}
