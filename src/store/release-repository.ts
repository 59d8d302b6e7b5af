import type { DatabaseSync } from "node:sqlite";
import type { ReleaseStatus } from "#protocol";
import { guardStorage } from "./storage-guard.ts";

/**
 * `pending` while an update is under way (a crash leaves it for start-up to
 * finish or undo); `active` is what runs; `previous` was active once and can
 * be rolled back to; `failed` never passed its gate; `rolled-back` was active
 * until a rollback replaced it.
 */

export interface ReleaseRecord {
  containerId: string;
  number: number;
  status: ReleaseStatus;
  createdAt: number;
  createdBy: string;
  bytes: number;
  files: number;
  hash: string;
}

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

/** Release metadata; the trees themselves live on disk under `<data>/code/<id>/releases/<n>/`. */
export class ReleaseRepository {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  insert(r: ReleaseRecord): void {
    guardStorage(() => this.#insertRow(r));
  }

  #insertRow(r: ReleaseRecord): void {
    this.#db
      .prepare(
        "INSERT INTO releases (container_id, number, status, created_at, created_by, bytes, files, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(r.containerId, r.number, r.status, r.createdAt, r.createdBy, r.bytes, r.files, r.hash);
  }

  get(containerId: string, number: number): ReleaseRecord | undefined {
    const row = this.#db
      .prepare("SELECT * FROM releases WHERE container_id = ? AND number = ?")
      .get(containerId, number) as Row | undefined;
    return row && fromRow(row);
  }

  /** Newest first. */
  list(containerId: string): ReleaseRecord[] {
    return (
      this.#db
        .prepare("SELECT * FROM releases WHERE container_id = ? ORDER BY number DESC")
        .all(containerId) as unknown as Row[]
    ).map(fromRow);
  }

  /** Every release left `pending`, across containers: updates a crash interrupted. */
  pending(): ReleaseRecord[] {
    return (
      this.#db.prepare("SELECT * FROM releases WHERE status = 'pending'").all() as unknown as Row[]
    ).map(fromRow);
  }

  /** The releases of one container left `pending`. */
  pendingOf(containerId: string): ReleaseRecord[] {
    return (
      this.#db
        .prepare("SELECT * FROM releases WHERE container_id = ? AND status = 'pending'")
        .all(containerId) as unknown as Row[]
    ).map(fromRow);
  }

  /** Marks a release failed only while it is still `pending` (an update may have committed it since); true when it was. */
  failPending(containerId: string, number: number): boolean {
    const { changes } = this.#db
      .prepare(
        "UPDATE releases SET status = 'failed' WHERE container_id = ? AND number = ? AND status = 'pending'",
      )
      .run(containerId, number);
    return Number(changes) > 0;
  }

  nextNumber(containerId: string): number {
    const row = this.#db
      .prepare("SELECT MAX(number) AS n FROM releases WHERE container_id = ?")
      .get(containerId) as {
      n: number | null;
    };
    return (row.n ?? 0) + 1;
  }

  setStatus(containerId: string, number: number, status: ReleaseStatus): void {
    this.#db
      .prepare("UPDATE releases SET status = ? WHERE container_id = ? AND number = ?")
      .run(status, containerId, number);
  }

  delete(containerId: string, number: number): void {
    guardStorage(() =>
      this.#db.prepare("DELETE FROM releases WHERE container_id = ? AND number = ?").run(containerId, number),
    );
  }

  /** Runs `fn` in one transaction: the statuses of a switch change together or not at all. */
  transaction(fn: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
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
