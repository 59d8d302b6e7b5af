import type { ResourceUsage } from "@berth/client";
import { describe, expect, it } from "vitest";
import { linePoints } from "../src/containers/sparkline.tsx";
import {
  appendSample,
  HISTORY_WINDOW_MS,
  MAX_HISTORY,
  mergeHistory,
} from "../src/containers/usage-history.ts";

const sample = (ts: number, cpuPercent = 1, memoryBytes = 1024 * 1024): ResourceUsage => ({
  ts,
  cpuPercent,
  memoryBytes,
  memoryLimitBytes: 256 * 1024 * 1024,
  pids: 1,
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
});

describe("a row's usage history", () => {
  it("grows by each new sample and leaves a repeated one out", () => {
    const one = appendSample(undefined, sample(1000));
    const two = appendSample(one, sample(3000));
    expect(two.map((s) => s.ts)).toEqual([1000, 3000]);
    expect(appendSample(two, sample(3000))).toBe(two);
  });

  it("keeps only the window before the newest sample, and at most MAX_HISTORY samples", () => {
    let history = appendSample(undefined, sample(0));
    history = appendSample(history, sample(HISTORY_WINDOW_MS + 1));
    expect(history.map((s) => s.ts)).toEqual([HISTORY_WINDOW_MS + 1]);
    let many: readonly ResourceUsage[] | undefined;
    for (let i = 1; i <= MAX_HISTORY + 50; i++) many = appendSample(many, sample(i));
    expect(many).toHaveLength(MAX_HISTORY);
    expect(many?.at(-1)?.ts).toBe(MAX_HISTORY + 50);
  });

  it("puts berth's kept samples before those that came live while it was asked", () => {
    const live = [sample(11_000), sample(13_000)];
    const kept = [sample(0), sample(5_000), sample(10_000)];
    expect(mergeHistory(kept, live, 5_000).map((s) => s.ts)).toEqual([0, 5_000, 11_000, 13_000]);
    expect(mergeHistory(kept, undefined, 5_000).map((s) => s.ts)).toEqual([0, 5_000, 10_000]);
  });

  it("fills the gap a dropped connection left in the live samples with berth's kept ones, and only the gap", () => {
    const live = [sample(0), sample(2_000), sample(30_000), sample(32_000)];
    const kept = [0, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000].map((ts) => sample(ts));
    expect(mergeHistory(kept, live, 5_000).map((s) => s.ts)).toEqual([
      0, 2_000, 10_000, 15_000, 20_000, 25_000, 30_000, 32_000,
    ]);
  });
});

describe("a sparkline's points", () => {
  it("spans the window ending at the newest sample, scaled to the largest value", () => {
    const end = HISTORY_WINDOW_MS * 2;
    const points = linePoints([sample(end - HISTORY_WINDOW_MS / 2, 0), sample(end, 50)], "cpuPercent");
    expect(points).toBe("500,98 1000,2");
  });

  it("draws an idle workload's CPU as a flat line near the bottom, not noise scaled up", () => {
    const points = linePoints([sample(1000, 0.01), sample(2000, 0.02)], "cpuPercent").split(" ");
    for (const p of points) expect(Number(p.split(",")[1])).toBeGreaterThan(95);
  });
});
