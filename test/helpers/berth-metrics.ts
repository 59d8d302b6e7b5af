import { seriesValue } from "../../src/metrics/testing/series-value.ts";

/** The figures of berth's /metrics a load test follows (docs/metrics.md). */
export interface MetricsReading {
  rssBytes: number;
  /** p99 of the event-loop delay since berth started (prom-client's histogram is never reset). */
  eventLoopLagP99Seconds: number;
  /** Timers keeping berth's event loop alive (`nodejs_active_resources{type="Timeout"}`). */
  timers: number;
  handles: number;
  openFds: number;
  connectedClients: number;
  connectedWorkloads: number;
  /** Listeners on berth's own emitters (`berth_listeners`). */
  listeners: number;
}

/** Scrapes berth's /metrics with the admin's token (no handshake limit must be in the way). */
export async function readMetrics(url: string, adminToken: string): Promise<MetricsReading> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  const value = (series: string): number => {
    const v = seriesValue(text, series);
    if (v === undefined) throw new Error(`no ${series} in /metrics`);
    return v;
  };
  return {
    rssBytes: value("process_resident_memory_bytes"),
    eventLoopLagP99Seconds: value("nodejs_eventloop_lag_p99_seconds"),
    timers: seriesValue(text, 'nodejs_active_resources{type="Timeout"}') ?? 0,
    handles: value("nodejs_active_handles_total"),
    openFds: value("process_open_fds"),
    connectedClients: value("berth_connected_clients"),
    connectedWorkloads: value("berth_connected_workloads"),
    listeners: value("berth_listeners"),
  };
}
