import type { EventEmitter } from "node:events";

/** engine.io's packet as it waits in a connection's write buffer. */
interface EnginePacket {
  data?: unknown;
  options?: { wsPreEncodedFrame?: unknown };
}

/** The parts of an engine.io connection (`socket.conn`) that are read here. */
export interface EngineConnection extends EventEmitter {
  /** The websocket transport's `socket` is the `ws` WebSocket; polling has none. */
  readonly transport: object;
  close(discard?: boolean): void;
}

/** What a connection has buffered on its way out, and how to cut it off. */
export interface Outbound {
  /** Bytes buffered for the client: not yet handed to the kernel. */
  bufferedBytes(): number;
  /** Calls `listener` after each packet is queued for the client; returns how to stop. */
  onPacket(listener: () => void): () => void;
  /** Closes the connection at once, dropping what is buffered (no closing handshake the client would never read). */
  terminate(): void;
  close(): void;
}

/**
 * The bytes berth holds for one client, measured where they are held rather
 * than estimated from what was emitted:
 * - engine.io's write buffer, where packets wait while the transport is
 *   still sending the previous batch (for websocket: until the kernel took
 *   it) or, for polling, until the client polls. Its total is kept as packets
 *   enter (`packetCreate`) and leave (`flush` hands the whole buffer to the
 *   transport), so that reading it costs nothing on the hot path. A packet
 *   counts its encoded text and, for broadcasts, the websocket frame
 *   Socket.IO built for it beforehand: both are held until it is sent.
 * - the websocket's `bufferedAmount`: what `ws` gave the TCP socket that the
 *   kernel has not taken because the client does not read.
 * Object overhead per packet is not counted; at the bounds' scale (MiB)
 * the frames dominate.
 */
export class EngineOutbound implements Outbound {
  readonly #conn: EngineConnection;
  readonly #listeners = new Set<() => void>();
  #queued = 0;

  readonly #onPacketCreate = (packet: EnginePacket) => {
    this.#queued += packetBytes(packet);
    for (const listener of this.#listeners) listener();
  };
  readonly #onFlush = () => {
    this.#queued = 0;
  };

  constructor(conn: EngineConnection) {
    this.#conn = conn;
    conn.on("packetCreate", this.#onPacketCreate);
    conn.on("flush", this.#onFlush);
  }

  bufferedBytes(): number {
    const ws = (this.#conn.transport as { socket?: { bufferedAmount?: unknown } }).socket;
    return this.#queued + (typeof ws?.bufferedAmount === "number" ? ws.bufferedAmount : 0);
  }

  onPacket(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  terminate(): void {
    this.#conn.close(true);
    // engine.io's close still starts a websocket closing handshake, which waits up to 30 s for a
    // client that does not read, holding what is buffered; terminate drops the TCP connection now.
    const ws = (this.#conn.transport as { socket?: { terminate?: unknown } }).socket;
    if (typeof ws?.terminate === "function") (ws.terminate as () => void).call(ws);
  }

  close(): void {
    this.#conn.off("packetCreate", this.#onPacketCreate);
    this.#conn.off("flush", this.#onFlush);
    this.#listeners.clear();
  }
}

function packetBytes(packet: EnginePacket): number {
  return byteLength(packet.data) + byteLength(packet.options?.wsPreEncodedFrame);
}

function byteLength(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) {
    let n = 0;
    for (const part of value) n += byteLength(part);
    return n;
  }
  return 0;
}
