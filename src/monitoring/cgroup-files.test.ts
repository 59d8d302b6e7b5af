import { describe, expect, it } from "vitest";
import { locateCgroupFiles } from "./cgroup-files.ts";
import type { CgroupMount } from "./cgroup-mounts.ts";
import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";
import { parseProcCgroup } from "./proc-cgroup.ts";

const v1 = (options: string, mountPoint: string, root = "/"): CgroupMount => ({
  version: 1,
  options: ["rw", ...options.split(",")],
  root,
  mountPoint,
});
const v2 = (mountPoint: string, root = "/"): CgroupMount => ({ version: 2, options: [], root, mountPoint });

const hybridMounts = [
  v1("memory", "/sys/fs/cgroup/memory"),
  v1("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct"),
  v1("pids", "/sys/fs/cgroup/pids"),
  v1("blkio", "/sys/fs/cgroup/blkio"),
  v2("/sys/fs/cgroup/unified"),
];
const v1Lines = (path: string) =>
  parseProcCgroup(`6:pids:${path}\n5:blkio:${path}\n4:memory:${path}\n3:cpu,cpuacct:${path}\n0::${path}\n`);

describe("locateCgroupFiles", () => {
  it("uses the v1 controllers of a hybrid host, not its controller-less v2 tree", () => {
    const files = locateCgroupFiles(42, v1Lines("/system.slice/docker-abc.scope"), hybridMounts);
    expect(files).toEqual({
      version: 1,
      memoryUsage: "/sys/fs/cgroup/memory/system.slice/docker-abc.scope/memory.usage_in_bytes",
      memoryStat: "/sys/fs/cgroup/memory/system.slice/docker-abc.scope/memory.stat",
      memoryLimit: "/sys/fs/cgroup/memory/system.slice/docker-abc.scope/memory.limit_in_bytes",
      cpuacctUsage: "/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-abc.scope/cpuacct.usage",
      pidsCurrent: "/sys/fs/cgroup/pids/system.slice/docker-abc.scope/pids.current",
      blkio: [
        "/sys/fs/cgroup/blkio/system.slice/docker-abc.scope/blkio.throttle.io_service_bytes",
        "/sys/fs/cgroup/blkio/system.slice/docker-abc.scope/blkio.io_service_bytes",
      ],
      netDev: "/proc/42/net/dev",
      cpuStat: "/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-abc.scope/cpu.stat",
      pidsEvents: "/sys/fs/cgroup/pids/system.slice/docker-abc.scope/pids.events",
    });
  });

  it("uses the unified tree on a v2 host", () => {
    const files = locateCgroupFiles(7, parseProcCgroup("0::/docker/abc\n"), [v2("/sys/fs/cgroup")]);
    expect(files).toMatchObject({
      version: 2,
      memoryCurrent: "/sys/fs/cgroup/docker/abc/memory.current",
      cpuStat: "/sys/fs/cgroup/docker/abc/cpu.stat",
      ioStat: "/sys/fs/cgroup/docker/abc/io.stat",
      netDev: "/proc/7/net/dev",
    });
  });

  it("strips the root of a hierarchy mounted from a subtree", () => {
    const files = locateCgroupFiles(7, parseProcCgroup("0::/berth.slice/docker/abc\n"), [
      v2("/host/cgroup", "/berth.slice"),
    ]);
    expect(files).toMatchObject({ memoryCurrent: "/host/cgroup/docker/abc/memory.current" });
  });

  it("refuses a path outside berth's cgroup namespace", () => {
    expect(() =>
      locateCgroupFiles(7, parseProcCgroup("0::/../../docker/abc\n"), [v2("/sys/fs/cgroup")]),
    ).toThrow(CgroupUnavailableError);
  });

  it("refuses a v1 host whose controller berth cannot see mounted", () => {
    const withoutPids = hybridMounts.filter((m) => !m.options.includes("pids"));
    expect(() => locateCgroupFiles(42, v1Lines("/docker/abc"), withoutPids)).toThrow(/pids/);
  });

  it("refuses a process in no hierarchy it knows", () => {
    expect(() => locateCgroupFiles(42, [], hybridMounts)).toThrow(CgroupUnavailableError);
  });
});
