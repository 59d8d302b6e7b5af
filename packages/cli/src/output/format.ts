/**
 * Short human forms of times and sizes, as `docker ps` and `docker stats`
 * show them.
 */

/** `3 seconds`, `5 minutes`, `2 hours`, `4 days`. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return plural(s, "second");
  const m = Math.floor(s / 60);
  if (m < 60) return plural(m, "minute");
  const h = Math.floor(m / 60);
  if (h < 48) return plural(h, "hour");
  return plural(Math.floor(h / 24), "day");
}

/** `Up 5 minutes` from a ContainerInfo's `startedAt`, or `-` for a container that is not running (`null`). */
export function formatUptime(startedAt: number | null | undefined, now: number): string {
  return startedAt == null ? "-" : `Up ${formatSpan(now - startedAt)}`;
}

/** `5 minutes ago`. */
export function formatAgo(ts: number, now: number): string {
  return `${formatSpan(now - ts)} ago`;
}

/** Milliseconds as `850 ms` or `1.2 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Bytes in binary units as docker shows them: `512B`, `1.5KiB`, `12.3MiB`, `1GiB`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value).toString() : trimZeros(value.toFixed(1));
  return `${shown}${units[unit]}`;
}

/** An ISO-8601 time in UTC, to the second: `2026-12-01T16:05:17Z`. */
export function formatTime(ts: number): string {
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function trimZeros(text: string): string {
  return text.replace(/\.0$/, "");
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}
