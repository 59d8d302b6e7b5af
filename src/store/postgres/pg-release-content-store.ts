import { checkedContent, type ReleaseContentRow } from "../rows/release-content-row.ts";
import { CONTENT_SWEEP_GRACE_MS, type ReleaseContentStore } from "../store-ports.ts";
import type { PgDatabase } from "./pg-database.ts";
import { NOW_MS } from "./pg-now.ts";

const FOREIGN_KEY_VIOLATION = "23503";
/** Sweeps tried at most, each failing only because a writer named a content meanwhile. */
const SWEEP_ATTEMPTS = 5;

/**
 * Releases' contents in PostgreSQL (see ReleaseContentStore). A put is one
 * `INSERT … ON CONFLICT DO UPDATE`: two API servers putting one digest at
 * once both succeed with one row (the second waits for the first's row, then
 * only moves its put time; the bytes, already stored, are not rewritten).
 * Put times are the database's clock, so the sweep's grace means the same
 * whichever server sweeps.
 */
export class PgReleaseContentStore implements ReleaseContentStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async put(digest: string, bytes: Buffer): Promise<void> {
    checkedContent(digest, bytes);
    await this.#db.run(
      "rc-put",
      `INSERT INTO release_contents (digest, bytes, size, put_at) VALUES ($1, $2, $3, ${NOW_MS})
       ON CONFLICT (digest) DO UPDATE SET put_at = EXCLUDED.put_at`,
      [digest, bytes, bytes.length],
    );
  }

  async get(digest: string): Promise<Buffer | undefined> {
    const { rows } = await this.#db.run<ReleaseContentRow>(
      "rc-get",
      "SELECT bytes FROM release_contents WHERE digest = $1",
      [digest],
    );
    return rows[0] && checkedContent(digest, rows[0].bytes);
  }

  async has(digest: string): Promise<boolean> {
    const { rowCount } = await this.#db.run("rc-has", "SELECT 1 FROM release_contents WHERE digest = $1", [
      digest,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async sweepUnreferenced(options: { graceMs?: number } = {}): Promise<number> {
    // A release row naming a content, committed after this statement's snapshot was taken (so its
    // NOT EXISTS did not see it) but before the content's row was deleted, fails the whole statement
    // on the foreign key, and nothing is dropped. The next statement sees the row: try again, a few
    // times, since each failure means a writer just named a content.
    for (let attempt = 1; ; attempt++) {
      try {
        const { rowCount } = await this.#db.run(
          "rc-sweep",
          `DELETE FROM release_contents c WHERE c.put_at <= ${NOW_MS} - $1
             AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.content_digest = c.digest)`,
          [options.graceMs ?? CONTENT_SWEEP_GRACE_MS],
        );
        return rowCount ?? 0;
      } catch (err) {
        if (attempt >= SWEEP_ATTEMPTS || (err as { code?: unknown } | null)?.code !== FOREIGN_KEY_VIOLATION) {
          throw err;
        }
      }
    }
  }
}
