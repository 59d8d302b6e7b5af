import { EventEmitter } from "node:events";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ContainerInfo, ContainerState } from "#protocol";
import { within } from "../../test/helpers/deadline.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerManager, ContainerManagerEvents } from "./container-manager.ts";
import { type ExitDeferral, type RestartEvent, RestartSupervisor } from "./restart-supervisor.ts";

const POLICY = { maxRestarts: 3, resetAfterMs: 60_000, baseDelayMs: 10, maxDelayMs: 100 };

/** A manager that records starts and knows one container's state. */
class FakeManager extends EventEmitter<ContainerManagerEvents> {
  state: ContainerState = "running";
  /** What the store keeps for the restart policy (ContainerRecord.restartDueAt, restartAttempts). */
  restartDueAt: number | null = null;
  restartAttempts = 0;
  exitCode = 0;
  readonly starts: string[] = [];
  #startWaiters: Array<() => void> = [];
  async findById(id: string) {
    return this.#record(id);
  }
  #record(id: string) {
    return {
      id,
      state: this.state,
      startedAt: Date.now(), // a run shorter than resetAfterMs
      restartDueAt: this.restartDueAt,
      restartAttempts: this.restartAttempts,
    };
  }
  async all() {
    return [this.#record("c1")];
  }
  info(): ContainerInfo {
    return {
      id: "c1",
      owner: "alice",
      name: "bot",
      state: this.state,
      restartPolicy: "always",
      exitCode: this.exitCode,
    } as unknown as ContainerInfo;
  }
  async setRestartDue(_id: string, due: { at: number | null; attempts?: number }) {
    this.restartDueAt = due.at;
    this.restartAttempts = due.attempts ?? this.restartAttempts;
  }
  async start(_actor: unknown, id: string) {
    this.starts.push(id);
    for (const resolve of this.#startWaiters.splice(0)) resolve();
  }
  /** The next start(): a restart awaited as the event it is, however long the machine takes. */
  nextStart(): Promise<void> {
    return within(5_000, "a start", new Promise<void>((resolve) => this.#startWaiters.push(resolve)));
  }
  exit(exitCode: number, reason = "exited"): ContainerInfo {
    this.state = "exited";
    this.exitCode = exitCode;
    const info = this.info();
    this.emit("statusChanged", { info, from: "running", reason });
    return info;
  }
}

function setUp(defer: ExitDeferral, manager = new FakeManager()) {
  const supervisor = new RestartSupervisor(
    manager as unknown as ContainerManager,
    POLICY,
    pino({ level: "silent" }) as unknown as SystemLogger,
    defer,
  );
  const exits: RestartEvent[] = [];
  supervisor.on("exit", (e) => exits.push(e));
  return { manager, supervisor, exits };
}

/**
 * For a restart that must NOT happen: waits past any back-off the supervisor
 * could have scheduled since. Here its look at an exit takes only microtasks
 * (the fakes answer at once), so its timer is set in this turn of the event
 * loop, from the same clock; timers fire in the order they fall due, so one
 * due after the longest back-off fires after any restart it scheduled,
 * however loaded the machine.
 */
const afterAnyBackOff = () => new Promise((r) => setTimeout(r, POLICY.maxDelayMs + 1));

describe("RestartSupervisor", () => {
  it("restarts an `always` container after an exit of its own, and says so", async () => {
    const { manager, supervisor, exits } = setUp({ holds: () => false, isOutageExit: async () => false });
    const restarted = manager.nextStart();
    manager.exit(1);
    await restarted;
    expect(exits.map((e) => e.decision.kind)).toEqual(["restart"]);
    expect(manager.starts).toEqual(["c1"]);
    supervisor.close();
  });

  it("leaves alone an exit the engine's going away caused: no crash counted, no restart of its own", async () => {
    const { manager, supervisor, exits } = setUp({ holds: () => true, isOutageExit: async () => true });
    manager.exit(143);
    await afterAnyBackOff();
    expect(exits).toEqual([]);
    expect(manager.starts).toEqual([]);
    supervisor.close();
  });

  it("does not restart what the engine's outage took after the decision, when the back-off ends", async () => {
    let held = false;
    const { manager, supervisor, exits } = setUp({ holds: () => held, isOutageExit: async () => false });
    manager.exit(1);
    await new Promise((r) => setImmediate(r));
    held = true; // the engine went away during the back-off
    await afterAnyBackOff();
    expect(exits).toHaveLength(1);
    expect(manager.starts).toEqual([]);
    supervisor.close();
  });

  it("keeps a decided restart in the store, and a berth started after a kill makes it, counting on", async () => {
    const { manager, supervisor } = setUp({ holds: () => false, isOutageExit: async () => false });
    manager.exit(1);
    await new Promise((r) => setImmediate(r));
    expect(manager.restartDueAt).not.toBeNull();
    expect(manager.restartAttempts).toBe(1);
    supervisor.close(); // killed during the back-off: its timer dies with it
    const next = setUp({ holds: () => false, isOutageExit: async () => false }, manager);
    const resumed = manager.nextStart();
    await next.supervisor.resume();
    await resumed;
    expect(manager.starts).toEqual(["c1"]);
    expect(next.exits).toEqual([]); // the killed berth reported the exit
    manager.state = "running";
    const restarted = manager.nextStart();
    manager.exit(1);
    await restarted;
    expect(next.exits.map((e) => e.decision)).toMatchObject([{ kind: "restart", attempt: 2 }]);
    next.supervisor.close();
  });

  it("restarts at start-up nothing it had not decided to: a failed create, an exit past the limit", async () => {
    for (const state of [
      { restartDueAt: null, restartAttempts: 0 }, // exited before ready: the owner was told it failed
      { restartDueAt: null, restartAttempts: POLICY.maxRestarts }, // given up
    ]) {
      const manager = Object.assign(new FakeManager(), state, { state: "exited" as const, exitCode: 1 });
      const { supervisor, exits } = setUp({ holds: () => false, isOutageExit: async () => false }, manager);
      await supervisor.resume();
      await afterAnyBackOff();
      expect(manager.starts).toEqual([]);
      expect(exits).toEqual([]);
      supervisor.close();
    }
  });

  it("gives up at the limit counted by an earlier berth", async () => {
    const manager = Object.assign(new FakeManager(), { restartAttempts: POLICY.maxRestarts });
    const { supervisor, exits } = setUp({ holds: () => false, isOutageExit: async () => false }, manager);
    manager.exit(1);
    await afterAnyBackOff();
    expect(exits.map((e) => e.decision.kind)).toEqual(["give_up"]);
    expect(manager.starts).toEqual([]);
    supervisor.close();
  });

  it("takes an exit that is being decided for the one it is, when resume() runs meanwhile", async () => {
    // The engine's answer to "was this exit the outage's?" comes late, to every asker at once.
    const askers: Array<(outage: boolean) => void> = [];
    const answer = (outage: boolean) => {
      for (const r of askers) r(outage);
    };
    const { manager, supervisor, exits } = setUp({
      holds: () => false,
      isOutageExit: () => new Promise<boolean>((r) => askers.push(r)),
    });
    manager.exit(143);
    manager.restartDueAt = Date.now(); // as a previous berth may have left it
    const restarted = manager.nextStart();
    await supervisor.resume();
    answer(false);
    await restarted;
    await afterAnyBackOff(); // no second start for the same exit
    expect(exits).toHaveLength(1);
    expect(exits[0]?.decision).toMatchObject({ kind: "restart", attempt: 1 });
    expect(manager.starts).toEqual(["c1"]);
    supervisor.close();
  });

  it("answers an exit handed back by the engine's return as its own: counted and restarted", async () => {
    const { manager, supervisor, exits } = setUp({ holds: () => false, isOutageExit: async () => true });
    const info = manager.exit(1); // held for the engine's return: left alone
    await afterAnyBackOff();
    expect(exits).toEqual([]);
    const restarted = manager.nextStart();
    supervisor.takeExit(info, false); // the engine said it crashed
    await restarted;
    expect(exits.map((e) => e.decision.kind)).toEqual(["restart"]);
    expect(manager.starts).toEqual(["c1"]);
    supervisor.close();
  });

  it("decides at start-up on an exit a killed berth saw and died before deciding on", async () => {
    let answer: (outage: boolean) => void = () => {};
    const { manager, supervisor, exits } = setUp({
      holds: () => false,
      isOutageExit: () => new Promise<boolean>((r) => (answer = r)),
    });
    manager.exit(1);
    expect(manager.restartDueAt).toBe(0); // seen, not decided
    supervisor.close(); // killed while the engine was asked
    answer(false);
    const next = setUp({ holds: () => false, isOutageExit: async () => false }, manager);
    const restarted = manager.nextStart();
    await next.supervisor.resume();
    await restarted;
    expect(exits).toEqual([]);
    expect(next.exits.map((e) => e.decision.kind)).toEqual(["restart"]);
    expect(manager.starts).toEqual(["c1"]);
    next.supervisor.close();
  });

  it("keeps nothing due for an exit the policy decided to leave alone", async () => {
    const { manager, supervisor, exits } = setUp({ holds: () => false, isOutageExit: async () => false });
    manager.state = "exited";
    const onFailure = Object.assign(manager.info(), { restartPolicy: "on-failure" });
    manager.emit("statusChanged", { info: onFailure, from: "running", reason: "exited" });
    await afterAnyBackOff();
    expect(exits.map((e) => e.decision.kind)).toEqual(["none"]);
    expect(manager.restartDueAt).toBeNull();
    supervisor.close();
  });
});
