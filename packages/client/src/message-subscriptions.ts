import { BerthError } from "./berth-error.ts";
import type { ClientCore } from "./client-core.ts";
import type { LiveStream } from "./live-stream.ts";
import type { ContainerMessageEvent } from "./protocol/index.ts";
import { type Subscription, subscription } from "./subscription.ts";

export type MessageListener = (data: unknown, event: ContainerMessageEvent) => void;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Every `onMessage` listener of one client, by container: berth is asked to
 * `container:subscribe` on a container's first listener and to
 * `container:unsubscribe` after its last one goes. A subscribe that a drop
 * interrupted (or that was asked for while reconnecting) is kept and sent
 * again once connected. After a reconnect that did not recover the session,
 * every container is subscribed again; a recovered session keeps its rooms,
 * so only the subscriptions berth had not confirmed are sent again.
 */
export class MessageSubscriptions implements LiveStream {
  readonly #core: ClientCore;
  readonly #byId = new Map<string, Set<MessageListener>>();
  /** Containers whose subscription berth has confirmed on this session. */
  readonly #confirmed = new Set<string>();
  /** The `ready` promises waiting for a container's confirmation. */
  readonly #waiters = new Map<string, Waiter[]>();
  #untrack: (() => void) | undefined;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  add(id: string, listener: MessageListener): Subscription {
    try {
      this.#core.assertOpen();
    } catch (err) {
      return subscription(() => {}, Promise.reject(err));
    }
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
    const ready = this.#confirmed.has(id)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          const waiters = this.#waiters.get(id) ?? [];
          waiters.push({ resolve, reject });
          this.#waiters.set(id, waiters);
        });
    if (first) void this.#subscribe(id);
    let removed = false;
    const remove = () => {
      if (removed) return;
      removed = true;
      const set = this.#byId.get(id);
      if (!set?.delete(own) || set.size > 0) return;
      const wasConfirmed = this.#confirmed.has(id);
      this.#forget(id);
      if (wasConfirmed && this.#core.socket.connected)
        this.#core.call("container:unsubscribe", { id }).catch(() => {
          // Best effort: a container deleted meanwhile has no subscription left anyway.
        });
    };
    return subscription(remove, ready);
  }

  async resume(recovered: boolean): Promise<void> {
    if (!recovered) this.#confirmed.clear();
    const ids = [...this.#byId.keys()].filter((id) => !this.#confirmed.has(id));
    await Promise.all(ids.map((id) => this.#subscribe(id)));
  }

  end(error?: BerthError): void {
    const reason = error ?? BerthError.client("CLOSED", "the client was closed before berth confirmed");
    for (const id of [...this.#byId.keys()]) this.#forget(id, reason);
  }

  /** Asks berth for the subscription; a refusal takes the container's listeners with it, a drop keeps them. */
  async #subscribe(id: string): Promise<void> {
    try {
      await this.#core.call("container:subscribe", { id });
    } catch (err) {
      // Dropped before the answer, or not connected: sent again on the next connect (resume).
      if (err instanceof BerthError && err.code === "DISCONNECTED") return;
      this.#forget(id, err);
      return;
    }
    if (!this.#byId.has(id)) {
      // Its last listener went while the subscribe was under way: undo it on berth too.
      if (this.#core.socket.connected) this.#core.call("container:unsubscribe", { id }).catch(() => {});
      return;
    }
    this.#confirmed.add(id);
    for (const waiter of this.#waiters.get(id) ?? []) waiter.resolve();
    this.#waiters.delete(id);
  }

  /** Drops a container's listeners; its waiters get `reason` (or resolve, for an unsubscribe before the answer). */
  #forget(id: string, reason?: unknown): void {
    this.#byId.delete(id);
    this.#confirmed.delete(id);
    for (const waiter of this.#waiters.get(id) ?? []) {
      if (reason === undefined) waiter.resolve();
      else waiter.reject(reason);
    }
    this.#waiters.delete(id);
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
