import type { ResourceUsage } from "@berth/client";

/** How far back a sparkline reaches: "the last minutes", long enough to see a trend, short enough to stay small. */
export const HISTORY_WINDOW_MS = 5 * 60_000;

/** At most this many samples per row, whatever the intervals: 200 rows stay a few hundred KiB. */
export const MAX_HISTORY = 200;

/**
 * `history` with `sample` at its end: a sample no newer than the last is
 * left out (a tick repeated after a reconnect), and samples older than the
 * window before the newest are dropped. A new array: rows are compared by
 * identity, so an unchanged history keeps its drawn line.
 */
export function appendSample(
  history: readonly ResourceUsage[] | undefined,
  sample: ResourceUsage,
): readonly ResourceUsage[] {
  const last = history?.at(-1);
  if (history && last && sample.ts <= last.ts) return history;
  return trim([...(history ?? []), sample]);
}

/**
 * berth's kept history (`stats.history()`, oldest first) joined with the
 * samples that came live while it was asked for: the kept ones before the
 * first live one, then the live ones.
 */
export function mergeHistory(
  kept: readonly ResourceUsage[],
  live: readonly ResourceUsage[] | undefined,
): readonly ResourceUsage[] {
  const firstLive = live?.[0]?.ts ?? Number.POSITIVE_INFINITY;
  return trim([...kept.filter((s) => s.ts < firstLive), ...(live ?? [])]);
}

function trim(samples: ResourceUsage[]): ResourceUsage[] {
  const newest = samples.at(-1)?.ts ?? 0;
  let from = Math.max(0, samples.length - MAX_HISTORY);
  while (from < samples.length && samples[from]!.ts < newest - HISTORY_WINDOW_MS) from++;
  return from === 0 ? samples : samples.slice(from);
}
