import { BerthError } from "./berth-error.ts";
import type { ClientCore } from "./client-core.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ContainerMessageEvent } from "./protocol/index.ts";
import { type Subscription, subscription } from "./subscription.ts";

export type MessageListener = (data: unknown, event: ContainerMessageEvent) => void;

/**
 * Every `onMessage` listener of one client, by container: berth is asked to
 * `container:subscribe` on a container's first listener and to
 * `container:unsubscribe` after its last one goes. After a reconnect that
 * did not recover the session, each container is subscribed again (a
 * recovered session keeps its rooms, so it is not).
 */
export class MessageSubscriptions implements LiveStream {
  readonly #core: ClientCore;
  readonly #byId = new Map<string, Set<MessageListener>>();
  #untrack: (() => void) | undefined;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  add(id: string, listener: MessageListener): Subscription {
    let listeners = this.#byId.get(id);
    const first = !listeners;
    if (!listeners) {
      listeners = new Set();
      this.#byId.set(id, listeners);
    }
    // The same function added twice is two listeners: wrapped, so that each unsubscribe removes its own.
    const own: MessageListener = (data, event) => listener(data, event);
    listeners.add(own);
    if (!this.#untrack) this.#start();
    let removed = false;
    const remove = () => {
      if (removed) return;
      removed = true;
      const set = this.#byId.get(id);
      if (!set?.delete(own) || set.size > 0) return;
      this.#byId.delete(id);
      if (this.#core.socket.connected)
        this.#core.call("container:unsubscribe", { id }).catch(() => {
          // Best effort: a container deleted meanwhile has no subscription left anyway.
        });
      if (this.#byId.size === 0) this.#stop();
    };
    const ready = first
      ? this.#core.call("container:subscribe", { id }).then(
          () => {},
          (err: unknown) => {
            // A refused subscription (NOT_FOUND, TOO_MANY_SUBSCRIPTIONS) takes its listeners with it.
            this.#drop(id);
            throw err;
          },
        )
      : Promise.resolve();
    return subscription(remove, ready);
  }

  async resume(recovered: boolean): Promise<void> {
    if (recovered) return;
    await Promise.all(
      [...this.#byId.keys()].map((id) =>
        this.#core.call("container:subscribe", { id }).catch((err: unknown) => {
          if (err instanceof BerthError && err.code === "NOT_FOUND") this.#drop(id);
          else throw err;
        }),
      ),
    );
  }

  end(): void {
    this.#byId.clear();
    this.#stop();
  }

  #drop(id: string): void {
    this.#byId.delete(id);
    if (this.#byId.size === 0) this.#stop();
  }

  #start(): void {
    this.#core.socket.on("container:message", this.#onMessage);
    this.#untrack = this.#core.track(this);
  }

  #stop(): void {
    this.#core.socket.off("container:message", this.#onMessage);
    this.#untrack?.();
    this.#untrack = undefined;
  }

  readonly #onMessage = (event: ContainerMessageEvent) => {
    for (const listener of [...(this.#byId.get(event.id) ?? [])]) listener(event.data, event);
  };
}
