import type { Histogram } from "prom-client";

/** prom-client 15's storage of one histogram series (lib/histogram.js): counts per bucket, keyed by upper bound. */
interface StoredSeries {
  labels: object;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * One histogram series' counts, kept in a typed array on the hot path and
 * written into prom-client's histogram when it is scraped — so that
 * prom-client still writes the exposition, but a channel request costs a few
 * ns here instead of the ~120 ns of prom-client's `observe`, which allocates
 * and builds the series' key on every call (bench: metrics, where berth's
 * whole CPU time per request is some 20 µs). The totals are cumulative: each
 * scrape writes them again, never adds them twice.
 *
 * prom-client has no public way to add many observations at once, so
 * `writeTo` sets the series' stored values itself; the unit tests read the
 * buckets, sum and count back through the exposition, and fail if a
 * prom-client release stores them otherwise.
 */
export class LatencyTally {
  readonly #bounds: readonly number[];
  /** One count per bucket; an observation above the last bound counts in `count` only, as prom-client does. */
  readonly #counts: Float64Array;
  readonly #labels: Record<string, string>;
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[], labels: Record<string, string>) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length);
    this.#labels = labels;
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += value;
    this.#count++;
  }

  /** Sets `histogram`'s series for this tally's labels to the totals so far. */
  writeTo(histogram: Histogram<string>): void {
    // zero() makes the series afresh, holding this very labels object: that is how it is found again.
    histogram.zero(this.#labels);
    const stored = (histogram as unknown as { hashMap: Record<string, StoredSeries> }).hashMap;
    const series = Object.values(stored).find((s) => s.labels === this.#labels);
    if (series === undefined)
      throw new Error("prom-client stores histograms otherwise now: see latency-tally.ts");
    this.#bounds.forEach((bound, i) => {
      series.bucketValues[bound] = this.#counts[i] as number;
    });
    series.sum = this.#sum;
    series.count = this.#count;
  }
}
