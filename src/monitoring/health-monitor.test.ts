import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { HealthState } from "#protocol";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import { type HealthChange, type HealthChannel, HealthMonitor } from "./health-monitor.ts";

const GRACE_MS = 30_000;
const INTERVAL_MS = 10_000;

/** The channel hub as the monitor sees it: connections a test makes and breaks, and health requests it answers. */
class FakeHealthChannel extends EventEmitter implements HealthChannel {
  readonly #connected = new Set<string>();
  /** Every request sent, with its options. */
  readonly requests: Array<{ id: string; data: unknown; timeoutMs: number | undefined }> = [];
  /** How the next requests are answered, oldest first; none left: they wait in `waiting`. */
  readonly answers: Array<{ ok: unknown } | { fail: Error }> = [];
  readonly waiting: Array<(answer: { ok: unknown } | { fail: Error }) => void> = [];

  status(id: string): { connected: boolean } {
    return { connected: this.#connected.has(id) };
  }

  request(id: string, data: unknown, opts?: { timeoutMs?: number }): Promise<unknown> {
    this.requests.push({ id, data, timeoutMs: opts?.timeoutMs });
    // As the hub does: nothing is sent to a workload that is not connected.
    if (!this.#connected.has(id)) return Promise.reject(new Error("The workload is not connected."));
    return new Promise((resolve, reject) => {
      const settle = (answer: { ok: unknown } | { fail: Error }) =>
        "ok" in answer ? resolve(answer.ok) : reject(answer.fail);
      const answer = this.answers.shift();
      if (answer) settle(answer);
      else this.waiting.push(settle);
    });
  }

  connect(id: string): void {
    this.#connected.add(id);
    this.emit("connected", id);
  }

  disconnect(id: string, reason: string): void {
    this.#connected.delete(id);
    this.emit("disconnected", id, reason);
  }
}

/**
 * The container store, as far as the monitor uses it: the health kept per container, every
 * write in order, writes held back while `held` (a slow database), and a failure when asked.
 */
class FakeHealthStore {
  readonly health = new Map<string, HealthState>();
  readonly writes: string[] = [];
  held = false;
  failNext = false;
  readonly #heldBack: Array<() => void> = [];

  async get(id: string): Promise<Pick<ContainerRecord, "id" | "owner" | "health"> | undefined> {
    const health = this.health.get(id);
    return health === undefined ? undefined : { id, owner: "alice", health };
  }

  async update(id: string, changes: { health?: HealthState }): Promise<void> {
    if (this.held) await new Promise<void>((resolve) => this.#heldBack.push(resolve));
    if (this.failNext) {
      this.failNext = false;
      throw new Error("disk full");
    }
    if (changes.health === undefined) return;
    this.health.set(id, changes.health);
    this.writes.push(`${id}=${changes.health}`);
  }

  release(): void {
    this.held = false;
    for (const resolve of this.#heldBack.splice(0)) resolve();
  }
}

function record(id: string, healthCheck?: ContainerRecord["spec"]["healthCheck"]): ContainerRecord {
  return {
    id,
    owner: "alice",
    name: id.toLowerCase(),
    image: "berth/runtime-node:24",
    spec: { name: id.toLowerCase(), ...(healthCheck ? { healthCheck } : {}) },
    dockerId: `d-${id}`,
    dockerName: `berth-${id}`,
    state: "running",
    health: "none",
    uid: 100_000,
    createdAt: 0,
    startedAt: 0,
    exitCode: null,
    release: null,
    restartCount: 0,
  };
}

/** Lets every write and answer under way land (the store and channel answer in microtasks; timers are fake). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

let channel: FakeHealthChannel;
let store: FakeHealthStore;
let monitor: HealthMonitor;
let changes: HealthChange[];

/** The changes emitted, as "id=health: reason". */
const said = () => changes.map((c) => `${c.id}=${c.health}: ${c.reason}`);

function track(id: string, healthCheck?: ContainerRecord["spec"]["healthCheck"]): void {
  store.health.set(id, store.health.get(id) ?? "none");
  monitor.track(record(id, healthCheck));
}

beforeEach(() => {
  // setImmediate stays real: `flush` waits on it for the store's answers.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  channel = new FakeHealthChannel();
  store = new FakeHealthStore();
  const secrets = new SecretRegistry();
  monitor = new HealthMonitor({
    repo: store as unknown as ContainerStore,
    channel,
    log: createSystemLogger({ level: "silent", redactor: secrets.system, destination: new PassThrough() }),
    connectGraceMs: GRACE_MS,
  });
  changes = [];
  monitor.on("change", (c) => changes.push(c));
});

afterEach(async () => {
  store.release();
  await monitor.close();
  vi.useRealTimers();
});

describe("HealthMonitor: the workload's connection", () => {
  it("is starting while the workload has not connected yet, and healthy once it has", async () => {
    track("C1");
    await flush();
    expect(said()).toEqual(["C1=starting: waiting for the workload to connect"]);
    channel.connect("C1");
    await flush();
    expect(said().at(-1)).toBe("C1=healthy: all checks pass");
    // Whose it is, for the reason to be redacted for them (it may quote the workload).
    expect(changes.at(-1)).toMatchObject({ owner: "alice", previous: "starting" });
    expect(store.health.get("C1")).toBe("healthy");
  });

  it("is healthy at once when the workload is already connected as it is tracked", async () => {
    channel.connect("C1");
    track("C1");
    await flush();
    expect(said()).toEqual(["C1=healthy: all checks pass"]);
  });

  it("turns unhealthy when the workload has not connected within the grace period", async () => {
    track("C1");
    await vi.advanceTimersByTimeAsync(GRACE_MS - 1);
    await flush();
    expect(store.health.get("C1")).toBe("starting");
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(said().at(-1)).toBe("C1=unhealthy: waiting for the workload to connect");
  });

  it("turns unhealthy at once when the workload disconnects, naming why, and healthy when it is back", async () => {
    channel.connect("C1");
    track("C1");
    channel.disconnect("C1", "heartbeat timeout");
    await flush();
    expect(said().at(-1)).toBe("C1=unhealthy: workload disconnected (heartbeat timeout)");
    channel.connect("C1");
    await flush();
    expect(said()).toEqual([
      "C1=healthy: all checks pass",
      "C1=unhealthy: workload disconnected (heartbeat timeout)",
      "C1=healthy: all checks pass",
    ]);
  });

  it("ignores connections of containers it does not track", async () => {
    channel.connect("C9");
    channel.disconnect("C9", "closed");
    await flush();
    expect(changes).toEqual([]);
    expect(store.writes).toEqual([]);
  });
});

describe("HealthMonitor: the image's HEALTHCHECK", () => {
  it("follows what the engine reports: unhealthy wins over a connected workload, starting waits", async () => {
    channel.connect("C1");
    track("C1");
    monitor.dockerHealth("C1", "starting");
    await flush();
    expect(store.health.get("C1")).toBe("starting");
    monitor.dockerHealth("C1", "unhealthy");
    await flush();
    expect(said().at(-1)).toBe("C1=unhealthy: the image's HEALTHCHECK fails");
    monitor.dockerHealth("C1", "healthy");
    await flush();
    expect(said().at(-1)).toBe("C1=healthy: all checks pass");
  });

  it("ignores a report about a container it does not track", async () => {
    monitor.dockerHealth("C9", "unhealthy");
    await flush();
    expect(store.writes).toEqual([]);
  });
});

describe("HealthMonitor: the spec's health check", () => {
  const check = { request: { op: "ping" }, expect: { ok: true }, timeoutMs: 200, retries: 2 };

  it("sends the request every interval with its timeout, and is starting until one passes", async () => {
    channel.connect("C1");
    track("C1", check);
    await flush();
    expect(said()).toEqual(["C1=starting: waiting for the first health check"]);
    expect(channel.requests).toEqual([]);
    channel.answers.push({ ok: { ok: true, extra: 1 } });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await flush();
    expect(channel.requests).toEqual([{ id: "C1", data: { op: "ping" }, timeoutMs: 200 }]);
    expect(said().at(-1)).toBe("C1=healthy: all checks pass");
  });

  it("turns unhealthy after `retries` misses in a row, naming the last failure, and healthy after a pass", async () => {
    channel.connect("C1");
    track("C1", check);
    channel.answers.push({ ok: { ok: true } }, { fail: new Error("request timed out") });
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    await flush();
    // One miss is not yet unhealthy.
    expect(store.health.get("C1")).toBe("healthy");
    channel.answers.push({ ok: { ok: false } });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await flush();
    expect(said().at(-1)).toBe(
      "C1=unhealthy: the health check failed 2 times in a row: the answer did not match `expect`",
    );
    channel.answers.push({ ok: { ok: true } });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await flush();
    expect(said().at(-1)).toBe("C1=healthy: all checks pass");
  });

  it("counts misses afresh after a pass", async () => {
    channel.connect("C1");
    track("C1", check);
    channel.answers.push({ fail: new Error("no") }, { ok: { ok: true } }, { fail: new Error("no") });
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    await flush();
    expect(store.health.get("C1")).toBe("healthy");
  });

  it("uses three retries and a 10 s interval when the spec names none, and takes any answer without `expect`", async () => {
    channel.connect("C1");
    track("C1", { request: "ping" });
    channel.answers.push({ ok: "whatever" });
    for (let i = 0; i < 3; i++) channel.answers.push({ fail: new Error("timed out") });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await flush();
    expect(store.health.get("C1")).toBe("healthy");
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    await flush();
    expect(store.health.get("C1")).toBe("healthy");
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await flush();
    expect(said().at(-1)).toBe("C1=unhealthy: the health check failed 3 times in a row: timed out");
    expect(channel.requests[0]?.timeoutMs).toBe(5_000);
  });

  it("sends no check before the workload connects: a workload still booting is starting, not failing its checks", async () => {
    track("C1", { request: "ping", intervalMs: 1_000, retries: 2 });
    await vi.advanceTimersByTimeAsync(5_000);
    await flush();
    expect(channel.requests).toEqual([]);
    expect(said()).toEqual(["C1=starting: waiting for the workload to connect"]);
    channel.connect("C1");
    channel.answers.push({ ok: "pong" });
    await vi.advanceTimersByTimeAsync(1_000);
    await flush();
    expect(said()).toEqual([
      "C1=starting: waiting for the workload to connect",
      "C1=healthy: all checks pass",
    ]);
  });

  it("does not count checks while the workload is disconnected, which the connection alone judges", async () => {
    channel.connect("C1");
    track("C1", { request: "ping", intervalMs: 1_000, retries: 2 });
    channel.answers.push({ ok: "pong" });
    await vi.advanceTimersByTimeAsync(1_000);
    channel.disconnect("C1", "heartbeat timeout");
    await vi.advanceTimersByTimeAsync(5_000);
    await flush();
    expect(channel.requests).toHaveLength(1);
    expect(said().at(-1)).toBe("C1=unhealthy: workload disconnected (heartbeat timeout)");
  });

  it("does not send a check while the one before is still unanswered", async () => {
    channel.connect("C1");
    track("C1", check);
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(channel.requests).toHaveLength(1);
    channel.waiting.shift()?.({ ok: { ok: true } });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(channel.requests).toHaveLength(2);
  });

  it("does not judge a container by a check answered after it stopped being tracked", async () => {
    channel.connect("C1");
    track("C1", check);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    monitor.untrack("C1");
    channel.waiting.shift()?.({ ok: { ok: true } });
    await flush();
    expect(store.health.get("C1")).toBe("none");
    expect(said().at(-1)).toBe("C1=none: not running");
  });
});

describe("HealthMonitor: writing health", () => {
  it("writes a container's health in the order judged, each change naming the one before", async () => {
    store.held = true;
    channel.connect("C1");
    track("C1");
    channel.disconnect("C1", "closed");
    channel.connect("C1");
    channel.disconnect("C1", "closed again");
    await flush();
    expect(store.writes).toEqual([]);
    store.release();
    await flush();
    expect(store.writes).toEqual(["C1=healthy", "C1=unhealthy", "C1=healthy", "C1=unhealthy"]);
    expect(changes.map((c) => `${c.previous}→${c.health}`)).toEqual([
      "none→healthy",
      "healthy→unhealthy",
      "unhealthy→healthy",
      "healthy→unhealthy",
    ]);
  });

  it("writes nothing, and says nothing, when the store already has that health", async () => {
    store.health.set("C1", "healthy");
    channel.connect("C1");
    track("C1");
    monitor.dockerHealth("C1", "healthy");
    await flush();
    expect(store.writes).toEqual([]);
    expect(changes).toEqual([]);
  });

  it("writes nothing for a container the store no longer has", async () => {
    track("C1");
    store.health.delete("C1");
    channel.connect("C1");
    monitor.untrack("C1");
    await flush();
    expect(store.writes).toEqual([]);
  });

  it("goes on writing after a write the store refused", async () => {
    store.failNext = true;
    track("C1");
    channel.connect("C1");
    await flush();
    expect(store.writes).toEqual(["C1=healthy"]);
    expect(said()).toEqual(["C1=healthy: all checks pass"]);
  });
});

describe("HealthMonitor: untrack and close", () => {
  it("sets a container it stops watching to none, stops its checks and its grace timer", async () => {
    channel.connect("C1");
    track("C1", { request: "ping" });
    monitor.untrack("C1");
    await vi.advanceTimersByTimeAsync(GRACE_MS + 5 * INTERVAL_MS);
    await flush();
    expect(channel.requests).toEqual([]);
    expect(said()).toEqual(["C1=starting: waiting for the first health check", "C1=none: not running"]);
  });

  it("starts afresh when a container is tracked again (it restarted)", async () => {
    channel.connect("C1");
    track("C1", { request: "ping", retries: 1 });
    channel.answers.push({ fail: new Error("down") });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    await flush();
    expect(store.health.get("C1")).toBe("unhealthy");
    track("C1", { request: "ping", retries: 1 });
    await flush();
    expect(said().at(-1)).toBe("C1=starting: waiting for the first health check");
    // One interval of the new run, not two timers from both.
    channel.answers.push({ ok: "pong" });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(channel.requests).toHaveLength(2);
  });

  it("on close stops listening and checking, and waits for the health being written", async () => {
    channel.connect("C1");
    track("C1", { request: "ping" });
    track("C2");
    store.held = true;
    channel.disconnect("C2", "closed");
    let closed = false;
    const closing = monitor.close().then(() => {
      closed = true;
    });
    await flush();
    expect(closed).toBe(false);
    store.release();
    await closing;
    expect(store.health.get("C2")).toBe("unhealthy");

    const writes = store.writes.length;
    channel.connect("C2");
    monitor.track(record("C3"));
    await vi.advanceTimersByTimeAsync(GRACE_MS + INTERVAL_MS);
    await flush();
    expect(channel.requests).toEqual([]);
    expect(store.writes).toHaveLength(writes);
    expect(channel.listenerCount("connected") + channel.listenerCount("disconnected")).toBe(0);
    await monitor.close();
  });

  it("still writes `none` for a container stopped after close: berth drains its operations after closing it", async () => {
    channel.connect("C1");
    track("C1");
    await monitor.close();
    monitor.untrack("C1");
    await monitor.close();
    expect(store.health.get("C1")).toBe("none");
  });
});
