import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ShuttingDownError } from "../errors/errors.ts";
import type { ContainerLocation, ContainerTarget } from "./container-target.ts";
import type { EngineStats } from "./engine-stats.ts";
import type { ResourceSample } from "./resource-usage.ts";
import { StatsSampler, type StatsSamplerTuning } from "./stats-sampler.ts";
import { MemoryCgroupFs } from "./testing/memory-cgroup-fs.ts";

const PID = 13058;
const DOCKER_ID = "a88da3b707521508cb87f5435277fd6d81c58d056ed9f442ae7446d58bf17162";

class FakeTarget implements ContainerTarget {
  location: ContainerLocation = { dockerId: DOCKER_ID, pid: PID };
  calls = 0;
  async resolve(): Promise<ContainerLocation> {
    this.calls++;
    return { ...this.location };
  }
}

class FakeEngine implements EngineStats {
  calls = 0;
  running = 0;
  mostAtOnce = 0;
  delayMs = 0;
  answer: unknown;
  async stats(dockerId: string): Promise<unknown> {
    expect(dockerId).toBe(DOCKER_ID);
    this.calls++;
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.running--;
    return this.answer;
  }
}

let fs: MemoryCgroupFs;
let engine: FakeEngine;
let target: FakeTarget;
let errors: unknown[];
let fallbacks: unknown[];
const samplers: StatsSampler[] = [];

function newSampler(
  options: StatsSamplerTuning & { fs?: MemoryCgroupFs; engine?: FakeEngine } = {},
): StatsSampler {
  const sampler = new StatsSampler({
    fs,
    engine,
    monotonicMs: () => Date.now(),
    hostMemoryBytes: 8 * 1024 ** 3,
    onError: (_key, err) => errors.push(err),
    onFallback: (_key, cause) => fallbacks.push(cause),
    ...options,
  });
  samplers.push(sampler);
  return sampler;
}

beforeEach(async () => {
  vi.useFakeTimers({ now: 1_800_000_000_000 });
  fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
  // The container keeps 1.5 cores busy, in step with the fake clock.
  const startedAt = Date.now();
  fs.set(fs.find("/cpuacct.usage"), () => String((Date.now() - startedAt) * 1.5e6));
  engine = new FakeEngine();
  engine.answer = JSON.parse(
    await readFile(join(import.meta.dirname, "fixtures", "engine-stats", "v1-docker-20.10.json"), "utf8"),
  );
  target = new FakeTarget();
  errors = [];
  fallbacks = [];
});

afterEach(async () => {
  const closing = Promise.all(samplers.splice(0).map((s) => s.close()));
  await vi.runAllTimersAsync(); // lets samples under way finish, so close() can
  await closing;
  vi.useRealTimers();
});

describe("StatsSampler", () => {
  it("answers a one-off question from the cgroup files, CPU measured over two readings 100 ms apart", async () => {
    const sampler = newSampler();
    const pending = sampler.sampleOnce("c1", target);
    await vi.advanceTimersByTimeAsync(100);
    const sample = await pending;
    expect(sample.source).toBe("cgroup");
    expect(sample.usage).toEqual({
      cpuPercent: 150,
      memoryBytes: 17989632 - 7999488,
      memoryLimitBytes: 256 * 1024 ** 2,
      pids: 7,
      netRxBytes: 806,
      netTxBytes: 0,
      blockReadBytes: 1458176,
      blockWriteBytes: 8392704,
      ts: Date.now(),
    });
    expect(engine.calls).toBe(0);
    // Nobody watches the container: its files are closed again.
    expect(fs.openFiles).toEqual([]);
  });

  it("samples through the probe it is given (cluster mode: a container's node samples it), reading nothing here", async () => {
    const made: string[] = [];
    const sample: ResourceSample = { source: "cgroup", usage: { ...engineUsage(), ts: Date.now() } };
    const sampler = new StatsSampler({
      probe: (key) => {
        made.push(key);
        return { sample: async () => sample, invalidate: () => {}, close: () => {} };
      },
    });
    samplers.push(sampler);
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(2000);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toBe(sample);
    expect(made).toEqual(["c1"]);
    expect(fs.reads).toEqual([]);
    expect(engine.calls).toBe(0);
  });

  it("samples a watched container at the smallest interval its watchers ask for, from one loop", async () => {
    const sampler = newSampler();
    const slow: ResourceSample[] = [];
    const fast: ResourceSample[] = [];
    sampler.watch("c1", target, 2000, (s) => slow.push(s));
    sampler.watch("c1", target, 500, (s) => fast.push(s));
    await vi.advanceTimersByTimeAsync(100 + 4 * 500);
    // The first sample at once (after its 100 ms baseline), then one every 500 ms.
    expect(fast).toHaveLength(5);
    expect(slow).toHaveLength(5);
    expect(fast.every((s) => s.source === "cgroup" && Math.abs(s.usage.cpuPercent - 150) < 1e-9)).toBe(true);
    // Paths are resolved once: one inspect, one read of /proc/<pid>/cgroup.
    expect(target.calls).toBe(1);
    expect(fs.reads.filter((p) => p === `/proc/${PID}/cgroup`)).toHaveLength(1);
  });

  it("clamps intervals to its bounds", async () => {
    const sampler = newSampler({ minIntervalMs: 250 });
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 10, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100 + 1000);
    expect(seen).toHaveLength(5);
    expect(() => sampler.watch("c1", target, Number.NaN, () => {})).toThrow(RangeError);
  });

  it("slows down when the fastest watcher leaves and stops its timer when the last one does", async () => {
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    const stopSlow = sampler.watch("c1", target, 1000, (s) => seen.push(s));
    const stopFast = sampler.watch("c1", target, 250, () => {});
    await vi.advanceTimersByTimeAsync(100 + 1000);
    expect(seen).toHaveLength(5);
    stopFast();
    stopFast(); // twice is harmless
    await vi.advanceTimersByTimeAsync(2000);
    expect(seen).toHaveLength(7);
    stopSlow();
    expect(vi.getTimerCount()).toBe(0);
    expect(fs.openFiles).toEqual([]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toHaveLength(7);
  });

  it("gives a watcher who joins a watched container the latest sample at once", async () => {
    const sampler = newSampler();
    sampler.watch("c1", target, 1000, () => {});
    await vi.advanceTimersByTimeAsync(100);
    const late: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => late.push(s));
    await vi.advanceTimersByTimeAsync(0);
    expect(late).toHaveLength(1);
  });

  it("never overlaps samples of one container, however slow the engine", async () => {
    engine.delayMs = 1000;
    target.location = { dockerId: DOCKER_ID, pid: 0 };
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 250, (s) => seen.push(s));
    const once = sampler.sampleOnce("c1", target);
    await vi.advanceTimersByTimeAsync(4500);
    await once;
    // Samples started at 0 (the one-off question and the first tick, joined), 1000, … 4000.
    expect(engine.mostAtOnce).toBe(1);
    expect(engine.calls).toBe(5);
    expect(seen).toHaveLength(4);
    expect(seen.every((s) => s.source === "engine")).toBe(true);
  });

  it("joins a one-off question to the sample under way", async () => {
    const sampler = newSampler();
    const first = sampler.sampleOnce("c1", target);
    const second = sampler.sampleOnce("c1", target);
    await vi.advanceTimersByTimeAsync(100);
    expect(await second).toBe(await first);
    expect(fs.reads.filter((p) => p.endsWith("/memory.stat"))).toHaveLength(1);
  });

  it("asks the engine when the container has no process", async () => {
    target.location = { dockerId: DOCKER_ID, pid: 0 };
    const sample = await newSampler().sampleOnce("c1", target);
    expect(sample.source).toBe("engine");
    expect(sample.usage.pids).toBe(7);
    expect(fallbacks).toEqual([]); // not running is no failure of the cgroup path
  });

  it("asks the engine when the cgroup files cannot be read, and tries them again later", async () => {
    fs.failures.set(fs.find("/memory.stat"), "EACCES");
    const sampler = newSampler({ cgroupRetryMs: 10_000 });
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100 + 5000);
    expect(seen.map((s) => s.source)).toEqual(Array(6).fill("engine"));
    // The cgroup path is not tried again on every sample (each try would fail and be reported).
    expect(fallbacks).toHaveLength(1);
    expect(fs.openFiles).toEqual([]);

    fs.failures.clear();
    await vi.advanceTimersByTimeAsync(6000);
    expect(seen.at(-1)?.source).toBe("cgroup");
  });

  it("asks the engine when the cgroup layout is one it does not know", async () => {
    fs.set(`/proc/${PID}/cgroup`, "1:name=weird:/x\n");
    const sample = await newSampler().sampleOnce("c1", target);
    expect(sample.source).toBe("engine");
    expect(fallbacks).toHaveLength(1);
  });

  it("hands every sample, with its pressure counters and the size of the engine's log file, to onSample", async () => {
    const taken: Array<[string, ResourceSample]> = [];
    const sizes: string[] = [];
    target.location = { ...target.location, logPath: "/engine/a88d-json.log", nanoCpus: 5e8, pidsLimit: 128 };
    const sampler = newSampler({
      onSample: (key, sample) => taken.push([key, sample]),
      fileSize: async (path) => {
        sizes.push(path);
        return { size: 4096, ino: 77 };
      },
    });
    const once = await Promise.all([sampler.sampleOnce("c1", target), vi.advanceTimersByTimeAsync(100)]);
    expect(taken).toEqual([["c1", once[0]]]);
    expect(once[0].pressure).toEqual({
      dockerId: DOCKER_ID,
      cpuPeriods: 300,
      cpuThrottledPeriods: 276,
      cpuThrottledUs: 13_800_000,
      pidsLimitHits: 3140,
      outputBytes: 4096,
      outputInode: 77,
      nanoCpus: 5e8,
      pidsLimit: 128,
      pidsCurrent: 7,
      atMs: Date.now(),
    });
    expect(sizes).toEqual(["/engine/a88d-json.log"]);
    // Pressure is the sampler's business: it never reaches the wire.
    expect(once[0].usage).not.toHaveProperty("pressure");
  });

  it("samples from the cgroup files without the output when the log file cannot be read, and stats it once", async () => {
    const taken: ResourceSample[] = [];
    let stats = 0;
    target.location = { ...target.location, logPath: "/var/lib/docker/containers/a88d/a88d-json.log" };
    const sampler = newSampler({
      onSample: (_key, sample) => taken.push(sample),
      fileSize: async () => {
        stats++;
        throw Object.assign(new Error("permission denied"), { code: "EACCES" });
      },
    });
    sampler.watch("c1", target, 1000, () => {});
    await vi.advanceTimersByTimeAsync(100 + 3000);
    expect(taken.length).toBeGreaterThanOrEqual(3);
    expect(taken.map((s) => s.source)).toEqual(taken.map(() => "cgroup"));
    expect(taken.map((s) => s.pressure?.outputBytes)).toEqual(taken.map(() => undefined));
    expect(engine.calls).toBe(0);
    expect(fallbacks).toEqual([]);
    expect(stats).toBe(1);
  });

  it("does not stat the log file when output is not measured", async () => {
    target.location = { ...target.location, logPath: "/engine/a88d-json.log" };
    const sampler = newSampler({ fileSize: null });
    const [sample] = await Promise.all([sampler.sampleOnce("c1", target), vi.advanceTimersByTimeAsync(100)]);
    expect(sample.source).toBe("cgroup");
    expect(sample.pressure).not.toHaveProperty("outputBytes");
  });

  it("goes on sampling when onSample throws, and says so through onError", async () => {
    const sampler = newSampler({
      onSample: () => {
        throw new Error("listener bug");
      },
    });
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100 + 2000);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual(expect.arrayContaining([expect.objectContaining({ message: "listener bug" })]));
  });

  it("finds the new process after a restart, when the old pid's files are gone", async () => {
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100);
    fs.move(`/proc/${PID}/`, "/proc/20001/");
    target.location = { dockerId: DOCKER_ID, pid: 20001 };
    await vi.advanceTimersByTimeAsync(1000 + 100);
    expect(seen.map((s) => s.source)).toEqual(["cgroup", "cgroup"]);
    expect(target.calls).toBe(2);
    expect(seen[1]?.usage.cpuPercent).toBeCloseTo(150);
    expect(fs.openFiles).toHaveLength(8);
    expect(fs.openFiles).toContain("/proc/20001/net/dev");
  });

  it("starts CPU over when the counter goes backwards (a new cgroup under the same path)", async () => {
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100 + 3000);
    const restartedAt = Date.now();
    fs.set(fs.find("/cpuacct.usage"), () => String((Date.now() - restartedAt) * 0.5e6));
    await vi.advanceTimersByTimeAsync(1000 + 100);
    expect(seen).toHaveLength(5);
    expect(seen[4]?.usage.cpuPercent).toBeCloseTo(50);
  });

  it("applies invalidate() after a sample under way, not in its middle", async () => {
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(50); // within the first sample's baseline
    sampler.invalidate("c1");
    await vi.advanceTimersByTimeAsync(50 + 1000 + 100);
    expect(seen.map((s) => s.source)).toEqual(["cgroup", "cgroup"]);
    expect(fallbacks).toEqual([]);
    expect(target.calls).toBe(2);
  });

  it("keeps watching when a sample fails or a listener throws", async () => {
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 1000, () => {
      throw new Error("listener bug");
    });
    sampler.watch("c1", target, 1000, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(100);
    target.location = { dockerId: DOCKER_ID, pid: 0 };
    sampler.invalidate("c1");
    engine.answer = undefined;
    const stats = vi.spyOn(engine, "stats").mockRejectedValueOnce(new Error("engine down"));
    await vi.advanceTimersByTimeAsync(1000);
    stats.mockRestore();
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(["listener bug", "engine down", "listener bug"]);
  });

  it("closes idempotently: timers cleared, samples under way awaited, listeners silent, new work refused", async () => {
    const sampler = newSampler();
    const seen: ResourceSample[] = [];
    sampler.watch("c1", target, 250, (s) => seen.push(s));
    sampler.watch("c2", target, 250, (s) => seen.push(s));
    await vi.advanceTimersByTimeAsync(50);
    const closing = sampler.close();
    expect(sampler.close()).toBe(closing);
    await vi.advanceTimersByTimeAsync(100);
    await closing;
    expect(vi.getTimerCount()).toBe(0);
    expect(fs.openFiles).toEqual([]);
    expect(seen).toEqual([]);
    expect(() => sampler.watch("c1", target, 1000, () => {})).toThrow(ShuttingDownError);
    await expect(sampler.sampleOnce("c1", target)).rejects.toThrow(ShuttingDownError);
  });
});

/** Plausible usage figures, for a probe of the test's own. */
function engineUsage(): Omit<ResourceSample["usage"], "ts"> {
  return {
    cpuPercent: 3,
    memoryBytes: 1024,
    memoryLimitBytes: 4096,
    pids: 2,
    netRxBytes: 0,
    netTxBytes: 0,
    blockReadBytes: 0,
    blockWriteBytes: 0,
  };
}
