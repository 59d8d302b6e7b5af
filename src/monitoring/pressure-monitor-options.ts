import type { HoldEvent } from "./output-holds.ts";

export interface PressureMonitorOptions {
  /** The CPU limit a container is meant to have (its spec's), given back when a hold ends. */
  nanoCpusOf: (containerKey: string) => number | undefined;
  /** Changes a running container's CPU limit in place (the engine's container update). */
  setCpuLimit: (dockerId: string, nanoCpus: number) => Promise<void>;
  /**
   * Output above this many bytes/s over `outputWindowMs` is held back; 0 turns the limit off. A
   * workload sending more than this over its channel is told of too (a flood costs berth's CPU), not held.
   */
  outputRateLimit: number;
  /**
   * The channel's budget of frames and bytes a second a workload may send unasked (0: none), for the
   * report: a workload berth had to hold back to it is told of in the feed, with these numbers.
   */
  messageRate?: number;
  messageBytesRate?: number;
  /** How far back CPU throttling and refused processes are judged (default 30 s)… */
  windowMs?: number;
  /** …once the readings span at least this much (default 10 s): a first report need not wait 30 s. */
  minWindowMs?: number;
  /**
   * The window an output rate is averaged over (default 10 s); berth makes it at least two sample
   * intervals, or a slow history would have no earlier reading within it and never judge.
   */
  outputWindowMs?: number;
  /** A kind of pressure is reported again only after it has been absent this long (default 60 s). */
  quietMs?: number;
  /** Share of CPU periods throttled that counts as "held to its limit" (default 0.5). */
  throttledShare?: number;
  /** How long a workload over the output limit is held back (default 30 s), and to how much CPU (0.05). */
  holdMs?: number;
  heldCpus?: number;
  /**
   * Where a hold steps down to when the workload still writes over the limit at `heldCpus` (default
   * 0.01, the engine's least): output costs a workload little CPU per byte (measured here: a Node
   * workload printing lines as fast as it can still logs ~5 MiB/s at 0.05 CPU, ~1.3 MiB/s at 0.01).
   */
  leastCpus?: number;
  /**
   * The size at which the engine rotates a container's log file (berth creates containers with the
   * json-file driver's `max-size` of 10 MiB): a file that shrank was rotated, and the bytes written
   * before the rotation are counted up to it.
   */
  logMaxBytes?: number;
  /** A CPU update failed because the container is gone: not retried (default: every failure is). */
  isGone?: (err: unknown) => boolean;
  /** A hold began or ended, or a CPU update failed: for the system log. */
  onHold?: (event: HoldEvent) => void;
}
