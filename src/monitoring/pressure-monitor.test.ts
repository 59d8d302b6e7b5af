import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PressureMonitor } from "./pressure-monitor.ts";
import type { PressureMonitorOptions } from "./pressure-monitor-options.ts";
import type { PressureReport } from "./pressure-report.ts";
import type { PressureReading } from "./resource-usage.ts";

const MiB = 1024 * 1024;
const SPEC_NANO_CPUS = 5e8;

/** What a container does in 5 s: share of CPU periods throttled, forks refused, bytes printed, sent, frames refused. */
interface Load {
  cpuShare?: number;
  forks?: number;
  output?: number;
  channel?: number;
  refused?: number;
  /** Holds of the channel (over its budget of frames sent unasked), and how long they lasted. */
  holds?: number;
  heldMs?: number;
}

/** A container's counters over fake time, sampled every 5 s as the history does. */
class FakeContainer {
  atMs = 0;
  periods = 0;
  throttled = 0;
  throttledUs = 0;
  pidsHits = 0;
  outputBytes = 0;
  channelBytes = 0;
  channelRefused = 0;
  channelHolds = 0;
  channelHeldMs = 0;
  dockerId = "d1";
  nanoCpus = SPEC_NANO_CPUS;

  /** `ms` pass with `cpuShare` of periods throttled, `forks` refused and `output` bytes written. */
  run(ms: number, o: Load = {}): PressureReading {
    this.atMs += ms;
    const periods = ms / 100;
    this.periods += periods;
    this.throttled += periods * (o.cpuShare ?? 0);
    this.throttledUs += periods * (o.cpuShare ?? 0) * 50_000;
    this.pidsHits += o.forks ?? 0;
    this.outputBytes += o.output ?? 0;
    this.channelBytes += o.channel ?? 0;
    this.channelRefused += o.refused ?? 0;
    this.channelHolds += o.holds ?? 0;
    this.channelHeldMs += o.heldMs ?? 0;
    return this.reading();
  }

  reading(): PressureReading {
    return {
      dockerId: this.dockerId,
      atMs: this.atMs,
      cpuPeriods: this.periods,
      cpuThrottledPeriods: this.throttled,
      cpuThrottledUs: this.throttledUs,
      pidsLimitHits: this.pidsHits,
      outputBytes: this.outputBytes,
      channelBytes: this.channelBytes,
      channelRefused: this.channelRefused,
      channelHolds: this.channelHolds,
      channelHeldMs: this.channelHeldMs,
      nanoCpus: this.nanoCpus,
      pidsLimit: 128,
      pidsCurrent: 128,
    };
  }
}

let reports: PressureReport[];
let updates: Array<[string, number]>;
let monitor: PressureMonitor;
let c: FakeContainer;

function newMonitor(options: Partial<PressureMonitorOptions> = {}): PressureMonitor {
  monitor = new PressureMonitor({
    nanoCpusOf: () => SPEC_NANO_CPUS,
    setCpuLimit: async (dockerId, nanoCpus) => {
      updates.push([dockerId, nanoCpus]);
    },
    outputRateLimit: MiB,
    ...options,
  });
  monitor.on("report", (r) => reports.push(r));
  return monitor;
}

/** Samples every 5 s for `ms`, as the stats history does. */
function sample(ms: number, per5s: Load = {}): void {
  for (let t = 0; t < ms; t += 5000) monitor.observe("c1", c.run(5000, per5s));
}

beforeEach(() => {
  vi.useFakeTimers();
  reports = [];
  updates = [];
  c = new FakeContainer();
  newMonitor();
  monitor.observe("c1", c.reading());
});

afterEach(async () => {
  await monitor.close();
  vi.useRealTimers();
});

describe("PressureMonitor", () => {
  it("reports a container held to its CPU limit once the readings span 10 s, with the share and the limit", () => {
    sample(5000, { cpuShare: 0.92 });
    expect(reports).toEqual([]);
    sample(5000, { cpuShare: 0.92 });
    expect(reports).toEqual([
      {
        kind: "cpu_throttled",
        containerKey: "c1",
        cpus: 0.5,
        throttledPercent: 92,
        throttledMs: 4600,
        windowMs: 10_000,
      },
    ]);
  });

  it("reports an episode once, however long it lasts, and again only after it was quiet for a minute", () => {
    sample(120_000, { cpuShare: 0.9 });
    expect(reports).toHaveLength(1);
    sample(20_000);
    sample(30_000, { cpuShare: 0.9 }); // back before a minute of quiet: the same episode
    expect(reports).toHaveLength(1);
    sample(120_000);
    sample(30_000, { cpuShare: 0.9 });
    expect(reports).toHaveLength(2);
  });

  it("says nothing of a workload that uses its CPU without running out of quota", () => {
    sample(60_000, { cpuShare: 0.2 });
    expect(reports).toEqual([]);
  });

  it("reports refused processes at once, counted over the window", () => {
    sample(5000, { forks: 3140 });
    sample(5000, { forks: 100 });
    expect(reports).toEqual([
      { kind: "pids_limit", containerKey: "c1", limit: 128, current: 128, refused: 3140, windowMs: 5000 },
    ]);
  });

  it("holds a workload over the output limit at 0.05 CPU for 30 s, reports it, then gives its own limit back", async () => {
    sample(5000, { output: 24 * MiB });
    expect(reports).toEqual([]); // a rate is judged over (nearly) the whole window
    sample(5000, { output: 24 * MiB });
    expect(reports).toEqual([
      {
        kind: "output_rate_limited",
        containerKey: "c1",
        bytes: 48 * MiB,
        windowMs: 10_000,
        bytesPerSecond: Math.round(4.8 * MiB),
        limitBytesPerSecond: MiB,
        heldCpus: 0.05,
        holdMs: 30_000,
      },
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([["d1", 5e7]]);
    expect(monitor.held).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(updates).toEqual([
      ["d1", 5e7],
      ["d1", SPEC_NANO_CPUS],
    ]);
    expect(monitor.held).toBe(0);
  });

  it("holds harder (at 0.01 CPU) a workload that still writes over the limit at 0.05, without a second report", async () => {
    sample(10_000, { output: 20 * MiB });
    sample(5000, { output: 25 * MiB });
    sample(5000, { output: 25 * MiB }); // 5 MiB/s at 0.05 CPU: output costs little CPU per byte
    await vi.advanceTimersByTimeAsync(0);
    expect(updates.map(([, n]) => n)).toEqual([5e7, 1e7]);
    sample(5000, { output: 5 * MiB });
    await vi.advanceTimersByTimeAsync(0);
    expect(updates.map(([, n]) => n)).toEqual([5e7, 1e7]); // the least the engine takes
    await vi.advanceTimersByTimeAsync(30_000);
    expect(updates.map(([, n]) => n)).toEqual([5e7, 1e7, SPEC_NANO_CPUS]);
    expect(reports).toHaveLength(1);
  });

  it("keeps a hold at 0.05 CPU when that brought the rate under the limit", async () => {
    sample(10_000, { output: 20 * MiB });
    sample(15_000, { output: 2 * MiB });
    await vi.advanceTimersByTimeAsync(0);
    expect(updates.map(([, n]) => n)).toEqual([5e7]);
  });

  it("does not report the CPU throttling its own hold causes", async () => {
    sample(10_000, { output: 24 * MiB });
    sample(30_000, { cpuShare: 1 });
    await vi.advanceTimersByTimeAsync(30_000);
    sample(25_000, { cpuShare: 1 }); // the window after a hold still holds throttling from it
    expect(reports.map((r) => r.kind)).toEqual(["output_rate_limited"]);
  });

  it("holds again a workload still over the limit after its hold, without a second report", async () => {
    sample(10_000, { output: 20 * MiB });
    await vi.advanceTimersByTimeAsync(30_000);
    sample(10_000, { output: 20 * MiB });
    await vi.advanceTimersByTimeAsync(0);
    expect(updates.map(([, n]) => n)).toEqual([5e7, SPEC_NANO_CPUS, 5e7]);
    expect(reports).toHaveLength(1);
  });

  it("leaves output under the limit alone", () => {
    sample(60_000, { output: 4 * MiB });
    expect(reports).toEqual([]);
    expect(updates).toEqual([]);
  });

  it("counts output across the engine's log rotations (the file starts again at 10 MiB)", () => {
    const sizes = [6, 2, 8, 4]; // MiB, a reading every 2.5 s: rotated twice, 6 + 6 + 6 + 6 MiB in 10 s
    monitor.observe("c1", { ...c.reading(), outputBytes: 0 });
    for (const size of sizes) {
      c.atMs += 2500;
      monitor.observe("c1", { ...c.reading(), outputBytes: size * MiB });
    }
    expect(reports).toMatchObject([{ kind: "output_rate_limited", bytes: 24 * MiB, windowMs: 10_000 }]);
  });

  it("counts a rotation by the log file's new inode when the new file is no smaller (5 s samples, 2.4 MiB/s)", () => {
    // [size MiB, inode] every 5 s: 12 MiB written each time, across a rotation at 10 MiB.
    const files = [
      [4, 1],
      [6, 2],
      [8, 3],
    ] as const;
    newMonitor();
    for (const [size, ino] of files) {
      monitor.observe("c1", { ...c.reading(), outputBytes: size * MiB, outputInode: ino });
      c.atMs += 5000;
    }
    expect(reports).toMatchObject([{ kind: "output_rate_limited", bytes: 24 * MiB, windowMs: 10_000 }]);
    expect(monitor.held).toBe(1);
  });

  it("tries a give-back the engine refused again at the next sample, until it takes", async () => {
    let refuse = 0;
    newMonitor({
      setCpuLimit: async (dockerId, nanoCpus) => {
        if (nanoCpus === SPEC_NANO_CPUS && refuse-- > 0) throw new Error("engine busy");
        updates.push([dockerId, nanoCpus]);
      },
    });
    monitor.observe("c1", c.reading());
    sample(10_000, { output: 20 * MiB });
    refuse = 2;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(updates).toEqual([["d1", 5e7]]);
    expect(monitor.pendingRestores).toBe(1);
    sample(5000);
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([["d1", 5e7]]);
    sample(5000);
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([
      ["d1", 5e7],
      ["d1", SPEC_NANO_CPUS],
    ]);
    expect(monitor.pendingRestores).toBe(0);
    sample(5000);
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toHaveLength(2);
  });

  it("does not retry giving back the limit of a container that is gone", async () => {
    newMonitor({
      setCpuLimit: async (_dockerId, nanoCpus) => {
        if (nanoCpus === SPEC_NANO_CPUS) throw new Error("no such container");
      },
      isGone: (err) => (err as Error).message === "no such container",
    });
    monitor.observe("c1", c.reading());
    sample(10_000, { output: 20 * MiB });
    monitor.forget("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(monitor.pendingRestores).toBe(0);
  });

  it("changes a container's CPU limit in the order asked, one update at a time", async () => {
    const calls: Array<{ nanoCpus: number; done: () => void }> = [];
    newMonitor({
      setCpuLimit: (_dockerId, nanoCpus) => new Promise<void>((done) => calls.push({ nanoCpus, done })),
    });
    monitor.observe("c1", c.reading());
    sample(10_000, { output: 20 * MiB }); // held…
    monitor.forget("c1"); // …and the container exits before the engine answered
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((call) => call.nanoCpus)).toEqual([5e7]);
    calls[0]!.done();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((call) => call.nanoCpus)).toEqual([5e7, SPEC_NANO_CPUS]);
    calls[1]!.done();
  });

  it("never raises a limit: a container whose own is at or below the held CPU is reported, with its own, not held", async () => {
    newMonitor({ nanoCpusOf: () => 2e7 });
    c.nanoCpus = 2e7;
    monitor.observe("c1", c.reading());
    sample(10_000, { output: 20 * MiB });
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([]);
    expect(monitor.held).toBe(0);
    expect(reports).toMatchObject([{ kind: "output_rate_limited", heldCpus: 0.02, holdMs: 0 }]);
  });

  it("reports output over the limit once per episode, however long it lasts, and again after a quiet minute", async () => {
    for (let i = 0; i < 6; i++) {
      sample(10_000, { output: 20 * MiB });
      await vi.advanceTimersByTimeAsync(30_000);
      sample(30_000);
    }
    // Each round: over the limit, held, given back; the quiet after each is under a minute.
    expect(reports.filter((r) => r.kind === "output_rate_limited")).toHaveLength(1);
    sample(60_000);
    sample(10_000, { output: 20 * MiB });
    expect(reports.filter((r) => r.kind === "output_rate_limited")).toHaveLength(2);
  });

  it("judges output over a window as long as two sample intervals when samples are far apart", () => {
    newMonitor({ outputWindowMs: 120_000 });
    monitor.observe("c1", c.reading());
    monitor.observe("c1", c.run(60_000, { output: 120 * MiB }));
    monitor.observe("c1", c.run(60_000, { output: 120 * MiB }));
    expect(reports).toMatchObject([{ kind: "output_rate_limited", bytes: 240 * MiB, windowMs: 120_000 }]);
  });

  it("tells a channel flood with its bytes and refused frames, and does not hold it", async () => {
    sample(10_000, { channel: 24 * MiB, refused: 7 });
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([
      {
        kind: "channel_flooded",
        containerKey: "c1",
        bytes: 48 * MiB,
        windowMs: 10_000,
        bytesPerSecond: Math.round(4.8 * MiB),
        limitBytesPerSecond: MiB,
        refusedFrames: 14,
        holds: 0,
        heldMs: 0,
        messageRate: 0,
        messageBytesRate: 0,
      },
    ]);
    expect(updates).toEqual([]);
    sample(60_000, { channel: 24 * MiB });
    expect(reports).toHaveLength(1);
  });

  it("tells a workload the channel held back to its budget, with the holds and the budget, even below the byte limit", () => {
    newMonitor({ messageRate: 5000, messageBytesRate: 8 * MiB });
    monitor.observe("c1", c.reading());
    sample(60_000, { channel: 1024 });
    expect(reports).toEqual([]);
    // Readings 5 s apart: the window's base is the one 10 s back.
    sample(5_000, { channel: 99 * 1024, holds: 4, heldMs: 900 });
    expect(reports).toEqual([
      {
        kind: "channel_flooded",
        containerKey: "c1",
        bytes: 100 * 1024,
        windowMs: 10_000,
        bytesPerSecond: 10 * 1024,
        limitBytesPerSecond: MiB,
        refusedFrames: 0,
        holds: 4,
        heldMs: 900,
        messageRate: 5000,
        messageBytesRate: 8 * MiB,
      },
    ]);
  });

  it("tells a held channel with the output limit off", () => {
    newMonitor({ outputRateLimit: 0, messageRate: 5000 });
    monitor.observe("c1", c.reading());
    sample(10_000, { channel: 1024, holds: 1, heldMs: 100 });
    expect(reports).toMatchObject([{ kind: "channel_flooded", holds: 2, limitBytesPerSecond: 0 }]);
  });

  it("tells a flood of refused frames below the byte limit, but not a bad frame now and then", () => {
    sample(60_000, { channel: 1024, refused: 10 });
    expect(reports).toEqual([]);
    sample(10_000, { channel: 1024, refused: 60 });
    expect(reports).toMatchObject([{ kind: "channel_flooded", refusedFrames: 120 }]);
  });

  it("never holds with the limit off", () => {
    newMonitor({ outputRateLimit: 0 });
    monitor.observe("c1", c.reading());
    sample(30_000, { output: 100 * MiB });
    expect(reports).toEqual([]);
  });

  it("gives a hold back when the container stops, and when berth closes", async () => {
    sample(10_000, { output: 20 * MiB });
    monitor.forget("c1");
    monitor.forget("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([
      ["d1", 5e7],
      ["d1", SPEC_NANO_CPUS],
    ]);
    newMonitor();
    monitor.observe("c2", c.reading());
    for (let i = 0; i < 2; i++) monitor.observe("c2", c.run(5000, { output: 20 * MiB }));
    await monitor.close();
    expect(updates.at(-1)).toEqual(["d1", SPEC_NANO_CPUS]);
  });

  it("gives back a hold a berth that died left on the engine, at either step", async () => {
    newMonitor();
    c.nanoCpus = 5e7;
    monitor.observe("c3", c.reading());
    c.nanoCpus = 1e7;
    monitor.observe("c4", c.reading());
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([
      ["d1", SPEC_NANO_CPUS],
      ["d1", SPEC_NANO_CPUS],
    ]);
  });

  it("leaves alone a container whose own limit is what a hold would set", async () => {
    newMonitor({ nanoCpusOf: () => 5e7 });
    c.nanoCpus = 5e7;
    monitor.observe("c3", c.reading());
    await vi.advanceTimersByTimeAsync(0);
    expect(updates).toEqual([]);
  });

  it("starts over when counters go back (the container restarted in a new cgroup)", () => {
    sample(5000, { forks: 10 });
    expect(reports).toHaveLength(1);
    c.pidsHits = 0;
    c.periods = 0;
    c.throttled = 0;
    sample(5000);
    expect(reports).toHaveLength(1);
  });

  it("tells the engine's failures to onHold, and goes on", async () => {
    const failures: unknown[] = [];
    newMonitor({
      setCpuLimit: async () => {
        throw new Error("engine down");
      },
      onHold: (e) => {
        if (e.kind === "failed") failures.push(e.err);
      },
    });
    monitor.observe("c1", c.reading());
    sample(10_000, { output: 20 * MiB });
    await vi.advanceTimersByTimeAsync(0);
    expect(failures).toHaveLength(1);
  });
});
