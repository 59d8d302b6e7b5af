import { EventEmitter } from "node:events";
import { ShuttingDownError, ValidationError } from "../errors/errors.ts";
import { RepeatedLog } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { ChannelNotConnectedError } from "./channel-errors.ts";
import type { ChannelObserver } from "./channel-observer.ts";
import type { ChannelPort, RequestOptions } from "./channel-port.ts";
import type { BadHelloInfo, ChannelStatus, HelloInfo, SocketCommunicationEvents } from "./channel-types.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { ContainerChannel } from "./container-channel.ts";
import { assertSocketPathFits } from "./socket-path.ts";

export interface SocketCommunicationOptions {
  runDir: string;
  /** Config BERTH_MAX_FRAME_BYTES: the largest line either side may send, newline not counted. */
  maxFrameBytes: number;
  /** Config BERTH_MAX_REQUEST_TIMEOUT_MS: no request waits longer, whatever its caller asks. */
  maxRequestTimeoutMs: number;
  log: SystemLogger;
  /** berth pings every connection this often (default 5 s); 0 turns the heartbeat off. */
  heartbeatIntervalMs?: number;
  /** Silent intervals in a row before a workload is taken for dead (default 3). */
  heartbeatMisses?: number;
  /** Time from connect to hello (default 10 s). */
  helloTimeoutMs?: number;
  /** Bound of the outbound queue per connection, in characters (default 4 × maxFrameBytes). */
  maxQueuedBytes?: number;
  /** More bad frames than this within badFrameWindowMs and the workload is cut off (default 20 in 10 s). */
  badFrameLimit?: number;
  badFrameWindowMs?: number;
  /** Events a workload causes at will are logged once, then counted in one line per this interval (default 60 s). */
  repeatedLogIntervalMs?: number;
  /**
   * Frames and bytes a second a workload may send unasked (messages, pings, bad frames; never
   * responses or pongs), with a burst of one second's worth; over it, its socket is not read until
   * the budget has refilled. 0 or absent: no limit (berth passes BERTH_CHANNEL_MESSAGE_RATE / _BYTES_RATE).
   */
  messageRate?: number;
  messageBytesRate?: number;
  /** Bytes read from one socket before the others get a turn (default 64 KiB, one read's worth). */
  readSliceBytes?: number;
  /** Told of every request, byte and refused frame (metrics); nothing is measured without it. */
  observer?: ChannelObserver;
}

export type { RequestOptions } from "./channel-port.ts";

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_PING_TIMEOUT_MS = 5_000;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The hub of all containers' Unix-socket channels: berth's one way to talk to
 * the process inside a container. Each container gets its own socket
 * (`<runDir>/<id>/berth.sock`, mounted at /run/berth); the workload connects,
 * says hello, and from then on messages, requests and pings flow both ways as
 * newline-delimited JSON (docs/protocol.md).
 *
 * No call ever hangs: every request has a timeout, every failure is a coded
 * BerthError, and a workload going away fails its calls at once.
 *
 * @example
 *   const channels = new SocketCommunicationHandler({ runDir, maxFrameBytes, maxRequestTimeoutMs, log });
 *   channels.on("message", (id, data) => forward(id, data));
 *   await channels.open(id, { uid, gid });
 *   await channels.waitForHello(id, { signal });
 *   const answer = await channels.request(id, { op: "sum", args: [1, 2] }, { timeoutMs: 5_000 });
 *   await channels.closeAll();
 */
export class SocketCommunicationHandler
  extends EventEmitter<SocketCommunicationEvents>
  implements ChannelPort
{
  readonly #runDir: string;
  readonly #maxRequestTimeoutMs: number;
  readonly #limits: ConnectionLimits;
  readonly #log: SystemLogger;
  readonly #repeated: RepeatedLog;
  readonly #observer: ChannelObserver | undefined;
  readonly #channels = new Map<string, { channel: ContainerChannel; opened: Promise<void> }>();
  /** Channels being closed, so a re-open of the same id waits until the old socket file is gone. */
  readonly #closing = new Map<string, Promise<void>>();
  #closedAll: Promise<void> | undefined;

  constructor(opts: SocketCommunicationOptions) {
    super();
    this.#runDir = opts.runDir;
    this.#maxRequestTimeoutMs = opts.maxRequestTimeoutMs;
    this.#log = opts.log;
    this.#observer = opts.observer;
    this.#repeated = new RepeatedLog(opts.log, { intervalMs: opts.repeatedLogIntervalMs ?? 60_000 });
    this.#limits = {
      maxFrameBytes: opts.maxFrameBytes,
      maxQueuedBytes: opts.maxQueuedBytes ?? 4 * opts.maxFrameBytes,
      helloTimeoutMs: opts.helloTimeoutMs ?? 10_000,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 5_000,
      heartbeatMisses: opts.heartbeatMisses ?? 3,
      badFrameLimit: opts.badFrameLimit ?? 20,
      badFrameWindowMs: opts.badFrameWindowMs ?? 10_000,
      lingerMs: 1_000,
      messageRate: opts.messageRate ?? 0,
      messageBytesRate: opts.messageBytesRate ?? 0,
      readSliceBytes: opts.readSliceBytes ?? 64 * 1024,
    };
  }

  /**
   * Creates `<runDir>/<id>/` if missing (root's, 0755), removes a stale
   * socket file, listens, then chmod 0600 and lchown to the workload's
   * uid:gid. Idempotent while the id is open.
   */
  open(id: string, owner: { uid: number; gid: number }): Promise<void> {
    if (this.#closedAll !== undefined) return Promise.reject(new ShuttingDownError());
    const existing = this.#channels.get(id);
    if (existing !== undefined) return existing.opened;
    let path: string;
    try {
      if (!SAFE_ID.test(id)) throw new ValidationError("A channel id must be a plain file name.");
      path = assertSocketPathFits(this.#runDir, id);
    } catch (err) {
      return Promise.reject(err);
    }
    const channel = new ContainerChannel(
      id,
      path,
      this.#limits,
      {
        onConnected: (info) => this.#emit("connected", id, info),
        onDisconnected: (reason) => this.#emit("disconnected", id, reason),
        onBadHello: (reason, message) => this.#emit("bad_hello", id, reason, message),
        onMessage: (data, ts) => this.#emit("message", id, data, ts),
      },
      this.#log,
      this.#repeated,
      this.#observer?.forContainer(id),
    );
    const closing = this.#closing.get(id);
    const entry = { channel, opened: Promise.resolve() };
    entry.opened = (async () => {
      if (closing !== undefined) await closing;
      await channel.open(owner);
    })();
    entry.opened.catch(() => {
      if (this.#channels.get(id) === entry) this.#channels.delete(id);
    });
    this.#channels.set(id, entry);
    return entry.opened;
  }

  /**
   * Stops listening, closes the connection (calls in flight fail with
   * CHANNEL_DISCONNECTED) and removes the socket file; idempotent. The
   * directory stays: the container manager owns it. The observer forgets the
   * channel (its per-container metric series go): only the end of a
   * container's record closes its channel.
   */
  close(id: string): Promise<void> {
    const entry = this.#channels.get(id);
    if (entry === undefined) {
      const closing = this.#closing.get(id);
      if (closing !== undefined) return closing;
      // Nothing open: a channel whose open failed (forgotten here already) still had its observer's handle.
      if (this.#closedAll === undefined) this.#observer?.forget(id);
      return Promise.resolve();
    }
    this.#channels.delete(id);
    const done = entry.opened
      .catch(() => undefined)
      .then(() => entry.channel.close())
      .finally(() => {
        if (this.#closing.get(id) === done) this.#closing.delete(id);
        // Closed for good — unless opened again meanwhile (that open waited for this close, and holds the handle).
        // Not at shutdown either: the container is still there, only berth stops.
        if (!this.#channels.has(id) && this.#closedAll === undefined) this.#observer?.forget(id);
      });
    this.#closing.set(id, done);
    return done;
  }

  /** Closes every channel (on shutdown); later opens fail with SHUTTING_DOWN. Idempotent. */
  closeAll(): Promise<void> {
    this.#closedAll ??= (async () => {
      await Promise.all([...this.#channels.keys()].map((id) => this.close(id)));
      await Promise.all([...this.#closing.values()]);
      this.#repeated.close(); // the counts of the last interval, not lost at shutdown
    })();
    return this.#closedAll;
  }

  /**
   * Sends a one-way message. Resolves once the frame is handed to the kernel;
   * rejects with CHANNEL_NOT_CONNECTED at once when no workload is connected,
   * CHANNEL_BUSY when the workload is not reading, FRAME_TOO_LARGE, or
   * CHANNEL_DISCONNECTED when the connection drops before the write.
   */
  send(id: string, data: unknown): Promise<void> {
    const conn = this.#channels.get(id)?.channel.live;
    if (conn === undefined) return Promise.reject(new ChannelNotConnectedError());
    return conn.send(data);
  }

  /**
   * Sends a request and resolves with the workload's answer. Rejects with
   * CHANNEL_TIMEOUT, CHANNEL_DISCONNECTED, WORKLOAD_ERROR (details: the
   * workload's `{ message, code }`), CHANNEL_NOT_CONNECTED, CHANNEL_BUSY or
   * FRAME_TOO_LARGE. Never hangs.
   */
  request(id: string, data: unknown, opts?: RequestOptions): Promise<unknown> {
    const channel = this.#channels.get(id)?.channel;
    const conn = channel?.live;
    if (conn === undefined) {
      const err = new ChannelNotConnectedError();
      // The connection counts the requests it takes (when they end); this one never reached one.
      channel?.traffic?.requestEnded(0, err);
      return Promise.reject(err);
    }
    const timeoutMs = opts?.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!(timeoutMs > 0)) return Promise.reject(new ValidationError("timeoutMs must be a positive number."));
    return conn.request(data, Math.min(timeoutMs, this.#maxRequestTimeoutMs), opts?.signal);
  }

  /** The ids of the channels open now (a node agent's snapshot for an API server that connects). */
  get openIds(): string[] {
    return [...this.#channels.keys()];
  }

  /** Workloads connected now (their handshake done), across all channels. */
  get connectedCount(): number {
    let n = 0;
    for (const { channel } of this.#channels.values()) if (channel.live !== undefined) n++;
    return n;
  }

  /** Requests sent to workloads and not yet answered, across all channels (a diagnostic count). */
  get inFlightCount(): number {
    let n = 0;
    for (const { channel } of this.#channels.values()) n += channel.live?.inFlight ?? 0;
    return n;
  }

  /** Round-trip time to the workload in ms. */
  ping(id: string, timeoutMs = DEFAULT_PING_TIMEOUT_MS): Promise<number> {
    const conn = this.#channels.get(id)?.channel.live;
    if (conn === undefined) return Promise.reject(new ChannelNotConnectedError());
    if (!(timeoutMs > 0)) return Promise.reject(new ValidationError("timeoutMs must be a positive number."));
    return conn.ping(Math.min(timeoutMs, this.#maxRequestTimeoutMs));
  }

  status(id: string): ChannelStatus {
    return this.#channels.get(id)?.channel.status() ?? { connected: false };
  }

  /**
   * Resolves with the hello of the connected workload (at once, unless
   * `fresh`: then only a hello that arrives after this call counts). Rejects
   * with the signal's reason when it aborts, and with CHANNEL_NOT_CONNECTED
   * when the id is not open or is closed while waiting. A refused hello does
   * not end the wait (the workload may try again): watch 'bad_hello' for that.
   */
  waitForHello(id: string, opts?: { signal?: AbortSignal; fresh?: boolean }): Promise<HelloInfo> {
    const entry = this.#channels.get(id);
    if (entry === undefined)
      return Promise.reject(new ChannelNotConnectedError("No channel is open for this container."));
    return entry.channel.waitForHello(opts);
  }

  /** Why the latest handshake on this id was refused, unless a good one came after it. */
  lastBadHello(id: string): BadHelloInfo | undefined {
    return this.#channels.get(id)?.channel.lastBadHello;
  }

  /** A listener that throws must not break the connection that is reading frames. */
  #emit<K extends keyof SocketCommunicationEvents>(event: K, ...args: SocketCommunicationEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SocketCommunicationEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#log.error({ containerId: args[0], event, err }, "channel event listener threw");
    }
  }
}
