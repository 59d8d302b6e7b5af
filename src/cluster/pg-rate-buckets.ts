import type { SystemLogger } from "../logging/system-logger.ts";
import { PgDatabase } from "../store/postgres/pg-database.ts";
import type { SharedRateBuckets } from "./shared-rate-buckets.ts";

/** Sums of fractional milliseconds must not refuse a request by a rounding error. */
const EPSILON_MS = 1e-6;

/**
 * SharedRateBuckets in PostgreSQL's `rate_buckets` table, one row per owner
 * and kind, as GCRA (the generic cell rate algorithm, a token bucket kept as
 * one number): the theoretical arrival time `tat` of the next request. A
 * request at `now` passes when `max(tat, now) + interval - now` is within
 * `burst` intervals, and then moves `tat` on by one interval — exactly what
 * the in-memory TokenBucket lets through, in one statement that the row's
 * lock makes atomic against every other server's. `now` is the database's
 * clock, so servers whose clocks differ still share one bucket.
 */
export class PgRateBuckets implements SharedRateBuckets {
  readonly #db: PgDatabase;

  /** `connections`: of its own (default 4); each take is one short statement. */
  constructor(options: { url: string; connections?: number; log?: SystemLogger }) {
    this.#db = new PgDatabase(options.url, options.log, { max: options.connections ?? 4 });
  }

  async take(owner: string, kind: string, rate: { perMinute: number; burst: number }): Promise<number> {
    const intervalMs = 60_000 / rate.perMinute;
    const burstMs = rate.burst * intervalMs + EPSILON_MS;
    const values = [owner, kind, intervalMs, burstMs];
    const { rows } = await this.#db.run<{ taken: boolean }>(
      "rate-take",
      // A row when taken; none when the update's WHERE refused.
      `INSERT INTO rate_buckets AS b (owner, kind, tat_ms)
       SELECT $1, $2, extract(epoch FROM clock_timestamp())::float8 * 1000 + $3::float8
       ON CONFLICT (owner, kind) DO UPDATE SET tat_ms = GREATEST(b.tat_ms, EXCLUDED.tat_ms - $3::float8) + $3::float8
         WHERE GREATEST(b.tat_ms, EXCLUDED.tat_ms - $3::float8) + $3::float8 - (EXCLUDED.tat_ms - $3::float8) <= $4::float8
       RETURNING true AS taken`,
      values,
    );
    if (rows.length > 0) return 0;
    // Refused: how long until one would pass, read in a statement of its own. (Within the take's statement, a
    // row another server committed after it began is one the update waited for and saw, but a read does not.)
    const { rows: waits } = await this.#db.run<{ wait_ms: number }>(
      "rate-wait",
      `SELECT GREATEST(tat_ms, now.ms) + $3::float8 - now.ms - $4::float8 AS wait_ms
       FROM rate_buckets, (SELECT extract(epoch FROM clock_timestamp())::float8 * 1000 AS ms) AS now
       WHERE owner = $1 AND kind = $2`,
      values,
    );
    // At least 1 ms: refused is refused, however the bucket filled since.
    return Math.max(1, waits[0]?.wait_ms ?? intervalMs);
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}
