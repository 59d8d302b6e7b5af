/**
 * One resource-usage sample of a container, as clients receive it from
 * `container:stats` and the pushed `container:resource_usage`. Counters
 * (`net*`, `block*`) are totals since the container started; `cpuPercent`
 * counts the way `docker stats` does: 100 is one full core, so two busy
 * threads read about 200. `ts` is epoch ms.
 */
export interface ResourceUsage {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  pids: number;
  netRxBytes: number;
  netTxBytes: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  ts: number;
}

/**
 * The last minutes of a container's resource samples, oldest first, one per
 * `intervalMs` (berth keeps 10 minutes of them for every running container,
 * so a chart has a past the moment a page opens). Empty for a container that
 * does not run; freed when it stops, exits or is deleted.
 */
export interface StatsHistory {
  id: string;
  intervalMs: number;
  samples: ResourceUsage[];
}

/** At most this many containers in one `containers:stats_history` answer (then `truncated: true`). */
export const MAX_STATS_HISTORY_CONTAINERS = 100;

/**
 * The histories of the caller's running containers (every owner's for an
 * admin), oldest container first, at most MAX_STATS_HISTORY_CONTAINERS of
 * them; `truncated` when there were more.
 */
export interface StatsHistoryOverview {
  intervalMs: number;
  containers: Array<{ id: string; samples: ResourceUsage[] }>;
  truncated?: true;
}

/** One line of a container's output, ready for a client. */
export interface LogLine {
  stream: "stdout" | "stderr";
  /** When the engine received the line, epoch ms. */
  ts: number;
  /** Without escape sequences or raw control characters, capped in length, secrets hidden. */
  text: string;
}

/** The pushed streams that berth drops (and then counts in `container:dropped`) for a connection that reads too slowly. */
export type TelemetryStream = "logs" | "stats" | "messages";
