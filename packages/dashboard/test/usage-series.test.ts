import type { ResourceUsage } from "@berth/client";
import { describe, expect, it } from "vitest";
import {
  cpuData,
  describeChart,
  MAX_SAMPLES,
  memoryData,
  mergeSamples,
  networkData,
  WINDOW_MS,
} from "../src/container/usage-series.ts";

const sample = (ts: number, change: Partial<ResourceUsage> = {}): ResourceUsage => ({
  ts,
  cpuPercent: 1,
  memoryBytes: 1024,
  memoryLimitBytes: 4096,
  pids: 1,
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  ...change,
});

describe("the charts' samples", () => {
  it("merge the history and the live samples by time, each time once, the newer word winning", () => {
    const history = [sample(1000), sample(2000), sample(3000, { cpuPercent: 5 })];
    const merged = mergeSamples(history, [sample(3000, { cpuPercent: 7 }), sample(4000)]);
    expect(merged.map((s) => s.ts)).toEqual([1000, 2000, 3000, 4000]);
    expect(merged[2]!.cpuPercent).toBe(7);
  });

  it("keep the last ten minutes before the newest, and no more than their bound", () => {
    const old = sample(0);
    const merged = mergeSamples([old], [sample(WINDOW_MS + 1)]);
    expect(merged.map((s) => s.ts)).toEqual([WINDOW_MS + 1]);

    const many = Array.from({ length: MAX_SAMPLES + 50 }, (_, i) => sample(i));
    expect(mergeSamples([], many)).toHaveLength(MAX_SAMPLES);
    expect(mergeSamples([], many).at(-1)!.ts).toBe(MAX_SAMPLES + 49);
  });

  it("give uPlot times in seconds and one series per figure", () => {
    const samples = [sample(1000, { cpuPercent: 2 }), sample(2000, { cpuPercent: 3 })];
    expect(cpuData(samples)).toEqual({
      unit: "percent",
      times: [1, 2],
      series: [{ label: "CPU", values: [2, 3] }],
    });
    expect(memoryData(samples).series).toEqual([{ label: "Memory used", values: [1024, 1024] }]);
    expect(describeChart(memoryData(samples))).toBe(
      "Over the last 1s: Memory used latest 1.0 KiB, lowest 1.0 KiB, highest 1.0 KiB; limit 4.0 KiB.",
    );
  });

  it("turn the network counters into bytes per second, with a gap where a counter started again", () => {
    const samples = [
      sample(0, { netRxBytes: 0, netTxBytes: 0 }),
      sample(2000, { netRxBytes: 2048, netTxBytes: 100 }),
      sample(3000, { netRxBytes: 10, netTxBytes: 0 }), // the container restarted: counters from 0
      sample(4000, { netRxBytes: 1034, netTxBytes: 50 }),
    ];
    const { series } = networkData(samples);
    expect(series[0]!.values).toEqual([null, 1024, null, 1024]);
    expect(series[1]!.values).toEqual([null, 50, null, 50]);
  });

  it("say in words the span, and each series' latest value and range", () => {
    const samples = [
      sample(0, { cpuPercent: 12 }),
      sample(60_000, { cpuPercent: 0.5 }),
      sample(120_000, { cpuPercent: 3.14 }),
    ];
    expect(describeChart(cpuData(samples))).toBe(
      "Over the last 2m 0s: CPU latest 3.1%, lowest 0.5%, highest 12.0%.",
    );
    expect(describeChart(cpuData([]))).toBe("No samples yet.");
    expect(describeChart(networkData([sample(0)]))).toBe(
      "Over the last 0s: Received: no value yet; Sent: no value yet.",
    );
  });
});
