import { BerthError } from "./berth-error.ts";
import type { ClientCore } from "./client-core.ts";
import { isConnectionLoss } from "./connection-loss.ts";
import { EventQueue } from "./event-queue.ts";
import type { LiveStream } from "./live-stream.ts";
import { LogStream } from "./log-stream.ts";
import type {
  ContainerDroppedEvent,
  ContainerLogEvent,
  LogLine,
  StatusChangedEvent,
} from "./protocol/index.ts";
import { type SharedEntry, SharedRegistry } from "./shared-registry.ts";

/** The most lines berth gives for one `container:logs` (its MAX_LOG_TAIL): what a resume asks for. */
export const MAX_LOG_TAIL = 5_000;

interface Followed extends SharedEntry<LogStream> {
  /** The follow being opened (or open) on berth: an iterator that joins reads its tail only once it is. */
  opened: Promise<void>;
  /**
   * When (berth's clock) the container was last seen not `running` while followed: berth's follow has
   * ended (or may have); a stream with no line yet reads from then once the container is back.
   */
  leftRunningAt?: number;
  /**
   * Set by a resume: statuses may have been missed while the client was away (a restart, an update),
   * so the follow it opened may have been ended at once by the engine — the next `running` reopens it.
   */
  mayHaveStopped?: true;
  /** The reopen in flight: one at a time, so that berth does not run two engine follows at once for the client. */
  reopening?: Promise<void>;
  /** A further reopen asked for while one was in flight (with the earliest `since` asked for). */
  again?: { since: number | undefined };
}

/**
 * Every `followLogs()` iterator of one client. berth keeps one log follow
 * per connection and container, so iterators of one container share it:
 * it is opened (`container:follow_logs` with `tail: 0`) for the first and
 * closed (`container:unfollow_logs`) after the last one returns; each
 * iterator reads its own tail with `container:logs` once the follow is open
 * (an iterator that joins while it is being opened waits for it too).
 *
 * A follow ends on berth when the container stops (the engine ends it) and
 * when the connection drops (even a recovered one). So it is opened again
 * when `container:status_changed` says the container is `running` again (a
 * restart, an update, a rollback, the restart policy) and after a reconnect
 * — and once more at the next `running` after a reconnect, whose statuses
 * may have been missed (a restart while away ends the follow it opened).
 * One reopen runs at a time per container. Each iterator then reads what it
 * missed since its last line (up to MAX_LOG_TAIL lines; a gap beyond that
 * is counted in `dropped`), and LogStream gives no line twice. The
 * iterators end cleanly when the container is deleted (`removing`, or
 * NOT_FOUND when opened again). berth's `container:dropped` for a
 * container's logs is counted in each of its iterators' `dropped`.
 */
export class LogFollows implements LiveStream {
  readonly #core: ClientCore;
  readonly #byId: SharedRegistry<LogStream, Followed>;

  constructor(core: ClientCore) {
    this.#core = core;
    this.#byId = new SharedRegistry(core, this, {
      listen: (on) => this.#listen(on),
      close: (id) => core.call("container:unfollow_logs", { id }),
    });
  }

  follow(id: string, tail: number, bound?: number): EventQueue<LogLine> {
    const queue = new EventQueue<LogLine>({
      ...(bound === undefined ? {} : { bound }),
      onReturn: () => this.#byId.remove(id, stream),
    });
    const stream = new LogStream(queue, tail);
    try {
      this.#core.assertOpen();
    } catch (err) {
      queue.end(err instanceof BerthError && err.code === "CLOSED" ? undefined : err);
      return queue;
    }
    const { opened } = this.#byId.add(id, stream, () => ({
      members: new Set(),
      opened: this.#open(id),
    })).entry;
    stream
      .sync(async () => {
        await opened;
        if (tail === 0) return [];
        return (await this.#core.call("container:logs", { id, tail })).lines;
      })
      .catch((err: unknown) => {
        // Dropped before the answer, or not connected: the stream starts on the next connect (resume).
        if (!isConnectionLoss(err)) queue.end(err);
      });
    return queue;
  }

  async resume(): Promise<void> {
    await Promise.all(
      this.#byId.entries().map(([id, followed]) => {
        followed.mayHaveStopped = true;
        return this.#reopen(id, followed);
      }),
    );
  }

  end(error?: BerthError): void {
    for (const stream of this.#byId.clear()) stream.queue.end(error);
  }

  /**
   * Opens the follow again, once at a time: asked while one is in flight, it runs once more after it
   * (a `running` that came meanwhile means the engine may have ended the follow being opened).
   */
  #reopen(id: string, followed: Followed, since?: number): Promise<void> {
    if (followed.reopening !== undefined) {
      // The earlier `since` (when the container first left running) is the one a stream with no line reads from.
      followed.again = { since: followed.again?.since ?? since };
      return followed.reopening;
    }
    const run = async () => {
      let next: { since: number | undefined } | undefined = { since };
      // Not once its iterators have all returned, or its container was found deleted.
      while (next && this.#byId.get(id) === followed) {
        delete followed.again;
        await this.#reopenOnce(id, followed, next.since);
        next = followed.again;
      }
      // The last iterator returned while the follow was being opened again: its unfollow went before
      // this open, which left a follow on berth that nothing else closes (unless another follow of the
      // container has begun since, which uses it).
      if (followed.members.size === 0 && !this.#byId.get(id) && this.#core.socket.connected)
        this.#core.call("container:unfollow_logs", { id }).catch(() => {});
    };
    followed.reopening = run().finally(() => {
      delete followed.reopening;
    });
    return followed.reopening;
  }

  /** Opens the follow again and has each stream read what it missed since its last line (or since `since`). */
  async #reopenOnce(id: string, followed: Followed, since?: number): Promise<void> {
    const opened = this.#open(id);
    followed.opened = opened;
    await Promise.all(
      [...followed.members].map((stream) =>
        stream.sync(async () => {
          await opened;
          const from = stream.lastTs ?? (stream.tail === 0 ? since : undefined);
          if (from !== undefined) return { lines: await this.#linesSince(id, from, stream), since: from };
          // A stream that has given no line yet reads the tail it asked for, if it never got it;
          // otherwise it has nothing to resume from and goes on from now.
          if (stream.tail === 0) return [];
          return (await this.#core.call("container:logs", { id, tail: stream.tail })).lines;
        }),
      ),
    ).catch((err: unknown) => {
      if (isConnectionLoss(err)) return;
      // Deleted while the client was away: its iterators end cleanly, as they do on `removing`.
      const deleted = err instanceof BerthError && err.code === "NOT_FOUND";
      if (deleted && this.#byId.get(id) === followed) this.#byId.forget(id);
      for (const stream of [...followed.members]) stream.queue.end(deleted ? undefined : err);
    });
  }

  /** The lines since `since`, as many as berth gives; a gap it could not fill is counted in the stream's `dropped`. */
  async #linesSince(id: string, since: number, stream: LogStream): Promise<LogLine[]> {
    const answer = await this.#core.call("container:logs", { id, since, tail: MAX_LOG_TAIL });
    const { lines } = answer;
    // berth gives the newest lines: when it left some out (its tail or its byte budget) and the oldest
    // given is newer than `since`, lines in between are missing — how many, berth does not say.
    const cut = answer.truncated === true || lines.length >= MAX_LOG_TAIL;
    if (cut && (lines[0]?.ts ?? Number.POSITIVE_INFINITY) > since) stream.queue.countDropped(1);
    return lines;
  }

  #open(id: string): Promise<void> {
    const opened = this.#core.call("container:follow_logs", { id, tail: 0 }).then(() => {});
    // Each stream that waits for it handles its failure; this keeps an unawaited one from being unhandled.
    opened.catch(() => {});
    return opened;
  }

  #listen(on: boolean): void {
    const socket = this.#core.socket;
    const method = on ? socket.on.bind(socket) : socket.off.bind(socket);
    method("container:log", this.#onLine);
    method("container:status_changed", this.#onStatus);
    method("container:dropped", this.#onDropped);
  }

  readonly #onLine = (event: ContainerLogEvent) => {
    for (const stream of [...(this.#byId.get(event.id)?.members ?? [])]) stream.onLive(event);
  };

  readonly #onStatus = (event: StatusChangedEvent) => {
    const followed = this.#byId.get(event.id);
    if (!followed) return;
    if (event.to === "removing") {
      // Deleted: its iterators end cleanly; there is no follow left to close on berth.
      this.#byId.forget(event.id);
      for (const stream of [...followed.members]) stream.queue.end();
      return;
    }
    if (event.to !== "running") {
      followed.leftRunningAt ??= event.ts;
      return;
    }
    // Running, without having left `running` while followed (it came up from `starting`, whose process
    // already runs) nor a resume since: berth's follow is still open. Opening it again would replace
    // it, and a line could come through both while they overlap.
    const since = followed.leftRunningAt;
    if (since === undefined && !followed.mayHaveStopped) return;
    // Back up: the engine ended berth's follow when the container stopped (or may have, while the
    // client was away), so it is opened again.
    delete followed.leftRunningAt;
    delete followed.mayHaveStopped;
    void this.#reopen(event.id, followed, since);
  };

  readonly #onDropped = (event: ContainerDroppedEvent) => {
    if (event.stream !== "logs") return;
    for (const stream of this.#byId.get(event.id)?.members ?? []) stream.queue.countDropped(event.count);
  };
}
