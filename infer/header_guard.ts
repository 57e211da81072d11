/**
 * Read timeouts for request headers, which `Deno.serve` lacks (denoland/deno#3515: a client that sends half
 * its headers holds its connection forever). A small TCP front: it accepts connections, relays them to a
 * `Deno.serve` on a loopback port, and closes a connection whose client has sent bytes of a request that
 * have not reached the handler within `headerTimeoutMs` (with a 408), or on which nothing moved for
 * `idleTimeoutMs`. The handler tells the front that a request's headers arrived, by the relay's port.
 * Deno-only (the HTTP server's).
 * @module
 */

/** Options of `guardedServe`. */
export interface GuardOptions {
  hostname: string;
  port: number;
  /** Time from a request's first byte to its handler call (default 10 s). */
  headerTimeoutMs?: number;
  /** Time a connection may carry nothing in either direction while no request is handled (default 60 s). */
  idleTimeoutMs?: number;
  onListen?: (addr: Deno.NetAddr) => void;
}

/** A guarded server: `Deno.serve`'s `finished`/`shutdown` plus the public address. */
export interface GuardedServer {
  addr: Deno.NetAddr;
  finished: Promise<void>;
  /** Stops accepting, lets requests in flight finish (the inner server's graceful shutdown). */
  shutdown(): Promise<void>;
  /** Closes every relayed connection at once. */
  closeAll(): void;
}

interface Relay {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn;
  /** Requests whose handler runs now. */
  active: number;
  headerTimer?: ReturnType<typeof setTimeout>;
  idleTimer?: ReturnType<typeof setTimeout>;
  closed: boolean;
  /** Aborted when the relay closes: the client left (Deno's own request signal misses it while a handler runs). */
  gone: AbortController;
}

const TIMEOUT_408 = new TextEncoder().encode(
  "HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: 77\r\n\r\n" +
    `{"error":{"status":408,"message":"The request headers did not arrive in time"}}`.padEnd(77),
);

/** Serves `handler` behind the header-timeout front. */
export function guardedServe(
  options: GuardOptions,
  handler: (req: Request, gone?: AbortSignal) => Promise<Response>,
): GuardedServer {
  const headerMs = options.headerTimeoutMs ?? 10_000;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const relays = new Map<number, Relay>();
  const close = (r: Relay) => {
    if (r.closed) return;
    r.closed = true;
    r.gone.abort();
    clearTimeout(r.headerTimer);
    clearTimeout(r.idleTimer);
    relays.delete(r.upstream.localAddr.port);
    for (const c of [r.client, r.upstream]) {
      try {
        c.close();
      } catch {
        // Already closed by the other side.
      }
    }
  };
  const touch = (r: Relay) => {
    clearTimeout(r.idleTimer);
    if (!r.closed && r.active === 0) r.idleTimer = setTimeout(() => close(r), idleMs);
  };
  const inner = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      const r = relays.get((info.remoteAddr as Deno.NetAddr).port);
      if (r) {
        r.active++;
        clearTimeout(r.headerTimer);
        r.headerTimer = undefined;
        clearTimeout(r.idleTimer);
      }
      try {
        return await handler(req, r?.gone.signal);
      } finally {
        if (r) {
          r.active--;
          touch(r);
        }
      }
    },
  );
  const innerPort = (inner.addr as Deno.NetAddr).port;
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const addr = listener.addr as Deno.NetAddr;
  options.onListen?.(addr);

  const relay = async (client: Deno.TcpConn) => {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: innerPort });
    } catch {
      client.close();
      return;
    }
    const r: Relay = { client, upstream, active: 0, closed: false, gone: new AbortController() };
    relays.set(upstream.localAddr.port, r);
    touch(r);
    const up = (async () => {
      const w = upstream.writable.getWriter();
      try {
        for await (const chunk of client.readable) {
          touch(r);
          // Bytes while no handler runs: a request's headers are on their way; they have headerMs.
          if (r.active === 0 && r.headerTimer === undefined) {
            r.headerTimer = setTimeout(async () => {
              await client.write(TIMEOUT_408).catch(() => {});
              close(r);
            }, headerMs);
          }
          await w.write(chunk);
        }
      } catch {
        // Either side went away.
      }
    })();
    const down = (async () => {
      try {
        for await (const chunk of upstream.readable) {
          touch(r);
          // A response: the request it answers is done with its headers (a 4xx before the handler, too).
          if (r.active === 0) {
            clearTimeout(r.headerTimer);
            r.headerTimer = undefined;
          }
          await client.write(chunk);
        }
      } catch {
        // Either side went away.
      }
    })();
    // Whichever direction ends first (a client that left, the server closing) ends the relay.
    await Promise.race([up, down]);
    close(r);
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) relay(conn);
    } catch {
      // The listener was closed.
    }
  })();
  let stopping: Promise<void> | undefined;
  return {
    addr,
    finished: inner.finished.then(() => accepting),
    shutdown() {
      stopping ??= (async () => {
        listener.close();
        await inner.shutdown();
      })();
      return stopping;
    },
    closeAll() {
      for (const r of [...relays.values()]) close(r);
    },
  };
}
