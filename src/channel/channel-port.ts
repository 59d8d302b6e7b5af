import type { BadHelloInfo, ChannelStatus, HelloInfo, SocketCommunicationEvents } from "./channel-types.ts";

/** How a request is bounded: see ChannelPort.request. */
export interface RequestOptions {
  /** Default 30 s, never more than the server's BERTH_MAX_REQUEST_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Aborting fails the request at once with the signal's reason; a late answer is dropped. */
  signal?: AbortSignal;
}

/**
 * What berth uses of the workloads' channels, whoever holds the sockets: the
 * SocketCommunicationHandler of this host (single-host mode), or the node
 * agent of the workload's node (cluster mode: RemoteChannels in
 * src/node-agents). Lifecycle, health and the API type against this port, so
 * neither knows which one it talks through. The errors are the same coded
 * ones either way (channel-errors.ts).
 *
 * @example
 *   const channels: ChannelPort = new SocketCommunicationHandler({ runDir, maxFrameBytes, maxRequestTimeoutMs, log });
 *   await channels.open(id, { uid, gid });
 *   await channels.waitForHello(id, { signal });
 *   const answer = await channels.request(id, { op: "sum" }, { timeoutMs: 5_000 });
 */
export interface ChannelPort {
  /** Makes the container's socket (and its directory if missing) and listens; idempotent while open. */
  open(id: string, owner: { uid: number; gid: number }): Promise<void>;
  /** Stops listening and removes the socket; calls in flight fail with CHANNEL_DISCONNECTED. Idempotent. */
  close(id: string): Promise<void>;
  /** This server stops using the channels (shutdown); later opens fail with SHUTTING_DOWN. Idempotent. */
  closeAll(): Promise<void>;
  /** A one-way message; CHANNEL_NOT_CONNECTED at once when no workload is connected. */
  send(id: string, data: unknown): Promise<void>;
  /** The workload's answer; never hangs (a timeout, capped, or the signal ends it). */
  request(id: string, data: unknown, opts?: RequestOptions): Promise<unknown>;
  /** Round-trip time to the workload in ms. */
  ping(id: string, timeoutMs?: number): Promise<number>;
  /** The channel as last known here (synchronous: the listing of containers reads it for each). */
  status(id: string): ChannelStatus;
  /** The connected workload's hello (at once, unless `fresh`); CHANNEL_NOT_CONNECTED when not open. */
  waitForHello(id: string, opts?: { signal?: AbortSignal; fresh?: boolean }): Promise<HelloInfo>;
  /** Why the latest handshake on this id was refused, unless a good one came after it. */
  lastBadHello(id: string): BadHelloInfo | undefined;
  /** Workloads connected now. */
  readonly connectedCount: number;
  /** Requests sent to workloads and not yet answered (a diagnostic count). */
  readonly inFlightCount: number;
  on<K extends keyof SocketCommunicationEvents>(
    event: K,
    listener: (...args: SocketCommunicationEvents[K]) => void,
  ): unknown;
  off<K extends keyof SocketCommunicationEvents>(
    event: K,
    listener: (...args: SocketCommunicationEvents[K]) => void,
  ): unknown;
}
