import { describe, expect, it } from "vitest";
import type { ResourceUsage } from "#protocol";
import type { ContainerTarget } from "./container-target.ts";
import type { ResourceSample } from "./resource-usage.ts";
import { type HistorySampler, StatsHistory } from "./stats-history.ts";

/** A sampler whose watchers the test feeds by hand. */
class FakeSampler implements HistorySampler {
  readonly watchers = new Map<string, { intervalMs: number; listener: (s: ResourceSample) => void }>();
  watch(key: string, _t: ContainerTarget, intervalMs: number, listener: (s: ResourceSample) => void) {
    const watcher = { intervalMs, listener };
    this.watchers.set(key, watcher);
    return () => {
      if (this.watchers.get(key) === watcher) this.watchers.delete(key);
    };
  }
  feed(key: string, ts: number): void {
    this.watchers.get(key)?.listener({ usage: usage(ts), source: "cgroup" });
  }
}

function usage(ts: number): ResourceUsage {
  return {
    cpuPercent: 1,
    memoryBytes: 1024,
    memoryLimitBytes: 4096,
    pids: 1,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
    ts,
  };
}

const target: ContainerTarget = { resolve: async () => ({ dockerId: "d", pid: 1 }) };

function newHistory(sampler: FakeSampler): StatsHistory {
  return new StatsHistory({ sampler, target: () => target, intervalMs: 1000, windowMs: 5000 });
}

describe("StatsHistory", () => {
  it("watches a running container at its interval and keeps its samples oldest first", () => {
    const sampler = new FakeSampler();
    const history = newHistory(sampler);
    history.follow({ id: "a", state: "running" });
    expect(sampler.watchers.get("a")?.intervalMs).toBe(1000);
    for (const ts of [1000, 2000, 3000]) sampler.feed("a", ts);
    expect(history.samples("a").map((s) => s.ts)).toEqual([1000, 2000, 3000]);
    history.close();
  });

  it("keeps at most windowMs / intervalMs samples a container", () => {
    const sampler = new FakeSampler();
    const history = newHistory(sampler);
    expect(history.capacity).toBe(5);
    history.follow({ id: "a", state: "running" });
    for (let ts = 1000; ts <= 20_000; ts += 1000) sampler.feed("a", ts);
    expect(history.samples("a").map((s) => s.ts)).toEqual([16_000, 17_000, 18_000, 19_000, 20_000]);
    history.close();
  });

  it("keeps one sample an interval while someone watches the container faster", () => {
    const sampler = new FakeSampler();
    const history = newHistory(sampler);
    history.follow({ id: "a", state: "running" });
    for (let ts = 1000; ts <= 3000; ts += 250) sampler.feed("a", ts);
    sampler.feed("a", 3000); // a joining watcher's copy of the latest sample
    expect(history.samples("a").map((s) => s.ts)).toEqual([1000, 2000, 3000]);
    history.close();
  });

  it("keeps the history through a restart without sampling, and resumes when it runs again", () => {
    const sampler = new FakeSampler();
    const history = newHistory(sampler);
    history.follow({ id: "a", state: "running" });
    sampler.feed("a", 1000);
    history.follow({ id: "a", state: "restarting" });
    expect(sampler.watchers.has("a")).toBe(false);
    expect(history.samples("a")).toHaveLength(1);
    history.follow({ id: "a", state: "running" });
    sampler.feed("a", 2000);
    expect(history.samples("a").map((s) => s.ts)).toEqual([1000, 2000]);
    history.close();
  });

  it.each(["stopped", "exited", "removing", "missing", "failed"] as const)(
    "frees the history of a container that is %s",
    (state) => {
      const sampler = new FakeSampler();
      const history = newHistory(sampler);
      history.follow({ id: "a", state: "running" });
      sampler.feed("a", 1000);
      history.follow({ id: "a", state });
      expect(history.samples("a")).toEqual([]);
      expect(history.size).toBe(0);
      expect(sampler.watchers.size).toBe(0);
      history.close();
    },
  );

  it("has nothing for a container it never saw run", () => {
    const history = newHistory(new FakeSampler());
    history.follow({ id: "a", state: "created" });
    expect(history.samples("a")).toEqual([]);
    expect(history.size).toBe(0);
  });

  it("stops every watch on close, and follows nothing after", () => {
    const sampler = new FakeSampler();
    const history = newHistory(sampler);
    history.follow({ id: "a", state: "running" });
    history.close();
    history.close();
    expect(sampler.watchers.size).toBe(0);
    history.follow({ id: "b", state: "running" });
    expect(sampler.watchers.size).toBe(0);
  });

  it("samples nothing and keeps nothing with an interval of 0 (the history turned off)", () => {
    const sampler = new FakeSampler();
    const history = new StatsHistory({ sampler, target: () => target, intervalMs: 0 });
    history.follow({ id: "a", state: "running" });
    expect(sampler.watchers.size).toBe(0);
    expect(history.samples("a")).toEqual([]);
  });
});
