import { BerthError } from "./berth-error.ts";
import type { ClientCore } from "./client-core.ts";
import { EventQueue } from "./event-queue.ts";
import type { LiveStream } from "./live-stream.ts";
import { LogStream } from "./log-stream.ts";
import type { ContainerLogEvent, LogLine } from "./protocol/index.ts";

/**
 * Every `followLogs()` iterator of one client. berth keeps one log follow
 * per connection and container, so iterators of one container share it:
 * it is opened (`container:follow_logs` with `tail: 0`) for the first and
 * closed (`container:unfollow_logs`) after the last one returns; each
 * iterator reads its own tail with `container:logs`. After a reconnect
 * (berth ends follows with the connection, even a recovered one), the
 * follow is opened again and each iterator reads what it missed since its
 * last line (LogStream gives no line twice).
 */
export class LogFollows implements LiveStream {
  readonly #core: ClientCore;
  readonly #byId = new Map<string, Set<LogStream>>();
  #untrack: (() => void) | undefined;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  follow(id: string, tail: number, bound?: number): EventQueue<LogLine> {
    const queue = new EventQueue<LogLine>({
      ...(bound === undefined ? {} : { bound }),
      onReturn: () => this.#remove(id, stream),
    });
    const stream = new LogStream(queue);
    try {
      this.#core.assertOpen();
    } catch (err) {
      queue.end(err instanceof BerthError && err.code === "CLOSED" ? undefined : err);
      return queue;
    }
    let streams = this.#byId.get(id);
    const first = !streams;
    if (!streams) {
      streams = new Set();
      this.#byId.set(id, streams);
    }
    streams.add(stream);
    if (!this.#untrack) {
      this.#core.socket.on("container:log", this.#onLine);
      this.#untrack = this.#core.track(this);
    }
    const opened = first ? this.#open(id) : Promise.resolve();
    stream
      .sync(async () => {
        await opened;
        if (tail === 0) return [];
        return (await this.#core.call("container:logs", { id, tail })).lines;
      })
      .catch((err: unknown) => queue.end(err));
    return queue;
  }

  async resume(): Promise<void> {
    await Promise.all(
      [...this.#byId].map(async ([id, streams]) => {
        const opened = this.#open(id);
        await Promise.all(
          [...streams].map((stream) =>
            stream.sync(async () => {
              await opened;
              const since = stream.lastTs;
              // A stream that has given no line yet has nothing to resume from: it goes on from now.
              if (since === undefined) return [];
              return (await this.#core.call("container:logs", { id, since })).lines;
            }),
          ),
        ).catch((err: unknown) => {
          if (err instanceof BerthError && (err.code === "DISCONNECTED" || err.code === "CLOSED")) return;
          for (const stream of streams) stream.queue.end(err);
        });
      }),
    );
  }

  end(error?: BerthError): void {
    for (const streams of [...this.#byId.values()]) for (const s of [...streams]) s.queue.end(error);
    this.#byId.clear();
    this.#stop();
  }

  async #open(id: string): Promise<void> {
    await this.#core.call("container:follow_logs", { id, tail: 0 });
  }

  #remove(id: string, stream: LogStream): void {
    const streams = this.#byId.get(id);
    if (!streams?.delete(stream) || streams.size > 0) return;
    this.#byId.delete(id);
    if (this.#core.socket.connected && this.#core.state !== "closed")
      this.#core.call("container:unfollow_logs", { id }).catch(() => {
        // Best effort: berth ends the follow anyway when the container goes or the connection drops.
      });
    if (this.#byId.size === 0) this.#stop();
  }

  #stop(): void {
    this.#core.socket.off("container:log", this.#onLine);
    this.#untrack?.();
    this.#untrack = undefined;
  }

  readonly #onLine = (event: ContainerLogEvent) => {
    for (const stream of [...(this.#byId.get(event.id) ?? [])]) stream.onLive(event);
  };
}
