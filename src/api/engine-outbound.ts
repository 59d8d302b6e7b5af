import type { EventEmitter } from "node:events";
import type { Socket as NetSocket } from "node:net";

/** engine.io's packet as it waits in a connection's write buffer. */
interface EnginePacket {
  data?: unknown;
  options?: { wsPreEncodedFrame?: unknown };
}

/** The parts of an engine.io connection (`socket.conn`) that are read here. */
export interface EngineConnection extends EventEmitter {
  /**
   * The websocket transport's `socket` is the `ws` WebSocket; the polling transport's `res` is the
   * HTTP response of the GET it is about to answer (set while a GET waits, so at `flush`).
   */
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
 * - for polling, the poll responses the client may not have read. engine.io
 *   answers a GET with `res.end(data)` and forgets it, and the client may
 *   send each GET on a fresh TCP connection and never read one, so a flush
 *   empties the write buffer without the bytes having reached the client.
 *   Each TCP connection that carried a poll response of this connection is
 *   counted until it closes, for the larger of its latest poll response
 *   (HTTP/1.1 gives no sign that a response was read, short of the next one
 *   going out on the same connection) and what Node still holds for it
 *   (`writableLength`: a client that pipelines GETs without reading).
 *   A client that reuses its connection (keep-alive, as browsers and Node's
 *   agent do) is counted for one response; one that opens a connection per
 *   GET and reads none adds each response up, so that the StreamGuard drops
 *   its telemetry and cuts it as it would a websocket that does not read —
 *   and `terminate` resets those TCP connections, so that the kernel drops
 *   what it holds for them too.
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
  /** TCP connections that carried poll responses, with the bytes of the latest; each forgotten when it closes. */
  readonly #polls = new Map<NetSocket, { bytes: number; forget: () => void }>();

  readonly #onFlush = (packets: readonly EnginePacket[]) => {
    this.#queued = 0;
    const tcp = (this.#conn.transport as { res?: { socket?: NetSocket | null } | null }).res?.socket;
    if (tcp) this.#polled(tcp, pollBytes(packets));
  };

  constructor(conn: EngineConnection) {
    this.#conn = conn;
    conn.on("packetCreate", this.#onPacketCreate);
    conn.on("flush", this.#onFlush);
  }

  bufferedBytes(): number {
    const ws = (this.#conn.transport as { socket?: { bufferedAmount?: unknown } }).socket;
    let bytes = this.#queued + (typeof ws?.bufferedAmount === "number" ? ws.bufferedAmount : 0);
    for (const [tcp, poll] of this.#polls) bytes += Math.max(poll.bytes, tcp.writableLength);
    return bytes;
  }

  #polled(tcp: NetSocket, bytes: number): void {
    const known = this.#polls.get(tcp);
    if (known) {
      known.bytes = bytes;
      return;
    }
    const forget = () => this.#polls.delete(tcp);
    tcp.once("close", forget);
    this.#polls.set(tcp, { bytes, forget });
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
    // A reset, not a close: the kernel drops the poll responses it still holds instead of trying to deliver them.
    for (const tcp of [...this.#polls.keys()]) if (!tcp.destroyed) tcp.resetAndDestroy();
  }

  close(): void {
    this.#conn.off("packetCreate", this.#onPacketCreate);
    this.#conn.off("flush", this.#onFlush);
    this.#listeners.clear();
    // The poll connections stay known for a terminate that comes after (a disconnect closes this first), but
    // without a listener left on them: a keep-alive connection may outlive many engine connections. A client's
    // keep-alive connection is its own to reuse, so a plain close does not reset them.
    for (const [tcp, poll] of this.#polls) tcp.off("close", poll.forget);
  }
}

/** A poll response's size: the packets' encoded data (the separators and the packet type are a byte each). */
function pollBytes(packets: readonly EnginePacket[]): number {
  let n = 0;
  for (const packet of packets) n += byteLength(packet.data) + 2;
  return n;
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
