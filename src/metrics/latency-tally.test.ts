import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LatencyTally } from "./latency-tally.ts";
import { seriesValue } from "./testing/series-value.ts";

describe("LatencyTally", () => {
  it("writes what prom-client's own observe would have: buckets (a bound's value in its bucket), sum and count", async () => {
    const registry = new Registry();
    const buckets = [0.001, 0.01, 0.1];
    const values = [0.0005, 0.001, 0.002, 0.05, 0.5, 7];
    const byPromClient = new Histogram({ name: "a", help: "a", buckets, registers: [registry] });
    const byTally = new Histogram({ name: "b", help: "b", buckets, registers: [registry] });
    const tally = new LatencyTally(buckets, {});
    for (const v of values) {
      byPromClient.observe(v);
      tally.observe(v);
    }
    tally.writeTo(byTally);
    const text = await registry.metrics();
    for (const le of ["0.001", "0.01", "0.1", "+Inf"])
      expect(seriesValue(text, `b_bucket{le="${le}"}`)).toBe(seriesValue(text, `a_bucket{le="${le}"}`));
    expect(seriesValue(text, 'b_bucket{le="0.001"}')).toBe(2);
    expect(seriesValue(text, "b_sum")).toBeCloseTo(7.5535);
    expect(seriesValue(text, "b_count")).toBe(6);
  });

  it("writes totals, not increments: scraping twice counts nothing twice", async () => {
    const registry = new Registry();
    const histogram = new Histogram({
      name: "h",
      help: "h",
      labelNames: ["container"],
      buckets: [1],
      registers: [registry],
    });
    const tally = new LatencyTally([1], { container: "c_1" });
    tally.observe(0.5);
    tally.writeTo(histogram);
    tally.writeTo(histogram);
    tally.observe(0.5);
    tally.writeTo(histogram);
    const text = await registry.metrics();
    expect(seriesValue(text, 'h_count{container="c_1"}')).toBe(2);
    expect(seriesValue(text, 'h_bucket{le="1",container="c_1"}')).toBe(2);
  });
});
