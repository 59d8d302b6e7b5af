import { beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "../util/clock.ts";
import { CgroupReader } from "./cgroup-reader.ts";
import { ContainerProbe, type ProbeContext } from "./container-probe.ts";
import type { ContainerLocation, ContainerTarget } from "./container-target.ts";
import type { EngineStats } from "./engine-stats.ts";
import type { LogFileStat } from "./log-byte-counter.ts";
import { MemoryCgroupFs } from "./testing/memory-cgroup-fs.ts";

const PID = 13058; // the process of the v1-cgroupfs fixture
const DOCKER_ID = "a88da3b707521508cb87f5435277fd6d81c58d056ed9f442ae7446d58bf17162";
const LOG_PATH = `/var/lib/docker/containers/${DOCKER_ID}/${DOCKER_ID}-json.log`;
const BASELINE_MS = 100;
const RETRY_MS = 60_000;

/** Time that passes only when told: `sleep` passes it at once, and is recorded. */
class FakeClock implements Clock {
  monotonicMs = 0;
  wallMs = 1_800_000_000_000;
  readonly sleeps: number[] = [];
  now(): number {
    return this.wallMs;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.pass(ms);
  }
  pass(ms: number): void {
    this.monotonicMs += ms;
    this.wallMs += ms;
  }
}

class FakeTarget implements ContainerTarget {
  location: ContainerLocation = {
    dockerId: DOCKER_ID,
    pid: PID,
    logPath: LOG_PATH,
    nanoCpus: 5e8,
    pidsLimit: 64,
  };
  resolves = 0;
  async resolve(): Promise<ContainerLocation> {
    this.resolves++;
    return { ...this.location };
  }
}

/** The engine's stats API: a zeroed snapshot, each call recorded. */
class FakeEngineStats implements EngineStats {
  readonly asked: string[] = [];
  async stats(dockerId: string): Promise<unknown> {
    this.asked.push(dockerId);
    return {
      read: "2027-01-15T08:00:00Z",
      memory_stats: {},
      cpu_stats: {},
      precpu_stats: {},
      pids_stats: {},
    };
  }
}

let clock: FakeClock;
let fs: MemoryCgroupFs;
let target: FakeTarget;
let engine: FakeEngineStats;
let fallbacks: unknown[];
let logFile: LogFileStat | undefined | Error;
let stats: number;
/** CPU time the container used, in ns: 1.5 cores busy, in step with the fake clock, from `cpuFrom`. */
let cpuFrom: number;

function probe(extra: Partial<ProbeContext> = {}): ContainerProbe {
  return new ContainerProbe(target, {
    reader: new CgroupReader(fs, 8 * 1024 ** 3),
    engine,
    clock,
    monotonicMs: () => clock.monotonicMs,
    baselineMs: BASELINE_MS,
    cgroupRetryMs: RETRY_MS,
    onFallback: (cause) => fallbacks.push(cause),
    fileSize: async () => {
      stats++;
      if (logFile instanceof Error) throw logFile;
      return logFile;
    },
    ...extra,
  });
}

beforeEach(async () => {
  clock = new FakeClock();
  fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
  cpuFrom = 0;
  fs.set(fs.find("/cpuacct.usage"), () => String((clock.monotonicMs - cpuFrom) * 1.5e6));
  target = new FakeTarget();
  engine = new FakeEngineStats();
  fallbacks = [];
  logFile = { size: 4096, ino: 77 };
  stats = 0;
});

describe("ContainerProbe", () => {
  it("measures a first sample's CPU over two readings `baselineMs` apart, from the cgroup files", async () => {
    clock.pass(5_000);
    const sample = await probe().sample();
    expect(clock.sleeps).toEqual([BASELINE_MS]);
    expect(sample.source).toBe("cgroup");
    expect(sample.usage.cpuPercent).toBeCloseTo(150);
    expect(sample.usage).toMatchObject({ pids: 7, memoryLimitBytes: 256 * 1024 ** 2, ts: clock.now() });
    expect(engine.asked).toEqual([]);
  });

  it("hands the pressure counters on with the limits the engine gave and the engine's log file", async () => {
    const sample = await probe().sample();
    expect(sample.pressure).toEqual({
      dockerId: DOCKER_ID,
      cpuPeriods: 300,
      cpuThrottledPeriods: 276,
      cpuThrottledUs: 13_800_000,
      pidsLimitHits: 3140,
      outputBytes: 4096,
      outputInode: 77,
      nanoCpus: 5e8,
      pidsLimit: 64,
      pidsCurrent: 7,
      atMs: clock.monotonicMs,
    });
    expect(sample.usage).not.toHaveProperty("pressure");
  });

  it("measures later samples since the one before, without waiting, finding the container only once", async () => {
    const p = probe();
    await p.sample();
    const opened = fs.openFiles.length;
    clock.pass(1_000);
    cpuFrom -= 1_000 / 1.5; // one more core busy for that second: 1e9 ns more, 250 % in all
    const second = await p.sample();
    expect(second.usage.cpuPercent).toBeCloseTo(250);
    expect(clock.sleeps).toEqual([BASELINE_MS]);
    expect(target.resolves).toBe(1);
    expect(fs.openFiles).toHaveLength(opened);
  });

  it("asks the engine for a container without a process, and does not count that as a failure", async () => {
    target.location = { dockerId: DOCKER_ID, pid: 0 };
    const sample = await probe().sample();
    expect(sample.source).toBe("engine");
    expect(sample.usage.ts).toBe(clock.now());
    expect(engine.asked).toEqual([DOCKER_ID]);
    expect(fallbacks).toEqual([]);
    expect(fs.openFiles).toEqual([]);
  });

  it("finds the new process when the old one's files are gone (the container restarted)", async () => {
    const p = probe();
    await p.sample();
    fs.move(`/proc/${PID}/`, "/proc/20001/");
    target.location = { ...target.location, pid: 20001 };
    clock.pass(1_000);
    const sample = await p.sample();
    expect(sample.source).toBe("cgroup");
    expect(target.resolves).toBe(2);
    expect(fs.openFiles).toContain("/proc/20001/net/dev");
    expect(fs.openFiles.filter((path) => path.startsWith(`/proc/${PID}/`))).toEqual([]);
    expect(fallbacks).toEqual([]);
  });

  it("asks the engine when the files are gone and the container has no new process (it stopped)", async () => {
    const p = probe();
    await p.sample();
    fs.move(`/proc/${PID}/`, "/proc/gone/");
    target.location = { dockerId: DOCKER_ID, pid: 0 };
    expect((await p.sample()).source).toBe("engine");
    expect(fallbacks).toEqual([]);
    expect(fs.openFiles).toEqual([]);
  });

  it("starts CPU over, with a new baseline, when the counter goes backwards (a new cgroup under the same path)", async () => {
    const p = probe();
    clock.pass(10_000);
    await p.sample();
    clock.pass(1_000);
    cpuFrom = clock.monotonicMs; // the counter restarts from 0 now
    const sample = await p.sample();
    expect(sample.usage.cpuPercent).toBeCloseTo(150);
    expect(clock.sleeps).toEqual([BASELINE_MS, BASELINE_MS]);
    expect(target.resolves).toBe(2);
  });

  it("falls back to the engine when the cgroup files cannot be read, and tries them again only after `cgroupRetryMs`", async () => {
    const denied = fs.find("/memory.stat");
    fs.failures.set(denied, "EACCES");
    const p = probe();
    expect((await p.sample()).source).toBe("engine");
    expect(fallbacks).toEqual([expect.objectContaining({ code: "EACCES" })]);
    expect(fs.openFiles).toEqual([]);

    fs.failures.delete(denied);
    clock.pass(RETRY_MS - 1);
    expect((await p.sample()).source).toBe("engine");
    clock.pass(1);
    expect((await p.sample()).source).toBe("cgroup");
    expect(fallbacks).toHaveLength(1);
    expect(engine.asked).toEqual([DOCKER_ID, DOCKER_ID]);
  });

  it("forgets the process, its files and the CPU baseline when invalidated, at the next sample", async () => {
    const p = probe();
    await p.sample();
    p.invalidate();
    // Not at once: a sample under way must not be left reading closed files.
    expect(fs.openFiles.length).toBeGreaterThan(0);
    clock.pass(1_000);
    await p.sample();
    expect(target.resolves).toBe(2);
    expect(clock.sleeps).toEqual([BASELINE_MS, BASELINE_MS]);
  });

  it("measures no output when the log file cannot be stat()ed, and does not ask again", async () => {
    logFile = Object.assign(new Error("permission denied"), { code: "EACCES" });
    const p = probe();
    const first = await p.sample();
    expect(first.source).toBe("cgroup");
    expect(first.pressure).not.toHaveProperty("outputBytes");
    clock.pass(1_000);
    await p.sample();
    expect(stats).toBe(1);
  });

  it("measures no output without a log file, or when output is not measured", async () => {
    logFile = undefined;
    expect((await probe().sample()).pressure).not.toHaveProperty("outputBytes");
    logFile = { size: 1, ino: 1 };
    target.location = { ...target.location, logPath: undefined };
    expect((await probe().sample()).pressure).not.toHaveProperty("outputBytes");
    target.location = { ...target.location, logPath: LOG_PATH };
    expect((await probe({ fileSize: undefined }).sample()).pressure).not.toHaveProperty("outputBytes");
    expect(stats).toBe(1);
  });

  it("closes its files on close, and closing twice is safe", async () => {
    const p = probe();
    await p.sample();
    expect(fs.openFiles.length).toBeGreaterThan(0);
    p.close();
    expect(fs.openFiles).toEqual([]);
    p.close();
    expect(fs.openFiles).toEqual([]);
  });
});
