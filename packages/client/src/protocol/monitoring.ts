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
