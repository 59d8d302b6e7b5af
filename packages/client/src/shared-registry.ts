import type { ClientCore } from "./client-core.ts";
import type { LiveStream } from "./live-stream.ts";

/** One key's share of a registry: its members (iterators), and whatever else its owner keeps for it. */
export interface SharedEntry<M> {
  members: Set<M>;
}

/** What a registry does on berth and on the socket for its owner. */
export interface SharedRegistryHooks {
  /** Starts (`true`) or stops (`false`) listening to the socket's events: with the first member, after the last. */
  listen(on: boolean): void;
  /** Asks berth to stop the stream `key`, after its last member went. */
  close(key: string): Promise<unknown>;
}

/**
 * Members by key for a stream berth keeps one of per connection and key
 * (a log follow, a stats watch, the overview), shared by any number of
 * iterators: first in, last out. The owner opens berth's stream for a key's
 * first member; the registry asks berth to close it after the last one goes
 * (best effort: berth ends it anyway when the container goes or the
 * connection drops), listens to the socket while it has members, and keeps
 * its owner alive across reconnections meanwhile (ClientCore.track).
 *
 * @example
 *   const registry = new SharedRegistry<EventQueue<T>, SharedEntry<EventQueue<T>>>(core, this, hooks);
 *   const { entry, first } = registry.add(id, queue, () => ({ members: new Set() }));
 *   if (first) open(id);
 */
export class SharedRegistry<M, E extends SharedEntry<M>> {
  readonly #core: ClientCore;
  readonly #owner: LiveStream;
  readonly #hooks: SharedRegistryHooks;
  readonly #entries = new Map<string, E>();
  #untrack: (() => void) | undefined;

  constructor(core: ClientCore, owner: LiveStream, hooks: SharedRegistryHooks) {
    this.#core = core;
    this.#owner = owner;
    this.#hooks = hooks;
  }

  get(key: string): E | undefined {
    return this.#entries.get(key);
  }

  /** Every key and its entry, as they are now. */
  entries(): [string, E][] {
    return [...this.#entries];
  }

  /** Adds `member` under `key`, the entry made by `create` for a key's first member. */
  add(key: string, member: M, create: () => E): { entry: E; first: boolean } {
    let entry = this.#entries.get(key);
    const first = entry === undefined;
    if (!entry) {
      entry = create();
      this.#entries.set(key, entry);
    }
    entry.members.add(member);
    if (!this.#untrack) {
      this.#hooks.listen(true);
      this.#untrack = this.#core.track(this.#owner);
    }
    return { entry, first };
  }

  /** Removes `member`; after a key's last one, asks berth to close its stream. */
  remove(key: string, member: M): void {
    const entry = this.#entries.get(key);
    if (!entry?.members.delete(member) || entry.members.size > 0) return;
    this.#entries.delete(key);
    if (this.#core.socket.connected && this.#core.state !== "closed")
      this.#hooks.close(key).catch(() => {
        // Best effort: berth ends the stream anyway when the container goes or the connection drops.
      });
    this.#stopIfEmpty();
  }

  /** Forgets `key` without asking berth to close anything (its container is gone); returns what it held. */
  forget(key: string): E | undefined {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    this.#stopIfEmpty();
    return entry;
  }

  /** Forgets every key; returns every member it held. */
  clear(): M[] {
    const members = [...this.#entries.values()].flatMap((entry) => [...entry.members]);
    this.#entries.clear();
    this.#stopIfEmpty();
    return members;
  }

  #stopIfEmpty(): void {
    if (this.#entries.size > 0 || !this.#untrack) return;
    this.#hooks.listen(false);
    this.#untrack();
    this.#untrack = undefined;
  }
}
