import { BerthError } from "./berth-error.ts";
import type { ClientCore } from "./client-core.ts";
import { isConnectionLoss } from "./connection-loss.ts";
import { EventQueue } from "./event-queue.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ContainerDroppedEvent, TelemetryStream } from "./protocol/index.ts";
import { type SharedEntry, SharedRegistry } from "./shared-registry.ts";

/** How one kind of pushed stream is opened and closed on berth, and which key a pushed event belongs to. */
export interface SharedStreamKind<T, O> {
  /** The pushed event's name. */
  event: string;
  /** The key (a container id, or one key for an overview) a pushed event belongs to. */
  keyOf(event: T): string;
  /** Asks berth to start (or restart, with new options) the stream `key`. */
  open(core: ClientCore, key: string, options: O): Promise<unknown>;
  /** Asks berth to stop the stream `key`. */
  close(core: ClientCore, key: string): Promise<unknown>;
  /** The stream berth names in `container:dropped` (keyed by container id) for these events, if it counts them. */
  dropped?: TelemetryStream;
}

interface Entry<T, O> extends SharedEntry<EventQueue<T>> {
  options: O;
}

/**
 * Pushed streams that berth keeps one of per connection and key (a stats
 * watch per container, the overview), shared by any number of iterators
 * (SharedRegistry): berth is asked to open the stream for the first
 * iterator and to close it after the last one returns, so that one `break`
 * does not stop another iterator's stream. Options are the latest
 * iterator's (berth keeps one interval per stream). berth ends these
 * streams when a connection drops, even a recovered one, so each is opened
 * again after every reconnect.
 */
export class SharedStreams<T, O> implements LiveStream {
  readonly #core: ClientCore;
  readonly #kind: SharedStreamKind<T, O>;
  readonly #entries: SharedRegistry<EventQueue<T>, Entry<T, O>>;

  constructor(core: ClientCore, kind: SharedStreamKind<T, O>) {
    this.#core = core;
    this.#kind = kind;
    this.#entries = new SharedRegistry(core, this, {
      listen: (on) => this.#listen(on),
      close: (key) => kind.close(core, key),
    });
  }

  /** A new iterator over the stream `key`; it asks berth to open the stream (again, when `options` differ). */
  open(key: string, options: O, bound?: number): EventQueue<T> {
    const queue: EventQueue<T> = new EventQueue<T>({
      ...(bound === undefined ? {} : { bound }),
      onReturn: () => this.#entries.remove(key, queue),
    });
    try {
      this.#core.assertOpen();
    } catch (err) {
      queue.end(err instanceof BerthError && err.code === "CLOSED" ? undefined : err);
      return queue;
    }
    const { entry, first } = this.#entries.add(key, queue, () => ({ options, members: new Set() }));
    const sameOptions = !first && JSON.stringify(entry.options) === JSON.stringify(options);
    entry.options = options;
    if (!sameOptions)
      this.#kind.open(this.#core, key, options).catch((err: unknown) => {
        // Dropped before the answer, or not connected: opened again on the next connect (resume).
        if (isConnectionLoss(err)) return;
        for (const q of [...(this.#entries.get(key)?.members ?? [])]) q.end(err);
      });
    return queue;
  }

  async resume(): Promise<void> {
    await Promise.all(
      this.#entries.entries().map(([key, entry]) =>
        this.#kind.open(this.#core, key, entry.options).catch((err: unknown) => {
          if (isConnectionLoss(err)) return;
          for (const q of [...entry.members]) q.end(err);
        }),
      ),
    );
  }

  end(error?: BerthError): void {
    for (const queue of this.#entries.clear()) queue.end(error);
  }

  #listen(on: boolean): void {
    const socket = this.#core.socket;
    if (on) {
      socket.on(this.#kind.event as "connect", this.#onEvent as () => void);
      if (this.#kind.dropped) socket.on("container:dropped", this.#onDropped);
    } else {
      socket.off(this.#kind.event as "connect", this.#onEvent as () => void);
      socket.off("container:dropped", this.#onDropped);
    }
  }

  /** berth's count of events it left out for this connection: each iterator of that key missed them. */
  readonly #onDropped = (event: ContainerDroppedEvent) => {
    if (event.stream !== this.#kind.dropped) return;
    for (const queue of this.#entries.get(event.id)?.members ?? []) queue.countDropped(event.count);
  };

  readonly #onEvent = (event: T) => {
    for (const queue of [...(this.#entries.get(this.#kind.keyOf(event))?.members ?? [])]) queue.push(event);
  };
}
