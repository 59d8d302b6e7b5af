import type { DatabaseSync, StatementSync } from "node:sqlite";
import { checkedContent, type ReleaseContentRow } from "../rows/release-content-row.ts";
import { CONTENT_SWEEP_GRACE_MS, type ReleaseContentStore } from "../store-ports.ts";
import { guardStorage } from "./storage-guard.ts";

/**
 * Releases' contents in SQLite, with PostgreSQL's semantics (see
 * ReleaseContentStore). One writer at a time: a put and a sweep never
 * interleave here.
 */
export class SqliteReleaseContentStore implements ReleaseContentStore {
  readonly #put: StatementSync;
  readonly #get: StatementSync;
  readonly #has: StatementSync;
  readonly #sweep: StatementSync;

  constructor(db: DatabaseSync) {
    // A second put keeps the row (its bytes are the same, as the digest says) and moves its put time.
    this.#put = db.prepare(
      `INSERT INTO release_contents (digest, bytes, size, put_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (digest) DO UPDATE SET put_at = excluded.put_at`,
    );
    this.#get = db.prepare("SELECT bytes FROM release_contents WHERE digest = ?");
    this.#has = db.prepare("SELECT 1 AS found FROM release_contents WHERE digest = ?");
    this.#sweep = db.prepare(
      `DELETE FROM release_contents WHERE put_at <= ?
         AND NOT EXISTS (SELECT 1 FROM releases WHERE releases.content_digest = release_contents.digest)`,
    );
  }

  async put(digest: string, bytes: Buffer): Promise<void> {
    checkedContent(digest, bytes);
    guardStorage(() => this.#put.run(digest, bytes, bytes.length, Date.now()));
  }

  async get(digest: string): Promise<Buffer | undefined> {
    const row = this.#get.get(digest) as ReleaseContentRow | undefined;
    return row && checkedContent(digest, row.bytes);
  }

  async has(digest: string): Promise<boolean> {
    return this.#has.get(digest) !== undefined;
  }

  async sweepUnreferenced(options: { graceMs?: number } = {}): Promise<number> {
    const cutoff = Date.now() - (options.graceMs ?? CONTENT_SWEEP_GRACE_MS);
    const { changes } = guardStorage(() => this.#sweep.run(cutoff));
    return Number(changes);
  }
}
