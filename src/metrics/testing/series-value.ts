/**
 * The value of one series in Prometheus text (`name{labels} value`), or
 * undefined when the series is absent. Labels are matched as written, in the
 * order prom-client writes them (the metric's label names in order; `le` first
 * for buckets).
 */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
