import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { ContainerInfo, StatsOverviewEvent } from "#protocol";
import type { Actor } from "../containers/actor.ts";
import type { ResourceSample } from "../monitoring/resource-usage.ts";
import { StatsOverview, StatsOverviews } from "./stats-overview.ts";

function info(id: string, owner: string, state: ContainerInfo["state"]): ContainerInfo {
  return { id, owner, state } as ContainerInfo;
}

function sample(cpuPercent: number): ResourceSample {
  return { usage: { cpuPercent } } as unknown as ResourceSample;
}

function overviewOf(actor: Actor) {
  const listeners = new Map<string, (s: ResourceSample) => void>();
  const stopped: string[] = [];
  const pushed: StatsOverviewEvent[] = [];
  const overview = new StatsOverview({
    actor,
    intervalMs: 1000,
    watch: (id, _ms, listener) => {
      listeners.set(id, listener);
      return () => {
        listeners.delete(id);
        stopped.push(id);
      };
    },
    push: (e) => pushed.push(e),
  });
  return { overview, listeners, stopped, pushed };
}

describe("StatsOverview", () => {
  it("samples the owner's running containers only, and sends a turn's samples as one event", async () => {
    const { overview, listeners, pushed } = overviewOf({ owner: "alice", admin: false });
    overview.follow(info("C1", "alice", "running"));
    overview.follow(info("C2", "alice", "stopped"));
    overview.follow(info("C3", "bob", "running"));
    expect([...listeners.keys()]).toEqual(["C1"]);
    overview.follow(info("C2", "alice", "running"));
    listeners.get("C1")!(sample(1));
    listeners.get("C2")!(sample(2));
    expect(pushed).toEqual([]);
    await nextTurn();
    expect(pushed).toEqual([
      {
        ts: expect.any(Number),
        samples: [
          { id: "C1", cpuPercent: 1 },
          { id: "C2", cpuPercent: 2 },
        ],
      },
    ]);
  });

  it("lets a container go when it stops or is removed, and an admin sees every owner's", () => {
    const { overview, listeners, stopped } = overviewOf({ owner: "root", admin: true });
    overview.follow(info("C1", "alice", "running"));
    overview.follow(info("C3", "bob", "running"));
    overview.follow(info("C1", "alice", "running"));
    expect(overview.size).toBe(2);
    overview.follow(info("C1", "alice", "exited"));
    overview.follow(info("C3", "bob", "removing"));
    expect(stopped).toEqual(["C1", "C3"]);
    expect(listeners.size).toBe(0);
  });

  it("pushes nothing once closed, and a replaced overview is closed by the registry", async () => {
    const first = overviewOf({ owner: "alice", admin: false });
    const second = overviewOf({ owner: "alice", admin: false });
    const registry = new StatsOverviews();
    registry.set("socket-1", first.overview);
    registry.follow(info("C1", "alice", "running"));
    first.listeners.get("C1")!(sample(1));
    registry.set("socket-1", second.overview);
    expect(first.stopped).toEqual(["C1"]);
    await nextTurn();
    expect(first.pushed).toEqual([]);
    registry.delete("socket-1", first.overview);
    registry.follow(info("C2", "alice", "running"));
    expect([...second.listeners.keys()]).toEqual(["C2"]);
    registry.delete("socket-1", second.overview);
    expect(second.stopped).toEqual(["C2"]);
  });
});
