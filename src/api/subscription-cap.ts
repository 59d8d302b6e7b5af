import { ConnectionClosedError, TooManySubscriptionsError } from "./connection-limit-errors.ts";
import { MESSAGES_ROOM_PREFIX } from "./rooms.ts";
import { OVERVIEW_KEY, type Subscriptions } from "./subscriptions.ts";

/** The parts of a connection the cap reads: its id and the rooms it is in (`messages:<id>` for subscriptions). */
interface Connection {
  readonly id: string;
  readonly rooms: ReadonlySet<string>;
  /** False once the connection has gone: its subscriptions were given back, and no new one may be made for it. */
  readonly connected: boolean;
}

/** Subscriptions kinds that count: one container's stats watch, one log follow. */
const COUNTED_KINDS = ["stats", "logs"] as const;
/** The overview (`containers:watch_stats`) is kept as `stats:*`; one per connection, so not counted. */

/**
 * The per-connection cap on what a connection listens to: workload-message
 * subscriptions, log follows and stats watches together. Each one costs berth
 * for as long as it lasts (a log follow holds a stream open to the engine), so
 * one connection may not open them without end. Counted from what the
 * connection holds now, so that an end from any cause (an unsubscribe, a
 * deleted container, a log stream that ended) frees its place; plus the ones
 * being opened right now, so that a burst of concurrent asks cannot pass the
 * cap together.
 */
export class SubscriptionCap {
  readonly #limit: number;
  readonly #subscriptions: Subscriptions;
  readonly #opening = new Map<string, number>();

  constructor(limit: number, subscriptions: Subscriptions) {
    this.#limit = limit;
    this.#subscriptions = subscriptions;
  }

  /**
   * Runs `open` (which makes the subscription `key`, e.g. `logs:<id>`) if the
   * connection may hold one more; asking again for one it holds always may.
   * Throws TOO_MANY_SUBSCRIPTIONS otherwise.
   */
  async open<T>(connection: Connection, key: string, open: () => Promise<T> | T): Promise<T> {
    // A handler that awaited (the container's lookup in the store) may get here after its connection left,
    // when everything it held was given back: what it would open now would be held by nobody.
    if (!connection.connected) throw new ConnectionClosedError();
    const held = connection.rooms.has(key) || this.#subscriptions.has(connection.id, key);
    if (!held && this.#count(connection) >= this.#limit) throw new TooManySubscriptionsError(this.#limit);
    this.#opening.set(connection.id, (this.#opening.get(connection.id) ?? 0) + 1);
    try {
      return await open();
    } finally {
      const left = (this.#opening.get(connection.id) ?? 1) - 1;
      if (left === 0) this.#opening.delete(connection.id);
      else this.#opening.set(connection.id, left);
    }
  }

  #count(connection: Connection): number {
    let rooms = 0;
    for (const room of connection.rooms) if (room.startsWith(MESSAGES_ROOM_PREFIX)) rooms++;
    const overview = this.#subscriptions.has(connection.id, OVERVIEW_KEY) ? 1 : 0;
    return (
      rooms +
      this.#subscriptions.countOf(connection.id, COUNTED_KINDS) -
      overview +
      (this.#opening.get(connection.id) ?? 0)
    );
  }
}
