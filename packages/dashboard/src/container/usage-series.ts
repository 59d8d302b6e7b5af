import type { ResourceUsage } from "@berth/client";
import { formatBytes, formatDuration, formatPercent } from "../format.ts";

/** How far back the charts reach: berth's own history holds 10 minutes, and the charts show no more. */
export const WINDOW_MS = 10 * 60_000;

/** At most this many samples per chart: 10 minutes at the watch's 1 s interval, with room for the history's. */
export const MAX_SAMPLES = 900;

/** How a chart's figures read: one unit per chart. */
export type Unit = "percent" | "bytes" | "bytes-per-second";

export interface ChartSeries {
  label: string;
  /** One value per time; null where there is none (a network rate needs two samples of one run). */
  values: (number | null)[];
}

/** What a chart draws: times in seconds (uPlot's x axis), and each series' values at those times. */
export interface ChartData {
  unit: Unit;
  times: number[];
  series: ChartSeries[];
  /** A fact the chart does not draw, said after its figures (the memory limit). */
  note?: string;
}

/**
 * The samples `held` with `incoming` added: by time, one per time (the
 * newest word wins), those older than `windowMs` before the newest let go,
 * and no more than MAX_SAMPLES. The history berth kept and the live watch
 * overlap when a page opens: each sample is drawn once.
 *
 * @example
 *   let samples = mergeSamples([], (await container.statsHistory()).samples);
 *   samples = mergeSamples(samples, [live]);
 */
export function mergeSamples(
  held: readonly ResourceUsage[],
  incoming: readonly ResourceUsage[],
  windowMs = WINDOW_MS,
): ResourceUsage[] {
  const byTs = new Map<number, ResourceUsage>();
  for (const sample of held) byTs.set(sample.ts, sample);
  for (const sample of incoming) byTs.set(sample.ts, sample);
  const sorted = [...byTs.values()].sort((a, b) => a.ts - b.ts);
  const newest = sorted.at(-1)?.ts ?? 0;
  const recent = sorted.filter((s) => s.ts >= newest - windowMs);
  return recent.slice(-MAX_SAMPLES);
}

const seconds = (samples: readonly ResourceUsage[]) => samples.map((s) => s.ts / 1000);

export function cpuData(samples: readonly ResourceUsage[]): ChartData {
  return {
    unit: "percent",
    times: seconds(samples),
    series: [{ label: "CPU", values: samples.map((s) => s.cpuPercent) }],
  };
}

/** Memory used; the limit is said, not drawn: on the same scale it would flatten the line of use. */
export function memoryData(samples: readonly ResourceUsage[]): ChartData {
  const limit = samples.at(-1)?.memoryLimitBytes;
  return {
    unit: "bytes",
    times: seconds(samples),
    series: [{ label: "Memory used", values: samples.map((s) => s.memoryBytes) }],
    ...(limit === undefined ? {} : { note: `limit ${formatBytes(limit)}` }),
  };
}

/**
 * Received and sent bytes per second, from berth's counters (totals since the
 * container started): the change from the sample before. None for the first
 * sample, nor where a counter went down (the container started again).
 */
export function networkData(samples: readonly ResourceUsage[]): ChartData {
  const rate = (pick: (s: ResourceUsage) => number) =>
    samples.map((sample, i) => {
      const before = samples[i - 1];
      if (!before) return null;
      const seconds = (sample.ts - before.ts) / 1000;
      const change = pick(sample) - pick(before);
      return seconds > 0 && change >= 0 ? change / seconds : null;
    });
  return {
    unit: "bytes-per-second",
    times: seconds(samples),
    series: [
      { label: "Received", values: rate((s) => s.netRxBytes) },
      { label: "Sent", values: rate((s) => s.netTxBytes) },
    ],
  };
}

export function formatValue(unit: Unit, value: number): string {
  if (unit === "percent") return formatPercent(value);
  if (unit === "bytes") return formatBytes(value);
  return `${formatBytes(value)}/s`;
}

/**
 * A chart in words, for those who cannot see its canvas: the span it covers,
 * and each series' latest value and range.
 *
 * @example
 *   describeChart(cpuData(samples));
 *   // "Over the last 2m 0s: CPU latest 3.1%, lowest 0.5%, highest 12.0%."
 */
export function describeChart(data: ChartData): string {
  const first = data.times[0];
  const last = data.times.at(-1);
  if (first === undefined || last === undefined) return "No samples yet.";
  const parts = data.series.map((series) => {
    const values = series.values.filter((v): v is number => v !== null);
    const latest = values.at(-1);
    if (latest === undefined) return `${series.label}: no value yet`;
    const format = (v: number) => formatValue(data.unit, v);
    return `${series.label} latest ${format(latest)}, lowest ${format(Math.min(...values))}, highest ${format(Math.max(...values))}`;
  });
  const note = data.note === undefined ? "" : `; ${data.note}`;
  return `Over the last ${formatDuration((last - first) * 1000)}: ${parts.join("; ")}${note}.`;
}
