import { PassThrough } from "node:stream";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ContainerCreateBody, ContainerInspect } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { MemoryCgroupFs } from "../monitoring/testing/memory-cgroup-fs.ts";
import type { Clock } from "../util/clock.ts";
import { NodeUsage } from "./node-usage.ts";
import { WorkloadsOnlyEngine } from "./workloads-only-engine.ts";

/** The pid the fixture tree's /proc knows (fixtures/cgroup/v1-cgroupfs). */
const PID = 13058;

/** A node's engine whose running containers have the fixture's pid, as the engine's inspect says. */
class NodeEngine extends FakeDockerClient {
  override async inspectContainer(id: string): Promise<ContainerInspect | undefined> {
    const found = await super.inspectContainer(id);
    if (found?.State.Running) found.State.Pid = PID;
    return found;
  }
}

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

describe("a node's workloads' resource usage, sampled by its agent (NodeUsage)", () => {
  let now: number;
  let fs: MemoryCgroupFs;
  let engine: NodeEngine;
  let usage: NodeUsage;
  let workload: string;
  let stranger: string;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };

  beforeEach(async () => {
    now = 1_800_000_000_000;
    fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
    // Half a core busy, in step with the clock.
    const startedAt = now;
    fs.set(fs.find("/cpuacct.usage"), () => String((now - startedAt) * 0.5e6));
    engine = new NodeEngine();
    workload = await engine.createContainer({
      name: "berth-Cworkload0001",
      Labels: { "berth.managed": "true", "berth.id": "Cworkload0001" },
    } as unknown as ContainerCreateBody);
    await engine.startContainer(workload);
    // A container of the node that berth did not make, whose cgroup is the very same fixture.
    stranger = await engine.createContainer({
      name: "postgres",
      Labels: {},
    } as unknown as ContainerCreateBody);
    await engine.startContainer(stranger);
    usage = new NodeUsage({
      docker: new WorkloadsOnlyEngine(engine, { mountRoot: "/var/lib/berth-agent" }),
      log,
      fs,
      clock,
      monotonicMs: () => now,
      idleMs: 120_000,
    });
    return () => usage.close();
  });

  const inspects = () => engine.calls.filter((c) => c.method === "inspectContainer").length;

  it("samples a workload from its cgroup files on the node, as single-host berth samples its own", async () => {
    const first = await usage.sample(workload, false);
    expect(first.source).toBe("cgroup");
    expect(first.usage.cpuPercent).toBeCloseTo(50);
    expect(first.usage.memoryBytes).toBeGreaterThan(0);
    expect(first.usage.memoryLimitBytes).toBe(256 * 1024 ** 2);
    expect(first.pressure).toMatchObject({ dockerId: workload, pidsCurrent: 7 });
    expect(engine.calls.some((c) => c.method === "containerStats")).toBe(false);
  });

  it("keeps what makes the next sample cheap between two callers' samples: one inspect, no new baseline", async () => {
    await usage.sample(workload, false);
    const before = inspects();
    now += 1_000;
    const second = await usage.sample(workload, false);
    expect(inspects()).toBe(before);
    expect(second.usage.cpuPercent).toBeCloseTo(50);
    expect(fs.reads.filter((p) => p === `/proc/${PID}/cgroup`)).toHaveLength(1);
    expect(usage.size).toBe(1);
  });

  it("finds the workload again when asked for a fresh sample (it restarted)", async () => {
    await usage.sample(workload, false);
    const before = inspects();
    await usage.sample(workload, true);
    expect(inspects()).toBe(before + 1);
  });

  it("refuses a container of the node that is not berth's, reading none of its files and keeping nothing", async () => {
    await expect(usage.sample(stranger, false)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(usage.sample("no-such-container", false)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(fs.reads).toEqual([]);
    expect(fs.openFiles).toEqual([]);
    expect(usage.size).toBe(0);
  });

  it("refuses a name or a prefix that the engine would complete to a workload", async () => {
    await expect(usage.sample("berth-Cworkload0001", false)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(fs.reads).toEqual([]);
  });

  it("lets go of a workload nobody has sampled for its idle time: files closed, nothing kept", async () => {
    vi.useFakeTimers();
    try {
      const swept = new NodeUsage({
        docker: new WorkloadsOnlyEngine(engine, { mountRoot: "/var/lib/berth-agent" }),
        log,
        fs,
        clock,
        monotonicMs: () => now,
        idleMs: 120_000,
      });
      await swept.sample(workload, false);
      expect(fs.openFiles.length).toBeGreaterThan(0);
      // Still in use a minute later: kept.
      now += 60_000;
      vi.advanceTimersByTime(60_000);
      expect(swept.size).toBe(1);
      now += 61_000;
      vi.advanceTimersByTime(60_000);
      expect(swept.size).toBe(0);
      expect(fs.openFiles).toEqual([]);
      swept.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("closes every open file when closed, and refuses samples after", async () => {
    await usage.sample(workload, false);
    usage.close();
    usage.close();
    expect(fs.openFiles).toEqual([]);
    await expect(usage.sample(workload, false)).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
  });
});
