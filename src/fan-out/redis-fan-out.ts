import { createAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import type { Namespace } from "socket.io";
import type { Adapter, Session } from "socket.io-adapter";
import type { RedisUrl } from "../config/redis-url.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { ConsumedSessions } from "./consumed-sessions.ts";
import { FanOutUnavailableError } from "./fan-out-unavailable-error.ts";

/** What Socket.IO's `adapter` option takes: one adapter per namespace. */
export type AdapterFactory = (nsp: Namespace) => Adapter;

/** Where the fan-out's link to Redis stands; told in the system log at each change. */
export type FanOutState = "connecting" | "up" | "down" | "closed";

/**
 * How long a publish to Redis may take before the push goes to this server's
 * clients without it. A healthy Redis answers in a millisecond; a link cut
 * without a reset (a partition) would otherwise hold every push of this
 * server until TCP gives up, minutes later.
 */
const COMMAND_TIMEOUT_MS = 2_000;
/**
 * Pushes kept in the stream for recovery, about: as many as one server keeps
 * in memory (api/recovery-adapter.ts, MAX_RECOVERY_PACKETS), now for all
 * servers together; a client whose offset was trimmed starts a fresh session.
 */
const STREAM_MAX_ENTRIES = 10_000;
/** How long berth waits at start-up for Redis before it serves its own clients only (and keeps trying). */
const FIRST_CONNECT_WAIT_MS = 5_000;
/**
 * How long the adapter's stream reader blocks in one XREAD. It checks for
 * close between reads, so this bounds how long its connection outlives
 * `close()`; one idle read a second costs Redis nothing.
 */
const READ_BLOCK_MS = 1_000;
/**
 * Where the adapter keeps each session (its default, named here so that
 * `forget` deletes the very key the adapter writes).
 */
const SESSION_KEY_PREFIX = "sio:session:";

/** The adapter's methods berth wraps; socket.io-adapter's ClusterAdapter declares them, the Redis one fills them in. */
interface RedisStreamsAdapter extends Adapter {
  doPublish(message: unknown): Promise<string>;
  restoreSession(pid: string, offset: string): Promise<Session>;
}

/**
 * Fan-out across berth's API servers (BERTH_REDIS_URL): Socket.IO's
 * Redis-streams adapter over one Redis client, so that a push to a room
 * (an owner's, the admins') reaches that room's clients on every API server
 * sharing the Redis, and a session a client had on one server is recovered
 * on another (the adapter keeps sessions and the stream of pushes in Redis).
 *
 * Redis is a convenience, not a dependency: while it is unreachable each push
 * still reaches this server's own clients at once (the adapter's publish
 * fails fast rather than queueing, and Socket.IO then emits locally), a
 * reconnecting client gets a fresh session, and the system log says so once;
 * the clients reconnect by themselves (node-redis backs off up to 2 s) and
 * fan-out resumes, which the log says too.
 *
 * @example
 *   const fanOut = new RedisFanOut(config.redis, log);
 *   await fanOut.open();
 *   const io = new Server(httpServer, { adapter: fanOut.adapter, connectionStateRecovery: {} });
 *   …
 *   await fanOut.close(); // after the Socket.IO server closed
 */
export class RedisFanOut {
  readonly #client;
  readonly #log: SystemLogger;
  readonly #adapters = new Set<Adapter>();
  #factory: AdapterFactory | undefined;
  #state: FanOutState = "connecting";
  #closing: Promise<void> | undefined;
  /** The client with COMMAND_TIMEOUT_MS, for the adapter's commands and berth's own. */
  readonly #commands;
  /** The sessions a look-up consumed, with the lifetime each had left (for `returnSession`). */
  readonly #consumed = new ConsumedSessions();

  constructor(url: RedisUrl, log: SystemLogger) {
    this.#log = log.child({ component: "fan-out" });
    this.#client = createClient({ url: url.reveal(), socket: { connectTimeout: COMMAND_TIMEOUT_MS } });
    this.#client.on("error", this.#onError);
    this.#client.on("ready", this.#onReady);
    this.#commands = this.#client.withCommandOptions({ timeout: COMMAND_TIMEOUT_MS });
  }

  /** Where the link to Redis stands now. */
  get state(): FanOutState {
    return this.#state;
  }

  /**
   * Starts connecting, and waits for Redis a few seconds at most: berth
   * starts without it (serving its own clients only) and the client keeps trying.
   */
  async open(): Promise<void> {
    // With node-redis's default strategy connect() retries until it is in; it rejects only once closed.
    const connected = this.#client.connect().then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), FIRST_CONNECT_WAIT_MS);
    });
    const inTime = await Promise.race([connected, waited]);
    clearTimeout(timer);
    // Closed while it waited (berth stopped during its start): no adapter, whose clients would outlive it.
    if (this.#state === "closed") return;
    if (!inTime)
      this.#log.warn("Redis does not answer yet: pushes reach this server's clients only until it does");
    this.#factory = createAdapter(this.#publisher(), {
      maxLen: STREAM_MAX_ENTRIES,
      blockTimeInMs: READ_BLOCK_MS,
      sessionKeyPrefix: SESSION_KEY_PREFIX,
    });
  }

  /**
   * Deletes the session kept for `pid` (a connection that ended for good:
   * SessionKeeper wrote it while the connection lasted). While Redis is
   * unreachable nothing is deleted: the session then lives out its two
   * minutes there, and is recovered only with the token it was made with,
   * while that token is in force (the recovery guard's rule).
   */
  forget(pid: string): void {
    if (!this.#client.isReady) return;
    this.#commands.del(SESSION_KEY_PREFIX + pid).catch((err: unknown) => {
      this.#log.debug({ err }, "could not delete a session that ended for good");
    });
  }

  /**
   * Writes back a session that the adapter's look-up consumed (GETDEL) and
   * berth refused to restore, with the expiry it had left (read in the
   * look-up's own MULTI, less the time since): a refused try neither costs
   * its owner the session nor gives it a new two minutes. A session this
   * fan-out did not look up, or whose time is over, is not written.
   */
  returnSession(session: Session): void {
    this.#consumed.giveBack(session);
  }

  /** The adapter factory for Socket.IO's `adapter` option (after `open()`). */
  readonly adapter: AdapterFactory = newable((nsp) => {
    if (!this.#factory) throw new Error("RedisFanOut.adapter used before open()");
    const adapter = this.#factory(nsp) as unknown as RedisStreamsAdapter;
    this.#failFastWhileDown(adapter);
    this.#adapters.add(adapter);
    return adapter;
  });

  /**
   * Closes the adapters (their stream reader and subscriber let go within
   * READ_BLOCK_MS) and the client, after the commands under way (the sessions
   * a closing Socket.IO server just wrote). Safe to call twice.
   *
   * Closed while Redis is unreachable, the adapter's reader and subscriber go
   * on trying to reconnect until the process ends: the adapter lets them go
   * only from a read or connection that finishes, and closing them here
   * instead would make its read loop throw an unhandled rejection (which ends
   * berth). berth's process ends after close, so this costs nothing there.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = "closed";
      for (const adapter of this.#adapters) adapter.close();
      this.#adapters.clear();
      if (this.#client.isOpen) await this.#client.close().catch(() => undefined);
    })();
    return this.#closing;
  }

  /**
   * While Redis is down the adapter must not wait for it: a publish fails at
   * once (ClusterAdapter then emits to this server's clients, without an
   * offset to recover from), a session is neither written nor looked up (the
   * client starts a fresh one). Without this, node-redis would queue the
   * commands until Redis came back, and hold every push with them.
   */
  #failFastWhileDown(adapter: RedisStreamsAdapter): void {
    const publish = adapter.doPublish.bind(adapter);
    const persist = adapter.persistSession.bind(adapter);
    const restore = adapter.restoreSession.bind(adapter);
    adapter.doPublish = (message) =>
      this.#client.isReady ? publish(message) : Promise.reject(new FanOutUnavailableError());
    adapter.restoreSession = (pid, offset) =>
      this.#client.isReady
        ? this.#consumed.lookUp(adapter, () => restore(pid, offset))
        : Promise.reject(new FanOutUnavailableError());
    adapter.persistSession = (session) => {
      if (this.#client.isReady) persist(session);
    };
  }

  /**
   * The client as the adapter gets it: its commands time out (COMMAND_TIMEOUT_MS);
   * a session write that fails is logged, not thrown — the adapter drops its
   * promise, and an unhandled rejection would end berth; its duplicates (the
   * stream reader, the subscriber) are plain clients, without the timeout, whose
   * blocking reads and subscriptions wait for Redis to come back.
   */
  #publisher() {
    const client = this.#client;
    const publisher = this.#commands;
    const set = publisher.set.bind(publisher);
    const multi = publisher.multi.bind(publisher);
    return Object.assign(publisher, {
      set: (...args: Parameters<typeof set>) =>
        (this.#consumed.setExpiry === undefined
          ? set(...args)
          : set(args[0], args[1], { PX: this.#consumed.setExpiry })
        ).catch((err: unknown) => {
          this.#log.debug(
            { err },
            "could not keep a session in Redis: it will not be recovered on another server",
          );
          return null;
        }),
      duplicate: () => this.#settledSubscriptions(client.duplicate()),
      multi: () => this.#consumed.multi(multi()),
    });
  }

  /**
   * A duplicate (the adapter's subscriber, its stream reader) whose SUBSCRIBE
   * cannot reject unhandled: the adapter drops its promise, and one still
   * waiting for Redis's answer when the fan-out closes (the adapter destroys
   * that client) rejected with "Disconnects client" — an unhandled rejection,
   * which ends berth, seen when a fan-out closed right after it opened.
   */
  #settledSubscriptions<C>(copy: C): C {
    const subscriber = copy as unknown as { subscribe(...args: unknown[]): Promise<unknown> };
    const subscribe = subscriber.subscribe.bind(subscriber);
    subscriber.subscribe = (...args) =>
      subscribe(...args).catch((err: unknown) => {
        this.#log.debug({ err }, "a subscription ended before Redis confirmed it");
      });
    return copy;
  }

  readonly #onError = (err: Error) => {
    if (this.#state === "closed") return;
    if (this.#state === "down") {
      this.#log.debug({ err }, "Redis still unreachable");
      return;
    }
    this.#state = "down";
    this.#log.warn(
      { err },
      "Redis unreachable: pushes reach this server's clients only, and reconnecting clients start fresh sessions, until it comes back",
    );
  };

  readonly #onReady = () => {
    if (this.#state === "closed") return;
    const was = this.#state;
    this.#state = "up";
    if (was === "down") this.#log.info("Redis is back: pushes reach every API server again");
    else this.#log.info("connected to Redis: pushes reach every API server sharing it");
  };
}

/** Socket.IO calls its adapter factory with `new`, which an arrow function refuses; a plain function takes it. */
function newable(make: AdapterFactory): AdapterFactory {
  return function adapterOf(nsp) {
    return make(nsp);
  };
}
