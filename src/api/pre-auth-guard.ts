import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { BerthSocket } from "./register-handler.ts";

type EngineSocket = BerthSocket["conn"];

/**
 * What an unauthenticated connection may send in all: a namespace CONNECT
 * with `{ token, pid, offset }` is well under 2 KiB (tokens have at most 1024
 * characters), and Socket.IO accepts nothing else before it.
 */
export const PRE_AUTH_MAX_BYTES = 16 * 1024;

/**
 * Keeps an unauthenticated connection from making berth buffer more than
 * PRE_AUTH_MAX_BYTES (PreAuthGuard). The transport limit
 * (`BERTH_MAX_PAYLOAD_BYTES`, 16 MiB for code uploads) is one setting of the
 * whole engine, so without this a peer with no token could send a 16 MiB
 * CONNECT, have it buffered and parsed, and do it again until the connect
 * timeout. Until the connection's namespace connect succeeds (`trust`):
 * - a WebSocket's TCP stream is metered as it arrives and destroyed once over
 *   the limit, so `ws` never holds more than the limit plus one read;
 * - a polling transport's request bodies are capped at the limit (engine.io
 *   checks `Content-Length` up front and counts the body as it streams);
 * - all packets together, over every transport, are held to the limit.
 * Engine.io's `allowRequest` cannot do this (it sees only the HTTP request,
 * and the token comes later, in the CONNECT packet), and a smaller engine-wide
 * limit would refuse the code uploads of authenticated owners.
 */
export class PreAuthGuard {
  readonly #http: HttpServer;
  readonly #limit: number;
  readonly #trusted = new Set<string>();
  /** Meters of TCP streams that belong to an engine connection (by its id), until it is trusted or closes. */
  readonly #meters = new Map<string, Array<() => void>>();
  /** Meters of WebSocket handshakes that have no engine id yet. */
  readonly #handshakes = new WeakMap<IncomingMessage, () => void>();
  readonly #pollingLimit: number;

  constructor(http: HttpServer, options: { limit?: number; pollingLimitAfterAuth: number }) {
    this.#http = http;
    this.#limit = options.limit ?? PRE_AUTH_MAX_BYTES;
    this.#pollingLimit = options.pollingLimitAfterAuth;
    // Prepended, so the meter is on the stream before engine.io hands it to `ws` (in the same tick).
    http.prependListener("upgrade", this.#onUpgrade);
  }

  /** Called with each new engine connection (engine.io's `connection` event). */
  readonly onEngineConnection = (conn: EngineSocket): void => {
    const stop = this.#handshakes.get(conn.request);
    this.#meters.set(engineId(conn), stop ? [stop, this.#meterPackets(conn)] : [this.#meterPackets(conn)]);
    setPollingLimit(conn, this.#limit);
    conn.once("close", () => {
      for (const s of this.#meters.get(engineId(conn)) ?? []) s();
      this.#meters.delete(engineId(conn));
      this.#trusted.delete(engineId(conn));
    });
  };

  /** The connection is authenticated: it may send up to the transport limit from now on. */
  trust(conn: EngineSocket): void {
    if (this.#trusted.has(engineId(conn))) return;
    this.#trusted.add(engineId(conn));
    for (const stop of this.#meters.get(engineId(conn)) ?? []) stop();
    this.#meters.delete(engineId(conn));
    setPollingLimit(conn, this.#pollingLimit);
  }

  close(): void {
    this.#http.off("upgrade", this.#onUpgrade);
  }

  /**
   * The limit over all of a connection's packets, whatever the transport: a polling client could otherwise
   * send one capped body after another until the connect timeout.
   */
  #meterPackets(conn: EngineSocket): () => void {
    let bytes = 0;
    const onPacket = (packet: { data?: unknown }) => {
      const data = packet.data;
      bytes += typeof data === "string" ? Buffer.byteLength(data) : Buffer.isBuffer(data) ? data.length : 1;
      // Discarding what waits to be sent: a polling peer that never asks for it must not keep the connection.
      if (bytes > this.#limit) conn.close(true);
    };
    conn.on("packet", onPacket);
    return () => conn.off("packet", onPacket);
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex): void => {
    // Not a path (an absolute-form target such as `http://[`, which URL cannot parse): not engine.io's either.
    // Thrown here, it would be an uncaught exception from an unauthenticated peer, and end berth.
    const url = URL.parse(req.url ?? "/", "http://berth");
    if (url === null) return;
    if (!url.pathname.startsWith("/socket.io/")) return;
    const sid = url.searchParams.get("sid");
    if (sid !== null && this.#trusted.has(sid)) return;
    const stop = meter(socket, this.#limit);
    // An upgrade for an unknown sid is refused by engine.io; its meter goes with its socket.
    if (sid === null) this.#handshakes.set(req, stop);
    else this.#meters.get(sid)?.push(stop);
  };
}

/** Counts the bytes read from `socket` and destroys it past `limit`; returns the function that stops counting. */
function meter(socket: Duplex, limit: number): () => void {
  let bytes = 0;
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limit) socket.destroy();
  };
  socket.on("data", onData);
  return () => socket.off("data", onData);
}

/**
 * The engine connection's id, the `sid` of its later requests. engine.io's
 * types mark it private because it must never reach another client; here it
 * is only a map key for matching an upgrade request to its connection.
 */
function engineId(conn: EngineSocket): string {
  return (conn as unknown as { id: string }).id;
}

function setPollingLimit(conn: EngineSocket, limit: number): void {
  const transport = conn.transport as { name: string; maxHttpBufferSize?: number };
  if (transport.name === "polling") transport.maxHttpBufferSize = limit;
}
