import { BerthError } from "./berth-error.ts";
import type { ClientCore } from "./client-core.ts";
import { isConnectionLoss } from "./connection-loss.ts";
import { EventQueue } from "./event-queue.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ContainerDroppedEvent, TelemetryStream } from "./protocol/index.ts";

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

interface Entry<T, O> {
  options: O;
  queues: Set<EventQueue<T>>;
}

/**
 * Pushed streams that berth keeps one of per connection and key (a stats
 * watch per container, the overview), shared by any number of iterators:
 * berth is asked to open the stream for the first iterator and to close it
 * after the last one returns, so that one `break` does not stop another
 * iterator's stream. Options are the latest iterator's (berth keeps one
 * interval per stream). berth ends these streams when a connection drops,
 * even a recovered one, so each is opened again after every reconnect.
 */
export class SharedStreams<T, O> implements LiveStream {
  readonly #core: ClientCore;
  readonly #kind: SharedStreamKind<T, O>;
  readonly #entries = new Map<string, Entry<T, O>>();
  #untrack: (() => void) | undefined;

  constructor(core: ClientCore, kind: SharedStreamKind<T, O>) {
    this.#core = core;
    this.#kind = kind;
  }

  /** A new iterator over the stream `key`; it asks berth to open the stream (again, when `options` differ). */
  open(key: string, options: O, bound?: number): EventQueue<T> {
    const queue: EventQueue<T> = new EventQueue<T>({
      ...(bound === undefined ? {} : { bound }),
      onReturn: () => this.#remove(key, queue),
    });
    try {
      this.#core.assertOpen();
    } catch (err) {
      queue.end(err instanceof BerthError && err.code === "CLOSED" ? undefined : err);
      return queue;
    }
    let entry = this.#entries.get(key);
    const sameOptions = entry !== undefined && JSON.stringify(entry.options) === JSON.stringify(options);
    if (!entry) {
      entry = { options, queues: new Set() };
      this.#entries.set(key, entry);
    }
    entry.options = options;
    entry.queues.add(queue);
    if (!this.#untrack) {
      this.#core.socket.on(this.#kind.event as "connect", this.#onEvent as () => void);
      if (this.#kind.dropped) this.#core.socket.on("container:dropped", this.#onDropped);
      this.#untrack = this.#core.track(this);
    }
    if (!sameOptions)
      this.#kind.open(this.#core, key, options).catch((err: unknown) => {
        // Dropped before the answer, or not connected: opened again on the next connect (resume).
        if (isConnectionLoss(err)) return;
        for (const q of [...(this.#entries.get(key)?.queues ?? [])]) q.end(err);
      });
    return queue;
  }

  async resume(): Promise<void> {
    await Promise.all(
      [...this.#entries].map(([key, entry]) =>
        this.#kind.open(this.#core, key, entry.options).catch((err: unknown) => {
          if (isConnectionLoss(err)) return;
          for (const q of [...entry.queues]) q.end(err);
        }),
      ),
    );
  }

  end(error?: BerthError): void {
    for (const entry of [...this.#entries.values()]) for (const q of [...entry.queues]) q.end(error);
    this.#entries.clear();
    this.#stop();
  }

  #remove(key: string, queue: EventQueue<T>): void {
    const entry = this.#entries.get(key);
    if (!entry?.queues.delete(queue) || entry.queues.size > 0) return;
    this.#entries.delete(key);
    if (this.#core.socket.connected && this.#core.state !== "closed")
      this.#kind.close(this.#core, key).catch(() => {
        // Best effort: berth ends the stream anyway when the container goes or the connection drops.
      });
    if (this.#entries.size === 0) this.#stop();
  }

  #stop(): void {
    this.#core.socket.off(this.#kind.event as "connect", this.#onEvent as () => void);
    this.#core.socket.off("container:dropped", this.#onDropped);
    this.#untrack?.();
    this.#untrack = undefined;
  }

  /** berth's count of events it left out for this connection: each iterator of that key missed them. */
  readonly #onDropped = (event: ContainerDroppedEvent) => {
    if (event.stream !== this.#kind.dropped) return;
    for (const queue of this.#entries.get(event.id)?.queues ?? []) queue.countDropped(event.count);
  };

  readonly #onEvent = (event: T) => {
    for (const queue of [...(this.#entries.get(this.#kind.keyOf(event))?.queues ?? [])]) queue.push(event);
  };
}
