import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { usageFromEngineStats } from "./engine-stats-usage.ts";

const fixture = async (name: string): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(join(import.meta.dirname, "fixtures", "engine-stats", name), "utf8"));

describe("usageFromEngineStats", () => {
  it("converts a cgroup v1 answer the way docker stats does (recorded on Docker 20.10)", async () => {
    const raw = await fixture("v1-docker-20.10.json");
    expect(usageFromEngineStats(raw, 1234)).toEqual({
      cpuPercent: 0, // an idle container: no CPU time between the two readings
      memoryBytes: 17993728 - 8003584, // usage minus total_inactive_file
      memoryLimitBytes: 256 * 1024 ** 2,
      pids: 7,
      netRxBytes: 736,
      netTxBytes: 0,
      blockReadBytes: 1458176,
      blockWriteBytes: 8392704,
      ts: 1234,
    });
  });

  it("computes CPU as the container's share of host CPU time times the online CPUs", async () => {
    const raw = await fixture("v1-docker-20.10.json");
    const cpu = raw.cpu_stats as { cpu_usage: { total_usage: number }; system_cpu_usage: number };
    const pre = raw.precpu_stats as { cpu_usage: { total_usage: number }; system_cpu_usage: number };
    // 2 CPUs for 1 s = 2e9 ns of host time; the container used 1.5e9 ns of it.
    pre.system_cpu_usage = cpu.system_cpu_usage - 2e9;
    pre.cpu_usage.total_usage = cpu.cpu_usage.total_usage - 1.5e9;
    expect(usageFromEngineStats(raw, 0).cpuPercent).toBeCloseTo(150);
  });

  it("converts a cgroup v2 answer: inactive_file, lowercase blkio ops, no percpu_usage", async () => {
    expect(usageFromEngineStats(await fixture("v2-docker-24.json"), 99)).toEqual({
      cpuPercent: 100, // 1e9 of 4e9 ns over 4 CPUs
      memoryBytes: 50343936 - 12005376,
      memoryLimitBytes: 128 * 1024 ** 2,
      pids: 23,
      netRxBytes: 918273 + 4096,
      netTxBytes: 402211 + 2048,
      blockReadBytes: 2105344 + 1097728,
      blockWriteBytes: 40960,
      ts: 99,
    });
  });

  it("reads zeros from the empty answer of a stopped container or from garbage", () => {
    const zero = {
      cpuPercent: 0,
      memoryBytes: 0,
      memoryLimitBytes: 0,
      pids: 0,
      netRxBytes: 0,
      netTxBytes: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
      ts: 5,
    };
    const stopped = {
      read: "0001-01-01T00:00:00Z",
      pids_stats: {},
      cpu_stats: { cpu_usage: { total_usage: 0 } },
    };
    expect(usageFromEngineStats(stopped, 5)).toEqual(zero);
    expect(usageFromEngineStats("nonsense", 5)).toEqual(zero);
    expect(usageFromEngineStats(null, 5)).toEqual(zero);
  });
});
