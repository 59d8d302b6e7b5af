import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCgroupMounts } from "./cgroup-mounts.ts";

const fixture = (name: string) =>
  readFile(join(import.meta.dirname, "fixtures", "cgroup", name, "proc", "self", "mountinfo"), "utf8");

describe("parseCgroupMounts", () => {
  it("finds each v1 hierarchy and the v2 tree of a hybrid host, skipping other mounts", async () => {
    const mounts = parseCgroupMounts(await fixture("v1-cgroupfs"));
    expect(mounts.map((m) => m.mountPoint)).toEqual([
      "/sys/fs/cgroup/cpu",
      "/sys/fs/cgroup/cpuacct",
      "/sys/fs/cgroup/cpuset",
      "/sys/fs/cgroup/memory",
      "/sys/fs/cgroup/devices",
      "/sys/fs/cgroup/freezer",
      "/sys/fs/cgroup/blkio",
      "/sys/fs/cgroup/pids",
      "/sys/fs/cgroup/systemd",
      "/sys/fs/cgroup/unified",
    ]);
    expect(mounts.find((m) => m.mountPoint === "/sys/fs/cgroup/memory")).toEqual({
      version: 1,
      options: ["rw", "memory"],
      root: "/",
      mountPoint: "/sys/fs/cgroup/memory",
    });
    expect(mounts.at(-1)).toMatchObject({ version: 2, options: [] });
  });

  it("reads co-mounted controllers and lines with optional fields", async () => {
    const mounts = parseCgroupMounts(await fixture("v1-systemd"));
    expect(mounts.find((m) => m.options.includes("cpuacct"))).toMatchObject({
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
      options: ["rw", "cpu", "cpuacct"],
    });
  });

  it("finds the single cgroup2 mount of a unified host", async () => {
    expect(parseCgroupMounts(await fixture("v2-systemd"))).toEqual([
      { version: 2, options: [], root: "/", mountPoint: "/sys/fs/cgroup" },
    ]);
  });

  it("decodes the kernel's octal escapes and keeps a bind-mounted subtree's root", () => {
    const line = "50 20 0:40 /kubepods\\040a /host\\040cgroup/memory rw - cgroup cgroup rw,memory";
    expect(parseCgroupMounts(line)).toEqual([
      { version: 1, options: ["rw", "memory"], root: "/kubepods a", mountPoint: "/host cgroup/memory" },
    ]);
  });

  it("ignores malformed lines", () => {
    expect(parseCgroupMounts("garbage\n\n1 2 3\n")).toEqual([]);
  });
});
