import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ContainerInfo } from "#protocol";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { EngineReturnRestarter } from "../containers/engine-return-restarter.ts";
import type { InterruptedOperations } from "../containers/interrupted-operation.ts";
import type { RestartSupervisor } from "../containers/restart-supervisor.ts";
import type { EngineMonitor } from "../docker/engine-monitor.ts";
import { ValidationError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { HealthMonitor } from "../monitoring/health-monitor.ts";
import type { PressureMonitor } from "../monitoring/pressure-monitor.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { Store } from "../store/store-ports.ts";
import { UserActivityLogger } from "./user-activity-logger.ts";

const MiB = 1024 * 1024;

/** The manager's events, and the records it finds by id, answered when the test says (`held`). */
class FakeManager extends EventEmitter {
  readonly records = new Map<string, { id: string; owner: string; name: string }>();
  held = false;
  readonly #heldBack: Array<() => void> = [];

  async findById(id: string) {
    if (this.held) await new Promise<void>((resolve) => this.#heldBack.push(resolve));
    return this.records.get(id);
  }

  release(): void {
    this.held = false;
    for (const resolve of this.#heldBack.splice(0)) resolve();
  }
}

function info(extra: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: "C1",
    owner: "alice",
    name: "web",
    state: "exited",
    restartPolicy: "no",
    exitCode: 1,
    ...extra,
  } as ContainerInfo;
}

let dir: string;
let store: Store;
let secrets: SecretRegistry;
let feed: UserActivityLogger;
let manager: FakeManager;
let sources: {
  restarts: EventEmitter;
  engine: EventEmitter;
  health: EventEmitter;
  pressure: EventEmitter;
  interrupted: EventEmitter;
  bringBack: EventEmitter;
};
/** Memory limits by container, read when an out-of-memory entry is made, once `holdLimits` has settled. */
let limits: Map<string, number>;
/** Whom each entry was pushed to, by id. */
let owners: Map<number, string>;
let holdLimits: Promise<void> | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-activity-"));
  store = openSqliteStore(join(dir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
  secrets = new SecretRegistry();
  const log = createSystemLogger({
    level: "silent",
    redactor: secrets.system,
    destination: new PassThrough(),
  });
  feed = new UserActivityLogger(store.activity, secrets, log, {
    maxEntriesPerOwner: 1_000,
    maxAgeMs: 3_600_000,
  });
  manager = new FakeManager();
  manager.records.set("C1", { id: "C1", owner: "alice", name: "web" });
  manager.records.set("C2", { id: "C2", owner: "bob", name: "api" });
  sources = {
    restarts: new EventEmitter(),
    engine: new EventEmitter(),
    health: new EventEmitter(),
    pressure: new EventEmitter(),
    interrupted: new EventEmitter(),
    bringBack: new EventEmitter(),
  };
  limits = new Map([["C1", 64 * MiB]]);
  holdLimits = undefined;
  owners = new Map();
  feed.on("entry", (owner, entry) => owners.set(entry.id, owner));
  feed.follow({
    manager: manager as unknown as ContainerManager,
    restarts: sources.restarts as unknown as RestartSupervisor,
    engine: sources.engine as unknown as EngineMonitor,
    health: sources.health as unknown as HealthMonitor,
    pressure: sources.pressure as unknown as PressureMonitor,
    interrupted: sources.interrupted as unknown as InterruptedOperations,
    bringBack: sources.bringBack as unknown as EngineReturnRestarter,
    memoryLimitOf: async (id) => {
      await holdLimits;
      return limits.get(id);
    },
  });
});

afterEach(async () => {
  manager.release();
  await feed.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Every entry stored so far, oldest first, as "owner action: message" (the owner as the entry was
 * pushed: the store gives it back without). prune() runs after every entry recorded before it.
 */
async function stored(): Promise<string[]> {
  await feed.prune();
  const entries = await feed.history({ owner: undefined, limit: 100 });
  return entries.map((e) => `${owners.get(e.id)} ${e.action}: ${e.message}`);
}

describe("UserActivityLogger.follow: the manager", () => {
  it("tells an operation's outcome, and not a request refused as invalid", async () => {
    manager.emit("operation", { op: "start", ok: true, ms: 1_234, owner: "alice", name: "web", id: "C1" });
    manager.emit("operation", {
      op: "start",
      ok: false,
      ms: 1,
      owner: "alice",
      name: "web",
      id: "C1",
      error: new ValidationError("bad input"),
    });
    expect(await stored()).toEqual(["alice container.started: Started 'web' in 1.2 s"]);
  });

  it("tells an exit berth did not cause, and names the memory limit of one out of memory", async () => {
    manager.emit("statusChanged", { info: info({ exitCode: 3 }), from: "running", reason: "exited" });
    manager.emit("statusChanged", {
      info: info({ exitCode: 137 }),
      from: "running",
      reason: "exited",
      oomKilled: true,
    });
    // A container with a restart policy: its exit is the RestartSupervisor's to tell.
    manager.emit("statusChanged", {
      info: info({ restartPolicy: "always" }),
      from: "running",
      reason: "exited",
    });
    expect(await stored()).toEqual([
      "alice container.exited: 'web' stopped unexpectedly (exit code 3)",
      "alice container.oom_killed: 'web' ran out of memory (its limit is 64 MiB) and was stopped",
    ]);
  });

  it("keeps an entry that first reads the store in the place its event came, however late the read answers", async () => {
    let answer!: () => void;
    holdLimits = new Promise((resolve) => {
      answer = resolve;
    });
    manager.emit("statusChanged", { info: info(), from: "running", reason: "exited", oomKilled: true });
    manager.emit("operation", { op: "start", ok: true, ms: 500, owner: "alice", name: "web", id: "C1" });
    const storing = stored();
    answer();
    expect(await storing).toEqual([
      "alice container.oom_killed: 'web' ran out of memory (its limit is 64 MiB) and was stopped",
      "alice container.started: Started 'web' in 0.5 s",
    ]);
  });
});

describe("UserActivityLogger.follow: restarts", () => {
  it("tells a crash and the restart it brings, an out-of-memory restart with the limit, and giving up", async () => {
    sources.restarts.emit("exit", {
      info: info(),
      exitCode: 2,
      oomKilled: false,
      decision: { kind: "restart", attempt: 1, max: 3, delayMs: 1_000 },
    });
    sources.restarts.emit("exit", {
      info: info(),
      exitCode: 137,
      oomKilled: true,
      decision: { kind: "restart", attempt: 2, max: 3, delayMs: 2_000 },
    });
    sources.restarts.emit("exit", {
      info: info(),
      exitCode: 2,
      oomKilled: false,
      decision: { kind: "give_up", attempts: 3 },
    });
    sources.restarts.emit("exit", {
      info: info(),
      exitCode: 0,
      oomKilled: false,
      decision: { kind: "none" },
    });
    sources.restarts.emit("restartFailed", { info: info(), error: new Error("engine said no") });
    expect(await stored()).toEqual([
      "alice container.crash_restarted: 'web' stopped unexpectedly (exit code 2) and is being restarted (attempt 1 of 3)",
      "alice container.oom_restarted: 'web' ran out of memory (its limit is 64 MiB) and is being restarted (attempt 2 of 3)",
      "alice container.restart_gave_up: 'web' stopped unexpectedly (exit code 2). berth stopped restarting it after 3 attempts; check its output, fix its code, then start it again.",
      "alice container.exited: 'web' finished (exit code 0)",
      "alice container.restart_failed: berth could not restart 'web'. Start it again or check its code.",
    ]);
    const [restart] = await feed.history({ owner: "alice", limit: 1 });
    expect(restart?.details).toEqual({
      exitCode: 2,
      oomKilled: false,
      attempt: 1,
      maxAttempts: 3,
      delayMs: 1_000,
    });
  });

  it("tells what became of workloads the engine's outage stopped, and of operations a crash cut", async () => {
    sources.bringBack.emit("broughtBack", { info: info({ state: "running" }) });
    sources.bringBack.emit("bringBackFailed", { info: info({ id: "C2", owner: "bob", name: "api" }) });
    sources.interrupted.emit("interrupted", {
      owner: "alice",
      id: "C1",
      name: "web",
      op: "delete",
      outcome: "finished",
    });
    expect((await stored()).map((line) => line.slice(0, line.indexOf(":")))).toEqual([
      "alice container.engine_restarted",
      "bob container.engine_restart_failed",
      "alice container.delete_interrupted",
    ]);
  });
});

describe("UserActivityLogger.follow: the engine", () => {
  it("tells everyone when the engine goes away and when it is back, once each", async () => {
    sources.engine.emit("up", { state: "up" }); // the first check: it was never down
    sources.engine.emit("down", { state: "down" });
    sources.engine.emit("up", { state: "up" });
    sources.engine.emit("up", { state: "up" });
    expect((await stored()).map((line) => line.slice(0, line.indexOf(":")))).toEqual([
      "* engine.unavailable",
      "* engine.available",
    ]);
  });
});

describe("UserActivityLogger.follow: health", () => {
  it("tells a container turning unhealthy, with why, and healthy again, but not its first healthy", async () => {
    sources.health.emit("change", {
      id: "C1",
      owner: "alice",
      health: "healthy",
      previous: "starting",
      reason: "all checks pass",
    });
    sources.health.emit("change", {
      id: "C1",
      owner: "alice",
      health: "unhealthy",
      previous: "healthy",
      reason: "workload disconnected (heartbeat timeout)",
    });
    sources.health.emit("change", {
      id: "C1",
      owner: "alice",
      health: "healthy",
      previous: "unhealthy",
      reason: "all checks pass",
    });
    sources.health.emit("change", {
      id: "C1",
      owner: "alice",
      health: "none",
      previous: "healthy",
      reason: "not running",
    });
    expect(await stored()).toEqual([
      "alice container.unhealthy: 'web' is unhealthy: workload disconnected (heartbeat timeout)",
      "alice container.healthy: 'web' is healthy again",
    ]);
  });

  it("tells nothing about a container that is gone", async () => {
    sources.health.emit("change", {
      id: "C404",
      owner: "alice",
      health: "unhealthy",
      previous: "healthy",
      reason: "x",
    });
    expect(await stored()).toEqual([]);
  });

  it("redacts the reason with the owner's secrets in force when health changed, not when the entry is made", async () => {
    secrets.addEnvironment("alice", {}, { API_KEY: "canary-7171-secret" });
    manager.held = true;
    sources.health.emit("change", {
      id: "C1",
      owner: "alice",
      health: "unhealthy",
      previous: "healthy",
      reason: "the health check failed 3 times in a row: cannot log in with canary-7171-secret",
    });
    // The container is deleted (its secrets forgotten) while its record is being read.
    secrets.removeEnvironment("alice", {}, { API_KEY: "canary-7171-secret" });
    const storing = stored();
    manager.release();
    const [line] = await storing;
    expect(line).toContain("cannot log in with");
    expect(line).not.toContain("canary-7171-secret");
  });
});

describe("UserActivityLogger.follow: pressure", () => {
  it("tells what a limit did to a workload, naming its container, and nothing for one that is gone", async () => {
    sources.pressure.emit("report", {
      kind: "pids_limit",
      containerKey: "C2",
      limit: 64,
      current: 64,
      refused: 12,
      windowMs: 60_000,
    });
    sources.pressure.emit("report", {
      kind: "pids_limit",
      containerKey: "C404",
      limit: 64,
      current: 64,
      refused: 1,
      windowMs: 60_000,
    });
    const lines = await stored();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bob container\.pids_limit_reached: 'api' reached its limit of 64 processes/);
  });
});

describe("UserActivityLogger.follow: close", () => {
  it("stops listening on close, and closing twice is safe", async () => {
    await feed.close();
    manager.emit("operation", { op: "start", ok: true, ms: 1, owner: "alice", name: "web", id: "C1" });
    sources.engine.emit("down", { state: "down" });
    sources.health.emit("change", {
      id: "C1",
      owner: "alice",
      health: "unhealthy",
      previous: "healthy",
      reason: "x",
    });
    sources.restarts.emit("restartFailed", { info: info() });
    sources.pressure.emit("report", { kind: "pids_limit", containerKey: "C1", refused: 1, windowMs: 1 });
    sources.bringBack.emit("broughtBack", { info: info() });
    sources.interrupted.emit("interrupted", {
      owner: "alice",
      id: "C1",
      name: "web",
      op: "stop",
      outcome: "finished",
    });
    await feed.close();
    expect(await stored()).toEqual([]);
    for (const emitter of [manager, ...Object.values(sources)])
      expect(emitter.eventNames().filter((name) => emitter.listenerCount(name) > 0)).toEqual([]);
  });
});
