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
 * berth's kept history (`stats.history()`, oldest first, one sample per
 * `keptIntervalMs`) joined with the samples the page has from the live
 * watch: a kept sample fills only where no live one is within an interval of
 * it — before the first live sample (a page just opened), or in the gap a
 * dropped connection left — so the two samplings never zigzag together.
 */
export function mergeHistory(
  kept: readonly ResourceUsage[],
  live: readonly ResourceUsage[] | undefined,
  keptIntervalMs: number,
): readonly ResourceUsage[] {
  if (!live || live.length === 0) return trim([...kept]);
  const fill: ResourceUsage[] = [];
  let next = 0; // the first live sample at or after the kept one
  for (const s of kept) {
    while (next < live.length && live[next]!.ts < s.ts) next++;
    const before = live[next - 1]?.ts ?? Number.NEGATIVE_INFINITY;
    const after = live[next]?.ts ?? Number.POSITIVE_INFINITY;
    if (s.ts - before >= keptIntervalMs && after - s.ts >= keptIntervalMs) fill.push(s);
  }
  return trim([...fill, ...live].sort((a, b) => a.ts - b.ts));
}

function trim(samples: ResourceUsage[]): ResourceUsage[] {
  const newest = samples.at(-1)?.ts ?? 0;
  let from = Math.max(0, samples.length - MAX_HISTORY);
  while (from < samples.length && samples[from]!.ts < newest - HISTORY_WINDOW_MS) from++;
  return from === 0 ? samples : samples.slice(from);
}
