import type { DatabaseSync } from "node:sqlite";
import type { ReleaseStatus } from "#protocol";
import { RELEASE_COLUMNS, type ReleaseRow, releaseFromRow, releaseValues } from "../rows/release-row.ts";
import type { ReleaseRecord, ReleaseStore } from "../store-ports.ts";
import { guardStorage } from "./storage-guard.ts";

/**
 * Release metadata in SQLite; the trees themselves live on disk under `<data>/code/<id>/releases/<n>/`.
 *
 * `pending` while an update is under way (a crash leaves it for start-up to
 * finish or undo); `active` is what runs; `previous` was active once and can
 * be rolled back to; `failed` never passed its gate; `rolled-back` was active
 * until a rollback replaced it.
 */
export class SqliteReleaseStore implements ReleaseStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async insert(r: ReleaseRecord): Promise<void> {
    guardStorage(() => this.#insertRow(r));
  }

  #insertRow(r: ReleaseRecord): void {
    this.#db
      .prepare(`INSERT INTO releases (${RELEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...releaseValues(r));
  }

  async get(containerId: string, number: number): Promise<ReleaseRecord | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM releases WHERE container_id = ? AND number = ?")
      .get(containerId, number) as ReleaseRow | undefined;
    return row && releaseFromRow(row);
  }

  /** Newest first. */
  async list(containerId: string): Promise<ReleaseRecord[]> {
    return (
      this.#db
        .prepare("SELECT * FROM releases WHERE container_id = ? ORDER BY number DESC")
        .all(containerId) as unknown as ReleaseRow[]
    ).map(releaseFromRow);
  }

  /** Every release left `pending`, across containers: updates a crash interrupted. */
  async pending(): Promise<ReleaseRecord[]> {
    return (
      this.#db.prepare("SELECT * FROM releases WHERE status = 'pending'").all() as unknown as ReleaseRow[]
    ).map(releaseFromRow);
  }

  /** The releases of one container left `pending`. */
  async pendingOf(containerId: string): Promise<ReleaseRecord[]> {
    return (
      this.#db
        .prepare("SELECT * FROM releases WHERE container_id = ? AND status = 'pending'")
        .all(containerId) as unknown as ReleaseRow[]
    ).map(releaseFromRow);
  }

  /** Marks a release failed only while it is still `pending` (an update may have committed it since); true when it was. */
  async failPending(containerId: string, number: number): Promise<boolean> {
    const { changes } = this.#db
      .prepare(
        "UPDATE releases SET status = 'failed' WHERE container_id = ? AND number = ? AND status = 'pending'",
      )
      .run(containerId, number);
    return Number(changes) > 0;
  }

  async nextNumber(containerId: string): Promise<number> {
    const row = this.#db
      .prepare("SELECT MAX(number) AS n FROM releases WHERE container_id = ?")
      .get(containerId) as {
      n: number | null;
    };
    return (row.n ?? 0) + 1;
  }

  async setStatus(containerId: string, number: number, status: ReleaseStatus): Promise<void> {
    this.#db
      .prepare("UPDATE releases SET status = ? WHERE container_id = ? AND number = ?")
      .run(status, containerId, number);
  }

  async delete(containerId: string, number: number): Promise<void> {
    guardStorage(() =>
      this.#db.prepare("DELETE FROM releases WHERE container_id = ? AND number = ?").run(containerId, number),
    );
  }
}
