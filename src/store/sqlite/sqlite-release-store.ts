import type { DatabaseSync } from "node:sqlite";
import type { ReleaseStatus } from "#protocol";
import type { ReleaseRecord, ReleaseStore } from "../store-ports.ts";
import { guardStorage } from "./storage-guard.ts";

interface Row {
  container_id: string;
  number: number;
  status: string;
  created_at: number;
  created_by: string;
  bytes: number;
  files: number;
  hash: string;
}

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
      .prepare(
        "INSERT INTO releases (container_id, number, status, created_at, created_by, bytes, files, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(r.containerId, r.number, r.status, r.createdAt, r.createdBy, r.bytes, r.files, r.hash);
  }

  async get(containerId: string, number: number): Promise<ReleaseRecord | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM releases WHERE container_id = ? AND number = ?")
      .get(containerId, number) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first. */
  async list(containerId: string): Promise<ReleaseRecord[]> {
    return (
      this.#db
        .prepare("SELECT * FROM releases WHERE container_id = ? ORDER BY number DESC")
        .all(containerId) as unknown as Row[]
    ).map(fromRow);
  }

  /** Every release left `pending`, across containers: updates a crash interrupted. */
  async pending(): Promise<ReleaseRecord[]> {
    return (
      this.#db.prepare("SELECT * FROM releases WHERE status = 'pending'").all() as unknown as Row[]
    ).map(fromRow);
  }

  /** The releases of one container left `pending`. */
  async pendingOf(containerId: string): Promise<ReleaseRecord[]> {
    return (
      this.#db
        .prepare("SELECT * FROM releases WHERE container_id = ? AND status = 'pending'")
        .all(containerId) as unknown as Row[]
    ).map(fromRow);
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

function fromRow(row: Row): ReleaseRecord {
  return {
    containerId: row.container_id,
    number: row.number,
    status: row.status as ReleaseStatus,
    createdAt: row.created_at,
    createdBy: row.created_by,
    bytes: row.bytes,
    files: row.files,
    hash: row.hash,
  };
}
