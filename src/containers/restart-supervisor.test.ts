import { EventEmitter } from "node:events";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { ContainerInfo, ContainerState } from "#protocol";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerManager, ContainerManagerEvents } from "./container-manager.ts";
import { type ExitDeferral, type RestartEvent, RestartSupervisor } from "./restart-supervisor.ts";

const POLICY = { maxRestarts: 3, resetAfterMs: 60_000, baseDelayMs: 10, maxDelayMs: 100 };

/** A manager that records starts and knows one container's state. */
class FakeManager extends EventEmitter<ContainerManagerEvents> {
  state: ContainerState = "running";
  readonly starts: string[] = [];
  findById(id: string) {
    return { id, state: this.state };
  }
  async start(_actor: unknown, id: string) {
    this.starts.push(id);
  }
  exit(exitCode: number): ContainerInfo {
    this.state = "exited";
    const info = {
      id: "c1",
      owner: "alice",
      name: "bot",
      state: "exited",
      restartPolicy: "always",
      exitCode,
    };
    this.emit("statusChanged", { info: info as unknown as ContainerInfo, from: "running", reason: "exited" });
    return info as unknown as ContainerInfo;
  }
}

function setUp(defer: ExitDeferral) {
  const manager = new FakeManager();
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

/** Lets the supervisor's asynchronous look at the exit, and a short back-off, run out. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe("RestartSupervisor", () => {
  it("restarts an `always` container after an exit of its own, and says so", async () => {
    const { manager, supervisor, exits } = setUp({ holds: () => false, isOutageExit: async () => false });
    manager.exit(1);
    await settle();
    expect(exits.map((e) => e.decision.kind)).toEqual(["restart"]);
    expect(manager.starts).toEqual(["c1"]);
    supervisor.close();
  });

  it("leaves alone an exit the engine's going away caused: no crash counted, no restart of its own", async () => {
    const { manager, supervisor, exits } = setUp({ holds: () => true, isOutageExit: async () => true });
    manager.exit(143);
    await settle();
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
    await settle();
    expect(exits).toHaveLength(1);
    expect(manager.starts).toEqual([]);
    supervisor.close();
  });
});
