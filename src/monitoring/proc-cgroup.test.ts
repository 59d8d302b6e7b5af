import { describe, expect, it } from "vitest";
import { parseProcCgroup } from "./proc-cgroup.ts";

describe("parseProcCgroup", () => {
  it("reads v1 lines with one or more controllers, named hierarchies and the v2 line", () => {
    const text = [
      "4:memory:/docker/abc",
      "3:cpu,cpuacct:/system.slice/docker-abc.scope",
      "1:name=systemd:/docker/abc",
      "0::/docker/abc",
      "",
    ].join("\n");
    expect(parseProcCgroup(text)).toEqual([
      { hierarchyId: 4, controllers: ["memory"], path: "/docker/abc" },
      { hierarchyId: 3, controllers: ["cpu", "cpuacct"], path: "/system.slice/docker-abc.scope" },
      { hierarchyId: 1, controllers: ["name=systemd"], path: "/docker/abc" },
      { hierarchyId: 0, controllers: [], path: "/docker/abc" },
    ]);
  });

  it("keeps a colon inside the path", () => {
    expect(parseProcCgroup("0::/kubepods/pod:x/abc")).toEqual([
      { hierarchyId: 0, controllers: [], path: "/kubepods/pod:x/abc" },
    ]);
  });

  it("skips lines that are not memberships", () => {
    expect(parseProcCgroup("nonsense\nx:y:z\n")).toEqual([]);
  });
});
