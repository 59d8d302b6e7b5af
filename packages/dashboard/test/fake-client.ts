import {
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
 * `stats.watchAll` (ticks the test pushes with `tick`), `stats.history` and
 * `call("container:status")`, whose answers the test gives when it likes.
 */
export class FakeClient {
  /** What `containers.list()` gives. */
  listed: ContainerInfo[] = [];
  listCalls = 0;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #statusAsks: { id: string; answer(info: ContainerInfo | "not-found"): void }[] = [];
  readonly #ticks: StatsOverviewEvent[] = [];
  #wakeTicks: (() => void) | undefined;
  #ticksDone = false;

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
    return [...this.#listeners.values()].reduce((n, set) => n + set.size, 0);
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

  call(event: string, payload: { id: string }): Promise<ContainerInfo> {
    if (event !== "container:status") throw new Error(`the fake does not answer ${event}`);
    return new Promise((resolve, reject) => {
      this.#statusAsks.push({
        id: payload.id,
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
  get statusAsks(): { id: string; answer(info: ContainerInfo | "not-found"): void }[] {
    return this.#statusAsks;
  }
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
