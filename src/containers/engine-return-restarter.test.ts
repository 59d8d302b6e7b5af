import { EventEmitter } from "node:events";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ContainerInfo, ContainerState } from "#protocol";
import type { EngineMonitorEvents } from "../docker/engine-monitor.ts";
import { DockerUnavailableError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { ContainerManagerEvents, EngineExit } from "./container-manager.ts";
import { EngineReturnRestarter, type RestarterManager } from "./engine-return-restarter.ts";

/**
 * A hand-written manager: a map of records, the engine's truth per container
 * (what `syncFromEngine` reads), and the starts asked of it.
 */
class FakeManager extends EventEmitter<ContainerManagerEvents> {
  readonly records = new Map<string, ContainerRecord>();
  readonly engine = new Map<string, ContainerState>();
  /** How the engine says a container ended; an engine stop's SIGTERM (143) at an unknown time when unset. */
  readonly engineExit = new Map<string, EngineExit>();
  readonly starts: string[] = [];
  startFails: Error | undefined;

  add(id: string, state: ContainerState, restartPolicy = "no"): ContainerRecord {
    const record = {
      id,
      owner: "alice",
      name: id,
      state,
      exitCode: null,
      spec: { restartPolicy },
    } as unknown as ContainerRecord;
    this.records.set(id, record);
    this.engine.set(id, state);
    return record;
  }

  info(record: ContainerRecord): ContainerInfo {
    const { id, owner, name, state, exitCode } = record;
    return { id, owner, name, state, exitCode } as ContainerInfo;
  }

  async findById(id: string): Promise<ContainerRecord | undefined> {
    return this.records.get(id);
  }

  /** What the engine's event stream would make berth record. */
  set(id: string, to: ContainerState, exitCode: number | null = null): void {
    this.writeUntold(id, to, exitCode)();
  }

  /**
   * Writes the change to the store, and tells it only when the returned function is called: a network
   * store's row says it for every reader before its writer hears back and tells the listeners.
   */
  writeUntold(id: string, to: ContainerState, exitCode: number | null = null): () => void {
    const record = this.records.get(id);
    if (!record) throw new Error(id);
    const from = record.state;
    Object.assign(record, { state: to, exitCode });
    this.engine.set(id, to);
    return () => {
      if (from !== to) this.emit("statusChanged", { info: this.info(record), from, reason: "test" });
    };
  }

  async syncFromEngine(id: string): Promise<EngineExit | undefined> {
    const truth = this.engine.get(id);
    const record = this.records.get(id);
    const exit =
      truth === "running"
        ? undefined
        : (this.engineExit.get(id) ?? { exitCode: 143, oomKilled: false, finishedAt: undefined });
    if (record && truth && truth !== record.state) this.set(id, truth, exit?.exitCode ?? null);
    return exit;
  }

  async start(_actor: unknown, id: string): Promise<ContainerInfo> {
    if (this.startFails) throw this.startFails;
    this.starts.push(id);
    this.set(id, "running");
    return this.info(this.records.get(id) as ContainerRecord);
  }
}

function setUp(now = () => 1_000_000, recordsDelayMs = 0) {
  const engine = new EventEmitter<EngineMonitorEvents>();
  const manager = new FakeManager();
  const goneNow = () => engine.emit("down", { state: "down", reason: "gone", since: 0 });
  /** The engine goes away; resolves once the restarter has read which workloads that holds. */
  const down = async () => {
    goneNow();
    await restarter.settled();
  };
  /** Whether a probe finds the engine gone (and says so, as the EngineMonitor does). */
  const probe = { finds: "up" as "up" | "down", count: 0 };
  const restarter = new EngineReturnRestarter({
    engine,
    manager: manager as unknown as RestarterManager,
    // A network store answers a few milliseconds later than the engine's probe does.
    records: async () => {
      if (recordsDelayMs > 0) await new Promise((r) => setTimeout(r, recordsDelayMs));
      return manager.records.values();
    },
    log: pino({ level: "silent" }) as unknown as SystemLogger,
    probe: async () => {
      probe.count++;
      if (probe.finds === "down") goneNow();
    },
    now,
  });
  const broughtBack: string[] = [];
  restarter.on("broughtBack", ({ info }) => broughtBack.push(info.id));
  const handedBack: string[] = [];
  restarter.on("handedBack", ({ info }) => handedBack.push(info.id));
  return { engine, manager, restarter, broughtBack, handedBack, down, goneNow, probe };
}

describe("EngineReturnRestarter", () => {
  it("brings back every workload that was running when the engine went away, whatever its restart policy", async () => {
    const { manager, restarter, broughtBack, down } = setUp();
    manager.add("never", "running", "no");
    manager.add("always", "running", "always");
    manager.add("onfail", "running", "on-failure");
    await down();
    // The engine stops them as it goes; berth hears of it late, or once the engine is back.
    for (const id of ["never", "always", "onfail"]) manager.engine.set(id, "exited");
    expect(restarter.holds("never")).toBe(true);
    await restarter.bringBack();
    expect(manager.starts.sort()).toEqual(["always", "never", "onfail"]);
    expect(broughtBack.sort()).toEqual(["always", "never", "onfail"]);
    expect(restarter.holds("never")).toBe(false);
  });

  it("starts nothing when the workloads kept running (live-restore)", async () => {
    const { manager, restarter, broughtBack, down } = setUp();
    manager.add("kept", "running");
    await down();
    await restarter.bringBack();
    expect(manager.starts).toEqual([]);
    expect(broughtBack).toEqual([]);
    expect(restarter.holds("kept")).toBe(false);
  });

  it("leaves stopped what was stopped before the outage, and what its owner stopped or deleted during it", async () => {
    const { manager, restarter, down } = setUp();
    manager.add("stopped-before", "stopped");
    manager.add("stopped-during", "running");
    manager.add("exited-then-stopped", "running");
    manager.add("deleted-during", "running");
    await down();
    manager.set("stopped-during", "stopped");
    // berth saw it exit, so the owner's stop changed no state; it answered ok all the same.
    manager.set("exited-then-stopped", "exited", 143);
    manager.emit("operation", {
      op: "stop",
      ok: true,
      ms: 1,
      owner: "alice",
      name: "exited-then-stopped",
      id: "exited-then-stopped",
    });
    manager.set("deleted-during", "removing");
    manager.records.delete("deleted-during");
    await restarter.bringBack();
    expect(manager.starts).toEqual([]);
  });

  it("counts an exit seen just before the outage was known as the outage's, but not an older one or a crash", async () => {
    let now = 1_000_000;
    const { manager, restarter, down } = setUp(() => now);
    manager.add("late-news", "running");
    manager.add("old-exit", "running");
    manager.add("crashed", "running");
    manager.set("old-exit", "exited", 0);
    now += 10_000;
    manager.set("crashed", "exited", 1);
    manager.set("late-news", "exited", 143);
    now += 2_000;
    await down();
    await restarter.bringBack();
    expect(manager.starts).toEqual(["late-news"]);
  });

  it("holds a workload whose exit is written while it reads which workloads the outage stops, but not a crash", async () => {
    const { manager, restarter, goneNow } = setUp();
    manager.add("never", "running", "no");
    manager.add("crashed", "running", "no");
    goneNow();
    // Written before the read is answered: the answer already says "exited".
    manager.set("never", "exited", 143);
    manager.set("crashed", "exited", 1);
    await restarter.settled();
    expect(restarter.holds("never")).toBe(true);
    expect(await restarter.isOutageExit("never")).toBe(true);
    expect(restarter.holds("crashed")).toBe(false);
    await restarter.bringBack();
    expect(manager.starts).toEqual(["never"]);
  });

  it("holds a workload whose exit the read of what the outage holds saw written, though it was told only after that read", async () => {
    const { manager, restarter, goneNow } = setUp();
    manager.add("never", "running", "no");
    manager.add("crashed", "running", "no");
    const ended = manager.add("ended-long-ago", "exited", "no");
    ended.exitCode = 0;
    // Read from the engine as it went, and committed; the writers hear back after the read below is answered.
    const tellNever = manager.writeUntold("never", "exited", 143);
    const tellCrashed = manager.writeUntold("crashed", "exited", 1);
    goneNow();
    await restarter.settled();
    tellNever();
    tellCrashed();
    // Its owner's start, refused as the engine is away, puts back the state it began from: no exit.
    manager.set("ended-long-ago", "starting", 0);
    manager.set("ended-long-ago", "exited", 0);
    expect(restarter.holds("never")).toBe(true);
    expect(await restarter.isOutageExit("never")).toBe(true);
    // A crash stays the restart policy's, told late or not.
    expect(restarter.holds("crashed")).toBe(false);
    expect(restarter.holds("ended-long-ago")).toBe(false);
    await restarter.bringBack();
    expect(manager.starts).toEqual(["never"]);
  });

  it("waits for the read of what the outage holds that its own probe began, however slowly the store answers", async () => {
    const { manager, restarter, probe } = setUp(() => 1_000_000, 50);
    manager.add("stopped-by-engine", "running", "always");
    probe.finds = "down";
    manager.set("stopped-by-engine", "exited", 143);
    expect(await restarter.isOutageExit("stopped-by-engine")).toBe(true);
    expect(restarter.holds("stopped-by-engine")).toBe(true);
  });

  it("tells the restart policy which exits are the engine's: those it holds, and those the engine's shutdown caused before berth knew", async () => {
    const { manager, restarter, probe } = setUp();
    manager.add("crashed", "running", "always");
    manager.add("stopped-by-engine", "running", "always");
    manager.set("crashed", "exited", 1);
    expect(await restarter.isOutageExit("crashed")).toBe(false);
    expect(probe.count).toBe(0); // a crash's code needs no question to the engine
    manager.set("stopped-by-engine", "exited", 143);
    expect(await restarter.isOutageExit("stopped-by-engine")).toBe(false); // the engine still answers
    probe.finds = "down";
    manager.set("stopped-by-engine", "running");
    manager.set("stopped-by-engine", "exited", 143);
    expect(await restarter.isOutageExit("stopped-by-engine")).toBe(true);
    expect(restarter.holds("stopped-by-engine")).toBe(true);
    expect(restarter.holds("crashed")).toBe(false);
  });

  it("keeps what it could not start while the engine was away again, and brings it back on the next return", async () => {
    const { manager, restarter, down } = setUp();
    manager.add("bot", "running");
    await down();
    manager.engine.set("bot", "exited");
    manager.startFails = new DockerUnavailableError();
    await restarter.bringBack();
    expect(restarter.holds("bot")).toBe(true);
    await down();
    manager.startFails = undefined;
    await restarter.bringBack();
    expect(manager.starts).toEqual(["bot"]);
  });

  it("hands back to the restart policy, unstarted, what ended on its own while berth was not watching: a crash, an out-of-memory kill", async () => {
    const { manager, restarter, broughtBack, handedBack, down } = setUp();
    // berth starts while the engine is away: its store says these ran, as they did when the last berth died.
    manager.add("crashed", "running", "no");
    manager.add("oom", "running", "always");
    manager.add("stopped-by-engine", "running", "no");
    await down();
    manager.engine.set("crashed", "exited");
    manager.engineExit.set("crashed", { exitCode: 1, oomKilled: false, finishedAt: 1 });
    manager.engine.set("oom", "exited");
    manager.engineExit.set("oom", { exitCode: 137, oomKilled: true, finishedAt: 1 });
    manager.engine.set("stopped-by-engine", "exited");
    await restarter.bringBack();
    expect(manager.starts).toEqual(["stopped-by-engine"]);
    expect(broughtBack).toEqual(["stopped-by-engine"]);
    expect(handedBack.sort()).toEqual(["crashed", "oom"]);
    expect(restarter.holds("crashed")).toBe(false);
  });

  it("hands back what the engine says ended before the outage could have begun, when berth was watching", async () => {
    let now = 1_000_000;
    const { manager, restarter, handedBack, down } = setUp(() => now);
    await restarter.bringBack(); // berth saw the engine answer
    manager.add("ended-before", "running", "on-failure");
    manager.add("stopped-by-engine", "running", "on-failure");
    now += 60_000;
    await down();
    manager.engine.set("ended-before", "exited");
    manager.engineExit.set("ended-before", { exitCode: 0, oomKilled: false, finishedAt: now - 30_000 });
    manager.engine.set("stopped-by-engine", "exited");
    manager.engineExit.set("stopped-by-engine", { exitCode: 0, oomKilled: false, finishedAt: now - 1_000 });
    await restarter.bringBack();
    expect(manager.starts).toEqual(["stopped-by-engine"]);
    expect(handedBack).toEqual(["ended-before"]);
  });

  it("does not count an out-of-memory kill seen just before the outage as the outage's", async () => {
    const { manager, restarter, down } = setUp();
    manager.add("oom", "running", "always");
    const record = manager.records.get("oom") as ContainerRecord;
    Object.assign(record, { state: "exited", exitCode: 137 });
    manager.engine.set("oom", "exited");
    manager.emit("statusChanged", {
      info: manager.info(record),
      from: "running",
      reason: "out of memory",
      oomKilled: true,
    });
    expect(await restarter.isOutageExit("oom", true)).toBe(false);
    await down();
    expect(restarter.holds("oom")).toBe(false);
    await restarter.bringBack();
    expect(manager.starts).toEqual([]);
  });

  it("says nothing was brought back when the start found the container stopped by its owner meanwhile", async () => {
    const { manager, restarter, broughtBack, down } = setUp();
    manager.add("bot", "running");
    await down();
    manager.engine.set("bot", "exited");
    // The owner's stop got in between the engine's truth and the start: the manager's start leaves it stopped.
    manager.start = async (_actor: unknown, id: string) => {
      manager.set(id, "stopped");
      return manager.info(manager.records.get(id) as ContainerRecord);
    };
    await restarter.bringBack();
    expect(broughtBack).toEqual([]);
    expect(restarter.holds("bot")).toBe(false);
  });

  it("lets go of the engine and the manager when closed, twice", async () => {
    const { engine, manager, restarter } = setUp();
    await restarter.close();
    await restarter.close();
    expect(engine.listenerCount("down") + engine.listenerCount("up")).toBe(0);
    expect(manager.listenerCount("statusChanged") + manager.listenerCount("operation")).toBe(0);
  });
});
