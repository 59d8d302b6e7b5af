import {
  type ActivityEntry,
  type BerthClient,
  BerthError,
  type ContainerInfo,
  type StatsHistoryOverview,
  type StatsOverviewEvent,
} from "@berth/client";

type Listener = (payload: unknown) => void;

/**
 * A hand-written stand-in for BerthClient, with what the dashboard's stores
 * use: `on` (events the test pushes with `emit`), `containers.list`,
 * `stats.watchAll` (ticks the test pushes with `tick`), `stats.history`,
 * `call("container:status")`, whose answers the test gives when it likes,
 * and `activity` (`history` answers from `written`, as berth would, while
 * `connected`; `on` gets what the test pushes with `pushActivity`).
 */
export class FakeClient {
  /** What `containers.list()` gives. */
  listed: ContainerInfo[] = [];
  listCalls = 0;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #statusAsks: StatusAsk[] = [];
  readonly #ticks: StatsOverviewEvent[] = [];
  #wakeTicks: (() => void) | undefined;
  #ticksDone = false;

  /** The entries berth holds, oldest first: what `activity.history` reads. */
  written: ActivityEntry[] = [];
  /** Each `activity.history` asked for, in order. */
  readonly historyAsks: { afterId?: number; newest?: boolean; limit?: number }[] = [];
  /** While false, `activity.history` fails as the client does without a connection (DISCONNECTED). */
  connected = true;
  readonly #activityListeners = new Set<(entry: ActivityEntry) => void>();

  get asClient(): BerthClient {
    return this as unknown as BerthClient;
  }

  on(event: string, listener: Listener): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(event: string, payload: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(payload);
  }

  listenerCount(): number {
    return [...this.#listeners.values()].reduce((n, set) => n + set.size, this.#activityListeners.size);
  }

  readonly containers = {
    list: () => {
      this.listCalls++;
      const items = [...this.listed];
      return (async function* () {
        yield* items;
      })();
    },
  };

  /** What `stats.history()` answers: berth's kept samples per running container. */
  history: StatsHistoryOverview = { intervalMs: 5_000, containers: [] };

  readonly activity = {
    on: (listener: (entry: ActivityEntry) => void) => {
      this.#activityListeners.add(listener);
      return () => this.#activityListeners.delete(listener);
    },
    history: async (ask: { afterId?: number; newest?: boolean; limit?: number } = {}) => {
      this.historyAsks.push(ask);
      if (!this.connected)
        throw new BerthError({
          code: "DISCONNECTED",
          message: "not connected",
          category: "communication",
          retryable: true,
        });
      const limit = ask.limit ?? 100;
      if (ask.newest) {
        const items = this.written.slice(-limit);
        return { items, hasMore: this.written.length > items.length };
      }
      const after = this.written.filter((e) => e.id > (ask.afterId ?? 0));
      return { items: after.slice(0, limit), hasMore: after.length > limit };
    },
  };

  /** Pushes `entry` to the activity listeners, as the client's feed gives one (it is not written: see `write`). */
  pushActivity(entry: ActivityEntry): void {
    for (const listener of this.#activityListeners) listener(entry);
  }

  /** berth writes `entry`: history reads it from now on, and it is pushed unless `push` is false (a push lost). */
  write(entry: ActivityEntry, push = true): void {
    this.written.push(entry);
    if (push) this.pushActivity(entry);
  }

  readonly stats = {
    history: async (): Promise<StatsHistoryOverview> => this.history,
    watchAll: () => {
      const fake = this;
      const iterator = {
        async next(): Promise<IteratorResult<StatsOverviewEvent>> {
          while (fake.#ticks.length === 0 && !fake.#ticksDone)
            await new Promise<void>((r) => (fake.#wakeTicks = r));
          const value = fake.#ticks.shift();
          return value ? { done: false, value } : { done: true, value: undefined };
        },
        async return(): Promise<IteratorResult<StatsOverviewEvent>> {
          fake.#ticksDone = true;
          fake.#wakeTicks?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };

  tick(event: StatsOverviewEvent): void {
    this.#ticks.push(event);
    this.#wakeTicks?.();
  }

  get statsWatched(): boolean {
    return !this.#ticksDone;
  }

  call(event: string, payload: { id: string; spec?: boolean }): Promise<ContainerInfo> {
    if (event !== "container:status") throw new Error(`the fake does not answer ${event}`);
    return new Promise((resolve, reject) => {
      this.#statusAsks.push({
        id: payload.id,
        payload,
        answer: (info) =>
          info === "not-found"
            ? reject(
                new BerthError({
                  code: "NOT_FOUND",
                  message: "no such container",
                  category: "validation",
                  retryable: false,
                }),
              )
            : resolve(info),
      });
    });
  }

  /** The `container:status` asks not answered yet, oldest first. */
  get statusAsks(): StatusAsk[] {
    return this.#statusAsks;
  }
}

/** One `container:status` asked of the fake: what was sent, and how the test answers it. */
export interface StatusAsk {
  id: string;
  payload: { id: string; spec?: boolean };
  answer(info: ContainerInfo | "not-found"): void;
}

export function info(name: string, change: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `id-${name}`,
    name,
    owner: "alice",
    image: "berth/runtime-node:24",
    labels: {},
    state: "running",
    health: "none",
    createdAt: 1_000,
    startedAt: 2_000,
    restartCount: 0,
    restartPolicy: "no",
    network: "none",
    ...change,
  };
}

export function entry(id: number, change: Partial<ActivityEntry> = {}): ActivityEntry {
  return {
    id,
    ts: 1_000 + id,
    level: "info",
    action: "container.started",
    containerId: "id-web",
    containerName: "web",
    message: `entry ${id}`,
    ...change,
  };
}
