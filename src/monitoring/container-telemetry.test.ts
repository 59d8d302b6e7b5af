import { describe, expect, it } from "vitest";
import type { ContainerInfo, ResourceUsage } from "#protocol";
import type { Actor } from "../containers/actor.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { ListRequest } from "../containers/list-containers.ts";
import type { ContainerInspect } from "../docker/docker-client.ts";
import { NotFoundError } from "../errors/errors.ts";
import type { ContainerLocation, ContainerTarget } from "./container-target.ts";
import { ContainerTelemetry, type ContainerTelemetryOptions } from "./container-telemetry.ts";
import type { ResourceSample } from "./resource-usage.ts";

type Record = Awaited<ReturnType<ContainerManager["resolve"]>>;

const alice: Actor = { owner: "alice", admin: false };
const admin: Actor = { owner: "admin", admin: true };

const usage = (cpuPercent: number): ResourceUsage => ({
  cpuPercent,
  memoryBytes: 1,
  memoryLimitBytes: 2,
  pids: 3,
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  ts: 1,
});

/**
 * berth's containers as the manager keeps them (alice's `bot` runs in engine
 * container `d1`), an engine that knows where each engine container runs, a
 * sampler that asks its target where to read, and output that names the
 * record it was read for.
 */
function setUp() {
  const records = new Map<string, Record>([
    ["c1", { id: "c1", owner: "alice", name: "bot", dockerId: "d1", state: "running" } as Record],
    ["c2", { id: "c2", owner: "bob", name: "bot", dockerId: "d2", state: "running" } as Record],
  ]);
  const asked: string[] = [];
  const located: ContainerLocation[] = [];
  const listed: Array<{ actor: Actor; request: ListRequest }> = [];
  let nextCursor: string | undefined;
  const options: ContainerTelemetryOptions = {
    containers: {
      resolve: async (actor, ref) => {
        asked.push(`${actor.owner}:${ref}`);
        const record = [...records.values()].find((r) => r.id === ref || r.name === ref);
        if (!record || (!actor.admin && record.owner !== actor.owner)) throw new NotFoundError();
        return record;
      },
      findById: async (id) => records.get(id),
      list: async (actor, request) => {
        listed.push({ actor, request });
        const items = [...records.values()]
          .filter((r) => actor.admin || r.owner === actor.owner)
          .map((r) => ({ id: r.id }) as ContainerInfo);
        return nextCursor === undefined ? { items } : { items, nextCursor };
      },
    },
    docker: {
      inspectContainer: async (dockerId) =>
        ({ Id: dockerId, State: { Running: true, Pid: Number(dockerId.slice(1)) } }) as ContainerInspect,
    },
    sampler: {
      sampleOnce: async (_key: string, target: ContainerTarget): Promise<ResourceSample> => {
        located.push(await target.resolve());
        return { usage: usage(located.length), source: "cgroup" };
      },
      watch: (key, target, _intervalMs, listener) => {
        asked.push(`watching ${key}`);
        void target.resolve().then((where) => {
          located.push(where);
          listener({ usage: usage(0), source: "cgroup" });
        });
        return () => asked.push(`stopped ${key}`);
      },
    },
    history: { intervalMs: 5_000, samples: (id) => (id === "c1" ? [usage(7)] : []) },
    logs: {
      recent: async (record) => ({
        lines: [{ stream: "stdout", text: `${record.owner}'s ${record.name}`, ts: 1 }],
        truncated: false,
      }),
      follow: async (record, _opts, onLine) => {
        onLine({ stream: "stdout", text: `live from ${record.dockerId}`, ts: 2 });
        return { done: Promise.resolve(), close: () => {} };
      },
    },
  };
  return {
    telemetry: new ContainerTelemetry(options),
    records,
    asked,
    located,
    listed,
    truncateLists: () => {
      nextCursor = "more";
    },
  };
}

describe("ContainerTelemetry", () => {
  it("finds the container as the caller may see it, by name or id", async () => {
    const { telemetry, asked } = setUp();
    expect((await telemetry.container(alice, "bot")).id).toBe("c1");
    expect((await telemetry.container(admin, "c2")).id).toBe("c2");
    expect(asked).toEqual(["alice:bot", "admin:c2"]);
  });

  it("answers NOT_FOUND for another owner's container, and reads nothing of it", async () => {
    const { telemetry, located } = setUp();
    await expect(telemetry.container(alice, "c2")).rejects.toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
    expect(located).toEqual([]);
  });

  it("samples the container where the engine runs it now, under its current engine id", async () => {
    const { telemetry, records, located } = setUp();
    const container = await telemetry.container(alice, "bot");
    expect(await container.usage()).toEqual(usage(1));
    // Re-created under a new engine container (an update's switch, an adoption) while the caller holds it.
    records.set("c1", { ...(records.get("c1") as Record), dockerId: "d9" });
    expect(await container.usage()).toEqual(usage(2));
    expect(located.map((l) => [l.dockerId, l.pid])).toEqual([
      ["d1", 1],
      ["d9", 9],
    ]);
  });

  it("watches the samples of the container it found, and says how to stop", async () => {
    const { telemetry, asked, located } = setUp();
    const { watch } = await telemetry.container(alice, "bot");
    const sample = await new Promise<ResourceSample>((resolve) => {
      const stop = watch(1_000, (s) => {
        stop();
        resolve(s);
      });
    });
    expect(sample.usage).toEqual(usage(0));
    expect(located.map((l) => l.dockerId)).toEqual(["d1"]);
    expect(asked).toEqual(["alice:bot", "watching c1", "stopped c1"]);
  });

  it("reads the output of the record it found: its last lines and its live output", async () => {
    const { telemetry } = setUp();
    const container = await telemetry.container(alice, "bot");
    expect((await container.recentLogs({ tail: 10 })).lines.map((l) => l.text)).toEqual(["alice's bot"]);
    const lines: string[] = [];
    const follow = await container.followLogs({}, (l) => lines.push(l.text));
    await follow.done;
    expect(lines).toEqual(["live from d1"]);
  });

  it("keeps the short history of the container it found, at the history's spacing", async () => {
    const { telemetry } = setUp();
    expect((await telemetry.container(alice, "bot")).history()).toEqual([usage(7)]);
    expect(telemetry.historyIntervalMs).toBe(5_000);
  });

  it("samples for an overview by id, and nothing for a container that is gone", async () => {
    const { telemetry, asked, located } = setUp();
    const seen = await new Promise<string>((resolve) =>
      telemetry.watchById("c2", 1_000, () => resolve("c2")),
    );
    expect(seen).toBe("c2");
    telemetry.watchById("gone", 1_000, () => expect.unreachable("a gone container has no samples"));
    // Stopped before the store answered: nothing is ever watched. Stopping twice is safe.
    const stop = telemetry.watchById("c1", 1_000, () => expect.unreachable("stopped before it began"));
    stop();
    stop();
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual(["watching c2"]);
    expect(located.map((l) => l.dockerId)).toEqual(["d2"]);
  });

  it("gives each of the caller's running containers' histories, and says when more did not fit", async () => {
    const { telemetry, listed, truncateLists } = setUp();
    expect(await telemetry.historyOverview(alice)).toEqual({
      intervalMs: 5_000,
      containers: [{ id: "c1", samples: [usage(7)] }],
    });
    expect(listed[0]?.request).toEqual({ filter: { state: "running" }, limit: 100 });
    truncateLists();
    expect(await telemetry.historyOverview(admin)).toEqual({
      intervalMs: 5_000,
      containers: [
        { id: "c1", samples: [usage(7)] },
        { id: "c2", samples: [] },
      ],
      truncated: true,
    });
  });
});
