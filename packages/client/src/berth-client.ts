import { Activity } from "./activity.ts";
import { ActivityFeed, type ActivityListener } from "./activity-feed.ts";
import type { CallOptions, Unsubscribe } from "./call-options.ts";
import type { BerthSocket, ClientCore } from "./client-core.ts";
import { type ClientStreams, clientStreams } from "./client-streams.ts";
import type { ConnectionState } from "./connection-state.ts";
import { Containers } from "./containers.ts";
import { Images } from "./images.ts";
import type {
  ClientEvent,
  RequestOf,
  ResultMap,
  ServerInfo,
  ServerToClientEvents,
} from "./protocol/index.ts";
import { Stats } from "./stats.ts";

/** The events `client.on` takes: berth's pushed events, and the client's own `connection`. */
export type ClientEvents = ServerToClientEvents & {
  /** The connection's state changed (see ConnectionState). */
  connection: (state: ConnectionState) => void;
};

/**
 * A connection to berth, from `connect()`. `containers`, `stats` and
 * `activity` wrap berth's events; `call` sends any event of the contract
 * as is. Every failure is a BerthError. After a drop it reconnects by
 * itself and brings its subscriptions back (`state` says where it stands);
 * while it is `reconnecting`, calls fail at once with DISCONNECTED
 * (retryable) rather than wait, and streams and listeners started then
 * begin once it is connected again.
 * `close()` ends it, and every iterator with it.
 *
 * @example
 *   await using berth = await connect("http://127.0.0.1:7300", { token: process.env.BERTH_TOKEN! });
 *   const bot = await berth.containers.create({ name: "echo", code: { files: { "index.js": src } } });
 *   console.log(await bot.request({ ping: 1 }));
 */
export class BerthClient implements AsyncDisposable {
  readonly containers: Containers;
  readonly stats: Stats;
  readonly activity: Activity;
  /** Image checks (the server admin's only). */
  readonly images: Images;
  readonly #core: ClientCore;
  readonly #streams: ClientStreams;
  readonly #feed: ActivityFeed;

  constructor(core: ClientCore) {
    this.#core = core;
    this.#streams = clientStreams(core);
    this.#feed = new ActivityFeed(core);
    this.containers = new Containers(this.#streams);
    this.stats = new Stats(this.#streams);
    this.activity = new Activity(core, this.#feed);
    this.images = new Images(core);
  }

  /** What berth answered to `server:info` at connect: its version, limits and images, the caller's quotas. */
  get info(): ServerInfo {
    return this.#core.info;
  }

  /** `connected`, `reconnecting` (after a drop) or `closed`. */
  get state(): ConnectionState {
    return this.#core.state;
  }

  /**
   * The underlying Socket.IO socket — for wire-level tools and tests only:
   * what is sent or listened to on it bypasses the client's bookkeeping
   * (payload checks, timeouts, resubscription after a reconnect).
   */
  get socket(): BerthSocket {
    return this.#core.socket;
  }

  /**
   * Sends any event of berth's contract and resolves with the answer's
   * `data`, or throws a BerthError (berth's `{ ok: false, error }`, or a
   * client code: PAYLOAD_TOO_LARGE, DISCONNECTED, TIMEOUT, ABORTED, CLOSED,
   * SESSION_REVOKED). Every method of the client goes through it; use it
   * for events the handles do not wrap.
   *
   * @example
   *   const { items } = await berth.call("activity:history", { afterId: 0, limit: 10 });
   */
  call<E extends ClientEvent>(
    event: E,
    payload: RequestOf<E>,
    options: CallOptions = {},
  ): Promise<ResultMap[E]> {
    return this.#core.call(event, payload, options);
  }

  /**
   * Listens to one of berth's pushed events (`container:status_changed`,
   * `container:health_changed`, `container:dropped`, `session:revoked`,
   * `activity_log` — given once and in order, like `activity.on`), or to
   * the client's own `connection` (its state). Returns the unsubscribe.
   *
   * @example
   *   const off = berth.on("container:status_changed", (e) => console.log(e.name, e.from, "→", e.to));
   */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): Unsubscribe {
    if (event === "connection") return this.#core.onState(listener as (state: ConnectionState) => void);
    if (event === "activity_log") return this.#feed.on(listener as ActivityListener);
    const socket = this.#core.socket as unknown as {
      on(e: string, l: (...args: unknown[]) => void): void;
      off(e: string, l: (...args: unknown[]) => void): void;
    };
    // Wrapped, so that each unsubscribe removes its own listener even when one function is added twice.
    const own = (...args: unknown[]) => (listener as (...a: unknown[]) => void)(...args);
    socket.on(event, own);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      socket.off(event, own);
    };
  }

  /** Closes the connection; idempotent. Calls in flight fail with CLOSED; iterators end. */
  async close(): Promise<void> {
    this.#core.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
