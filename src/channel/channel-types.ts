import type { BadHelloReason } from "./protocol.ts";

export type { BadHelloReason } from "./protocol.ts";

/** What a workload said in its hello, and when (epoch ms). */
export interface HelloInfo {
  protocol: number;
  meta?: unknown;
  connectedAt: number;
}

/** Why a connection that had completed its handshake ended: the `disconnected` event's reason. */
export type DisconnectReason =
  /** the workload closed the socket (or its process died) */
  | "closed"
  /** a newer connection on the same socket completed its handshake */
  | "replaced"
  /** nothing at all arrived for several heartbeat intervals */
  | "heartbeat_timeout"
  | "too_many_bad_frames"
  /** berth closed the channel (container stopped, berth shutting down) */
  | "channel_closed"
  | "socket_error"
  /** cluster mode: the connection to the node agent that holds the workload's socket ended */
  | "agent_lost";

/** A container's channel as berth sees it (times in epoch ms). */
export interface ChannelStatus {
  connected: boolean;
  connectedAt?: number;
  /** The last time any byte arrived from the workload (kept after it disconnects). */
  lastSeenAt?: number;
  /** The last measured round trip (heartbeat or ping), in ms. */
  rttMs?: number;
  protocol?: number;
  meta?: unknown;
  /** Requests waiting for an answer. */
  inFlight?: number;
  /** Bad frames received on the current connection. */
  badFrames?: number;
}

/** The latest refused handshake on a channel; cleared by the next good one. */
export interface BadHelloInfo {
  reason: BadHelloReason;
  message: string;
  at: number;
}

/** The events of SocketCommunicationHandler: name → listener arguments. */
export type SocketCommunicationEvents = {
  message: [id: string, data: unknown, ts: number];
  connected: [id: string, info: HelloInfo];
  disconnected: [id: string, reason: DisconnectReason];
  bad_hello: [id: string, reason: BadHelloReason, message: string];
};
