import { describe, expect, it } from "vitest";
import { CgroupReader } from "./cgroup-reader.ts";
import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";
import { MemoryCgroupFs } from "./testing/memory-cgroup-fs.ts";

const HOST_MEMORY = 8 * 1024 ** 3;

async function readFixture(name: string, pid: number) {
  const fs = await MemoryCgroupFs.fromFixture(name);
  const reader = new CgroupReader(fs, HOST_MEMORY);
  const files = await reader.locate(pid);
  const cgroup = await reader.open(pid);
  fs.reads.length = 0;
  const counters = await cgroup.read();
  return { fs, reader, files, cgroup, counters };
}

describe("CgroupReader", () => {
  it("reads a cgroup v1 container of the cgroupfs driver (recorded on Docker 20.10)", async () => {
    const { counters, fs } = await readFixture("v1-cgroupfs", 13058);
    expect(counters).toEqual({
      cpuNs: 91425699,
      memoryBytes: 17989632 - 7999488, // usage_in_bytes minus total_inactive_file
      memoryLimitBytes: 256 * 1024 ** 2,
      pids: 7,
      netRxBytes: 806,
      netTxBytes: 0,
      blockReadBytes: 1458176,
      blockWriteBytes: 8392704,
      // cpu.stat of the cpu hierarchy (mounted apart from cpuacct here); v1 counts throttled time in ns.
      pressure: {
        cpuPeriods: 300,
        cpuThrottledPeriods: 276,
        cpuThrottledUs: 13_800_000,
        pidsLimitHits: 3140,
      },
    });
    // The limit comes with memory.stat; one sample is eight small reads (two of them for pressure).
    expect(fs.reads).toHaveLength(8);
  });

  it("reads a cgroup v1 container of the systemd driver, co-mounted cpu,cpuacct and no blk-throttle", async () => {
    const { counters, fs } = await readFixture("v1-systemd", 2817);
    expect(fs.openFiles.filter((path) => path.includes("blkio"))).toEqual([
      "/sys/fs/cgroup/blkio/system.slice/docker-3f4e8a1c9b7d2e6f5a0c8b3d1e9f7a6c4b2d0e8f6a4c2b0d9e7f5a3c1b9d7e5f.scope/blkio.io_service_bytes",
    ]);
    expect(counters).toEqual({
      cpuNs: 734829105527,
      memoryBytes: 52338688 - 12005376,
      memoryLimitBytes: HOST_MEMORY, // unlimited
      pids: 23,
      netRxBytes: 123456789012,
      netTxBytes: 48273910,
      blockReadBytes: 2105344 + 1097728,
      blockWriteBytes: 40960,
      pressure: { cpuPeriods: 0, cpuThrottledPeriods: 0, cpuThrottledUs: 0, pidsLimitHits: 0 },
    });
  });

  it("reads a cgroup v2 container of the systemd driver", async () => {
    const { counters, fs } = await readFixture("v2-systemd", 31337);
    expect(counters).toEqual({
      cpuNs: 734829105000, // usage_usec in ns
      memoryBytes: 50343936 - 12005376, // memory.current minus inactive_file
      memoryLimitBytes: HOST_MEMORY, // memory.max is "max"
      pids: 23,
      netRxBytes: 918273 + 4096,
      netTxBytes: 402211 + 2048,
      blockReadBytes: 2105344 + 1097728,
      blockWriteBytes: 40960,
      // Throttling comes with cpu.stat, read anyway; refused forks from pids.events.
      pressure: { cpuPeriods: 1200, cpuThrottledPeriods: 600, cpuThrottledUs: 30_000_000, pidsLimitHits: 12 },
    });
    expect(fs.reads).toHaveLength(8);
  });

  it("reads a cgroup v2 container of the cgroupfs driver with a memory limit", async () => {
    const { counters, files } = await readFixture("v2-cgroupfs", 4242);
    expect(files.version === 2 && files.memoryMax).toBe(
      "/sys/fs/cgroup/docker/4b8f2c6a0e1d3f5b7a9c2e4f6b8d0a1c3e5f7b9d2a4c6e8f0b1d3a5c7e9f2b4d/memory.max",
    );
    expect(counters.memoryLimitBytes).toBe(128 * 1024 ** 2);
  });

  it("reads memory.limit_in_bytes when memory.stat has no hierarchical limit (old kernels)", async () => {
    const fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
    const statPath = fs.find("/memory.stat");
    const stat = fs.files.get(statPath) as string;
    fs.set(statPath, stat.replace(/^hierarchical_memory_limit .*\n/m, ""));
    fs.set(fs.find("/memory.limit_in_bytes"), "104857600\n");
    const reader = new CgroupReader(fs, HOST_MEMORY);
    const counters = await (await reader.open(13058)).read();
    expect(counters.memoryLimitBytes).toBe(100 * 1024 ** 2);
  });

  it("reports no block I/O when no blkio file exists", async () => {
    const fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
    fs.files.delete(fs.find("/blkio.throttle.io_service_bytes"));
    const reader = new CgroupReader(fs, HOST_MEMORY);
    const counters = await (await reader.open(13058)).read();
    expect(counters).toMatchObject({ blockReadBytes: 0, blockWriteBytes: 0 });
  });

  it("reads the mounts once, and again only when they no longer hold the process's cgroups", async () => {
    const fs = await MemoryCgroupFs.fromFixture("v2-cgroupfs");
    const dockerTree = "27 20 0:24 /docker /sys/fs/cgroup/docker rw - cgroup2 cgroup2 rw\n";
    fs.set("/proc/self/mountinfo", dockerTree);
    fs.set("/proc/4242/cgroup", "0::/docker/abc\n");
    const reader = new CgroupReader(fs, HOST_MEMORY);
    await reader.locate(4242);
    await reader.locate(4242);
    expect(fs.reads.filter((p) => p === "/proc/self/mountinfo")).toHaveLength(1);

    // The process moved to a cgroup that only a mount made since then holds.
    fs.set("/proc/4242/cgroup", "0::/other/abc\n");
    fs.set("/proc/self/mountinfo", `${dockerTree}28 20 0:24 /other /mnt/other rw - cgroup2 cgroup2 rw\n`);
    const files = await reader.locate(4242);
    expect(files.version === 2 && files.cpuStat).toBe("/mnt/other/abc/cpu.stat");
    expect(fs.reads.filter((p) => p === "/proc/self/mountinfo")).toHaveLength(2);
  });

  it("reads no pressure counters where the kernel keeps none (no pids.events, no cpu hierarchy)", async () => {
    const fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
    fs.files.delete(fs.find("/pids.events"));
    fs.files.delete(fs.find("/cpu.stat"));
    const counters = await (await new CgroupReader(fs, HOST_MEMORY).open(13058)).read();
    expect(counters.pressure).toEqual({
      cpuPeriods: undefined,
      cpuThrottledPeriods: undefined,
      cpuThrottledUs: undefined,
      pidsLimitHits: undefined,
    });
    expect(counters.pids).toBe(7);
  });

  it("refuses a container without a process", async () => {
    const reader = new CgroupReader(await MemoryCgroupFs.fromFixture("v2-cgroupfs"), HOST_MEMORY);
    await expect(reader.open(0)).rejects.toThrow(CgroupUnavailableError);
  });

  it("reads CPU time alone for a baseline", async () => {
    const { cgroup } = await readFixture("v2-systemd", 31337);
    expect(await cgroup.readCpuNs()).toBe(734829105000);
  });

  it("keeps the files open between samples and closes every one", async () => {
    const { cgroup, fs } = await readFixture("v2-systemd", 31337);
    await cgroup.read();
    expect(fs.openFiles).toHaveLength(8);
    cgroup.close();
    cgroup.close();
    expect(fs.openFiles).toEqual([]);
  });

  it("closes what it opened when a file cannot be opened", async () => {
    const fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
    fs.failures.set(fs.find("/pids.current"), "EACCES");
    await expect(new CgroupReader(fs, HOST_MEMORY).open(13058)).rejects.toMatchObject({ code: "EACCES" });
    expect(fs.openFiles).toEqual([]);
  });

  it("reads ENODEV from an open file of a cgroup removed since", async () => {
    const { cgroup, fs } = await readFixture("v1-cgroupfs", 13058);
    fs.files.delete(fs.find("/memory.stat"));
    await expect(cgroup.read()).rejects.toMatchObject({ code: "ENODEV" });
  });
});
