import {
  type BerthClient,
  type ContainerInfo,
  isBerthError,
  type ResourceUsage,
  type StatusChangedEvent,
} from "@berth/client";
import { appendSample, mergeHistory } from "./usage-history.ts";

/** One row of the overview: the container as berth last told it, and its latest resource sample. */
export interface ContainerRow {
  info: ContainerInfo;
  /** The latest sample from `containers:watch_stats`; absent until one came (and for a container not running). */
  usage?: ResourceUsage;
  /** The last minutes of samples, oldest first (usage-history.ts): berth's kept history, then each tick. Absent as `usage` is. */
  history?: readonly ResourceUsage[];
}

export interface StoreOptions {
  /**
   * Keep each running row's recent samples in `history` (the overview's
   * sparklines): berth's kept history is read once the list is in, then each
   * tick adds to it. Off by default: a page without sparklines need not read it.
   */
  history?: boolean;
}

export type StoreStatus = "loading" | "ready" | "reconnecting" | "failed";

export interface StoreSnapshot {
  status: StoreStatus;
  rows: ContainerRow[];
  /** Why loading failed, in plain words (status `failed`). */
  error?: string;
}

/** How often the overview asks for resource samples: often enough to look live, rarely enough for 200 rows. */
const STATS_INTERVAL_MS = 2_000;

/**
 * The caller's containers, kept live by push: the list once (again after a
 * reconnect), then `container:status_changed` and `container:health_changed`
 * patch rows as they come, and `containers:watch_stats` brings each running
 * container's usage. A status event also fetches the container's full info
 * (its start time, a new container, one gone) — newest event wins, so a slow
 * answer never overwrites a later state. That fetch is a plain
 * `container:status`, never with the spec: a row holds no spec (only the
 * container page's Spec section asks for one), so a crash-looping container
 * costs each open page a small answer per change, not its whole spec. berth scopes every push to the
 * caller (an owner's room, or the admin's), so the store filters nothing.
 *
 * @example
 *   const store = new ContainerStore(client);
 *   const off = store.subscribe((snap) => render(snap.rows));
 *   store.start();
 *   // later: off(); store.close();
 */
export class ContainerStore {
  readonly #client: BerthClient;
  readonly #rows = new Map<string, ContainerRow>();
  /** Per container, the number of the latest status event: an info fetched before it is stale. */
  readonly #seq = new Map<string, number>();
  readonly #listeners = new Set<(snapshot: StoreSnapshot) => void>();
  readonly #offs: (() => void)[] = [];
  #status: StoreStatus = "loading";
  #error: string | undefined;
  #events = 0;
  #stats: AsyncIterableIterator<unknown> & { return(): Promise<unknown> } = emptyIterator();
  #closed = false;
  #snapshot: StoreSnapshot = { status: "loading", rows: [] };

  readonly #history: boolean;

  constructor(client: BerthClient, options: StoreOptions = {}) {
    this.#client = client;
    this.#history = options.history ?? false;
  }

  get snapshot(): StoreSnapshot {
    return this.#snapshot;
  }

  subscribe(listener: (snapshot: StoreSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    const client = this.#client;
    this.#offs.push(
      client.on("container:status_changed", (e) => this.#onStatus(e)),
      client.on("container:health_changed", (e) =>
        this.#patch(e.id, { health: e.health as ContainerInfo["health"] }),
      ),
      client.on("activity_log", (entry) => {
        if (entry.action === "container.deleted" && entry.containerId) this.#remove(entry.containerId);
      }),
      client.on("connection", (state) => {
        if (state === "reconnecting") this.#setStatus("reconnecting");
        // Pushes sent while the connection was down are lost: the list again, as on a fresh page.
        if (state === "connected") void this.#load();
      }),
    );
    void this.#load();
    void this.#watchStats();
  }

  /** Stops listening and watching; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    void this.#stats.return();
    this.#listeners.clear();
  }

  async #load(): Promise<void> {
    // A status event that comes while the list is read is newer than what the list says of that container.
    const before = this.#events;
    const newer = (id: string) => (this.#seq.get(id) ?? 0) > before;
    try {
      const fresh = new Map<string, ContainerInfo>();
      for await (const info of this.#client.containers.list({ pageSize: 500 })) fresh.set(info.id, info);
      if (this.#closed) return;
      for (const id of this.#rows.keys()) if (!fresh.has(id) && !newer(id)) this.#rows.delete(id);
      for (const [id, info] of fresh) if (!newer(id)) this.#rows.set(id, { ...this.#rows.get(id), info });
      this.#status = "ready";
      this.#error = undefined;
      // After the rows: the history of each goes into its row (again after a reconnect, which left a gap).
      if (this.#history) void this.#seedHistory();
    } catch (err) {
      if (this.#closed) return;
      this.#status = "failed";
      this.#error = isBerthError(err) ? err.message : "the list of containers could not be read";
    }
    this.#emit();
  }

  async #watchStats(): Promise<void> {
    const ticks = this.#client.stats.watchAll({ intervalMs: STATS_INTERVAL_MS });
    this.#stats = ticks;
    try {
      for await (const tick of ticks) {
        for (const { id, ...usage } of tick.samples) {
          const row = this.#rows.get(id);
          if (!row) continue;
          this.#rows.set(
            id,
            this.#history ? { ...row, usage, history: appendSample(row.history, usage) } : { ...row, usage },
          );
        }
        this.#emit();
      }
    } catch {
      // The client closed (sign-out): the overview goes with it.
    }
  }

  /** The samples berth kept of the last minutes, so that a sparkline has a past the moment the page opens. */
  async #seedHistory(): Promise<void> {
    try {
      const { containers, intervalMs } = await this.#client.stats.history();
      if (this.#closed) return;
      for (const { id, samples } of containers) {
        const row = this.#rows.get(id);
        if (row?.info.state === "running")
          this.#rows.set(id, { ...row, history: mergeHistory(samples, row.history, intervalMs) });
      }
      this.#emit();
    } catch {
      // No past then: the sparklines fill as the ticks come.
    }
  }

  #onStatus(event: StatusChangedEvent): void {
    const seq = ++this.#events;
    this.#seq.set(event.id, seq);
    this.#patch(event.id, {
      state: event.to as ContainerInfo["state"],
      health: event.health as ContainerInfo["health"],
      // In the event since restart counts came to the contract; a fake or an older berth's event may lack them.
      ...(event.startedAt === undefined ? {} : { startedAt: event.startedAt }),
      ...(event.restartCount === undefined ? {} : { restartCount: event.restartCount }),
    });
    void this.#refresh(event.id, seq);
  }

  /** The container's whole info after a status event: its start time, or the row of a container new to this page. */
  async #refresh(id: string, seq: number): Promise<void> {
    try {
      const answer = await this.#client.call("container:status", { id });
      if (this.#closed || this.#seq.get(id) !== seq) return;
      // Not asked for, so not sent; were one sent anyway (an older berth sent it always), it is not kept.
      const { spec: _spec, ...info } = answer as ContainerInfo & { spec?: unknown };
      this.#rows.set(id, { ...this.#rows.get(id), info });
      this.#emit();
    } catch (err) {
      if (isBerthError(err, "NOT_FOUND") && this.#seq.get(id) === seq) this.#remove(id);
    }
  }

  #patch(id: string, change: Partial<ContainerInfo>): void {
    const row = this.#rows.get(id);
    if (!row) return; // a container new to this page: #refresh brings its row
    const info = { ...row.info, ...change };
    // A sample of a container that stopped would show usage it no longer has.
    this.#rows.set(id, info.state === "running" ? { ...row, info } : { info });
    this.#emit();
  }

  #remove(id: string): void {
    if (this.#rows.delete(id)) this.#emit();
    this.#seq.delete(id);
  }

  #setStatus(status: StoreStatus): void {
    this.#status = status;
    this.#emit();
  }

  #emit(): void {
    this.#snapshot = {
      status: this.#status,
      rows: [...this.#rows.values()],
      ...(this.#error === undefined ? {} : { error: this.#error }),
    };
    for (const listener of this.#listeners) listener(this.#snapshot);
  }
}

function emptyIterator(): AsyncIterableIterator<unknown> & { return(): Promise<unknown> } {
  return {
    next: async () => ({ done: true, value: undefined }),
    return: async () => ({ done: true, value: undefined }),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
