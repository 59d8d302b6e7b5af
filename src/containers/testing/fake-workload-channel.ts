import { EventEmitter } from "node:events";
import type { ChannelInfo } from "#protocol";
import type { WorkloadChannel } from "../workload-channel.ts";

/** A channel whose workloads say hello when a test says so (or at once, with `autoHello`). */
export class FakeWorkloadChannel extends EventEmitter implements WorkloadChannel {
  readonly open_ = new Set<string>();
  readonly #connected = new Map<string, number>();
  readonly #waiters = new Map<string, Array<() => void>>();
  autoHello = true;

  async open(id: string): Promise<void> {
    this.open_.add(id);
  }

  async close(id: string): Promise<void> {
    this.open_.delete(id);
    this.#connected.delete(id);
  }

  status(id: string): ChannelInfo {
    const at = this.#connected.get(id);
    return at === undefined ? { connected: false } : { connected: true, connectedAt: at, protocol: 1 };
  }

  hello(id: string): void {
    this.#connected.set(id, Date.now());
    this.#badHellos.delete(id);
    for (const w of this.#waiters.get(id)?.splice(0) ?? []) w();
  }

  readonly #badHellos = new Map<string, { reason: string; at: number }>();

  badHello(id: string, reason: string): void {
    this.#badHellos.set(id, { reason, at: Date.now() });
    this.emit("bad_hello", id, reason);
  }

  lastBadHello(id: string): { reason: string; at: number } | undefined {
    return this.#badHellos.get(id);
  }

  waitForHello(id: string, opts: { signal?: AbortSignal } = {}): Promise<unknown> {
    if (this.autoHello) {
      queueMicrotask(() => this.hello(id));
    }
    return new Promise((resolve, reject) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(() => resolve({}));
      this.#waiters.set(id, list);
      opts.signal?.addEventListener("abort", () => reject(opts.signal?.reason), { once: true });
    });
  }
}
