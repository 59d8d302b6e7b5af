import type { ProtocolErrorCode } from "./protocol.ts";

/**
 * What the channel reports of its traffic, for metrics. The hub asks for one
 * `ContainerTraffic` per channel when it opens, so a report on the hot path
 * (every request, every chunk read) is a call on an object already at hand,
 * with no lookup by container id and no label to build.
 */
export interface ChannelObserver {
  /** The handle that counts the traffic of container `id`'s channel. */
  forContainer(id: string): ContainerTraffic;
  /**
   * Container `id`'s channel is closed by `close(id)`, which only the end of a
   * container's record asks for (a delete, an undone create, the clean-up of a
   * half-deleted one): what is kept for it may go. Called once its connection is
   * gone, so no report for it follows; a later `forContainer(id)` starts afresh.
   */
  forget(id: string): void;
}

/** One channel's traffic. Each method is called on the hot path: it must stay cheap and never throw. */
export interface ContainerTraffic {
  /** A request ended after `seconds`: answered (`error` undefined) or failed with `error`. */
  requestEnded(seconds: number, error: unknown): void;
  /** Bytes read from the workload's socket. */
  received(bytes: number): void;
  /** Bytes of a frame handed to the workload's socket. */
  sent(bytes: number): void;
  /** A frame from the workload was refused (the protocol error berth answered with). */
  frameRefused(code: ProtocolErrorCode): void;
  /**
   * The workload went over its budget of frames it sends unasked, and its socket is not read for
   * `ms` (`started`: a new hold; else the same hold, lengthened).
   */
  held(ms: number, started: boolean): void;
}
