/**
 * Histogram buckets, in seconds, each chosen for what it times. Prometheus
 * can only tell latencies apart at bucket bounds, so each set spans the range
 * its operation really takes, a few bounds per decade.
 */

/** A channel request: about 100 µs on an idle host, up to the 30 s default timeout. */
export const CHANNEL_REQUEST_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * A lifecycle or update operation: a stop is tens of ms, a create 0.2–0.5 s
 * with its hello, an update a few seconds; the ready timeout is 30 s, and a
 * stop may wait out its grace period (10 s by default, 600 s at most).
 */
export const OPERATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
