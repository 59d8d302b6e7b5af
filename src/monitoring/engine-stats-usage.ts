import type { ResourceUsage } from "#protocol";

/**
 * Converts one stats-API answer into a sample with the formulas of the docker
 * CLI (`docker stats`), so both sources agree: CPU as the container's share
 * of the host's CPU time between `precpu_stats` and `cpu_stats`, times the
 * online CPUs; memory without inactive file pages (`total_inactive_file` on
 * v1, `inactive_file` on v2); network and block I/O summed over interfaces and
 * devices. Missing fields (a stopped container, an older engine) read as 0.
 */
export function usageFromEngineStats(raw: unknown, ts: number): ResourceUsage {
  const cpuDelta =
    num(raw, "cpu_stats", "cpu_usage", "total_usage") - num(raw, "precpu_stats", "cpu_usage", "total_usage");
  const systemDelta =
    num(raw, "cpu_stats", "system_cpu_usage") - num(raw, "precpu_stats", "system_cpu_usage");
  const onlineCpus =
    num(raw, "cpu_stats", "online_cpus") ||
    arrayAt(raw, "cpu_stats", "cpu_usage", "percpu_usage").length ||
    1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;

  const usage = num(raw, "memory_stats", "usage");
  const stats = at(raw, "memory_stats", "stats");
  const v1Inactive = at(stats, "total_inactive_file");
  const inactive = typeof v1Inactive === "number" ? v1Inactive : num(stats, "inactive_file");
  const memoryBytes = inactive < usage ? usage - inactive : usage;

  let netRxBytes = 0;
  let netTxBytes = 0;
  const networks = at(raw, "networks");
  if (isRecord(networks))
    for (const network of Object.values(networks)) {
      netRxBytes += num(network, "rx_bytes");
      netTxBytes += num(network, "tx_bytes");
    }

  let blockReadBytes = 0;
  let blockWriteBytes = 0;
  for (const entry of arrayAt(raw, "blkio_stats", "io_service_bytes_recursive")) {
    const op = at(entry, "op");
    // v1 says "Read"/"Write", v2 "read"/"write".
    if (typeof op !== "string") continue;
    if (op.toLowerCase() === "read") blockReadBytes += num(entry, "value");
    else if (op.toLowerCase() === "write") blockWriteBytes += num(entry, "value");
  }

  return {
    cpuPercent,
    memoryBytes,
    memoryLimitBytes: num(raw, "memory_stats", "limit"),
    pids: num(raw, "pids_stats", "current"),
    netRxBytes,
    netTxBytes,
    blockReadBytes,
    blockWriteBytes,
    ts,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

function num(value: unknown, ...path: string[]): number {
  const found = at(value, ...path);
  return typeof found === "number" && Number.isFinite(found) ? found : 0;
}

function arrayAt(value: unknown, ...path: string[]): unknown[] {
  const found = at(value, ...path);
  return Array.isArray(found) ? found : [];
}
