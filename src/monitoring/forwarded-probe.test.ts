import { describe, expect, it } from "vitest";
import { NotFoundError } from "../errors/errors.ts";
import type { ContainerTarget } from "./container-target.ts";
import { ForwardedProbe } from "./forwarded-probe.ts";
import type { ResourceSample } from "./resource-usage.ts";

const SAMPLE: ResourceSample = {
  source: "cgroup",
  usage: {
    cpuPercent: 1,
    memoryBytes: 2,
    memoryLimitBytes: 3,
    pids: 4,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    ts: 5,
  },
};

function setUp() {
  let dockerId = "node1:aaaa";
  const target: ContainerTarget & { calls: number } = {
    calls: 0,
    async resolve() {
      this.calls++;
      return { dockerId, pid: 4242 };
    },
  };
  const asked: Array<[string, string, boolean]> = [];
  let failNext: unknown;
  const probe = new ForwardedProbe("C1", target, async (key, id, fresh) => {
    asked.push([key, id, fresh]);
    if (failNext !== undefined) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
    return SAMPLE;
  });
  return {
    probe,
    target,
    asked,
    moveTo: (id: string) => {
      dockerId = id;
    },
    fail: (err: unknown) => {
      failNext = err;
    },
  };
}

describe("ForwardedProbe: a container sampled where it runs", () => {
  it("finds the container once, asks afresh the first time, then samples with one call each", async () => {
    const { probe, target, asked } = setUp();
    expect(await probe.sample()).toBe(SAMPLE);
    await probe.sample();
    await probe.sample();
    expect(target.calls).toBe(1);
    expect(asked).toEqual([
      ["C1", "node1:aaaa", true],
      ["C1", "node1:aaaa", false],
      ["C1", "node1:aaaa", false],
    ]);
  });

  it("finds it again, and asks afresh, after it restarted (invalidate)", async () => {
    const { probe, target, asked, moveTo } = setUp();
    await probe.sample();
    moveTo("node2:bbbb");
    probe.invalidate();
    await probe.sample();
    expect(target.calls).toBe(2);
    expect(asked.at(-1)).toEqual(["C1", "node2:bbbb", true]);
  });

  it("finds it again after a failed sample (moved, or gone), and rethrows the failure", async () => {
    const { probe, target, asked, moveTo, fail } = setUp();
    await probe.sample();
    fail(new NotFoundError());
    await expect(probe.sample()).rejects.toBeInstanceOf(NotFoundError);
    moveTo("node2:bbbb");
    await probe.sample();
    expect(target.calls).toBe(2);
    expect(asked.at(-1)).toEqual(["C1", "node2:bbbb", true]);
  });
});
