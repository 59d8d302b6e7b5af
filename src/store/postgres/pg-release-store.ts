import type { ReleaseStatus } from "#protocol";
import { RELEASE_COLUMNS, type ReleaseRow, releaseFromRow, releaseValues } from "../rows/release-row.ts";
import type { ReleaseRecord, ReleaseStore } from "../store-ports.ts";
import type { PgDatabase } from "./pg-database.ts";

/** Release metadata in PostgreSQL; the trees themselves live on disk under `<data>/code/<id>/releases/<n>/`. */
export class PgReleaseStore implements ReleaseStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async insert(r: ReleaseRecord): Promise<void> {
    await this.#db.run(
      "r-insert",
      `INSERT INTO releases (${RELEASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      releaseValues(r),
    );
  }

  async get(containerId: string, number: number): Promise<ReleaseRecord | undefined> {
    const { rows } = await this.#db.run<ReleaseRow>(
      "r-get",
      "SELECT * FROM releases WHERE container_id = $1 AND number = $2",
      [containerId, number],
    );
    return rows[0] && releaseFromRow(rows[0]);
  }

  async list(containerId: string): Promise<ReleaseRecord[]> {
    const { rows } = await this.#db.run<ReleaseRow>(
      "r-list",
      "SELECT * FROM releases WHERE container_id = $1 ORDER BY number DESC",
      [containerId],
    );
    return rows.map(releaseFromRow);
  }

  async pending(): Promise<ReleaseRecord[]> {
    const { rows } = await this.#db.run<ReleaseRow>(
      "r-pending",
      "SELECT * FROM releases WHERE status = 'pending' ORDER BY container_id, number",
    );
    return rows.map(releaseFromRow);
  }

  async pendingOf(containerId: string): Promise<ReleaseRecord[]> {
    const { rows } = await this.#db.run<ReleaseRow>(
      "r-pending-of",
      "SELECT * FROM releases WHERE container_id = $1 AND status = 'pending' ORDER BY number",
      [containerId],
    );
    return rows.map(releaseFromRow);
  }

  async failPending(containerId: string, number: number): Promise<boolean> {
    const { rowCount } = await this.#db.run(
      "r-fail-pending",
      "UPDATE releases SET status = 'failed' WHERE container_id = $1 AND number = $2 AND status = 'pending'",
      [containerId, number],
    );
    return (rowCount ?? 0) > 0;
  }

  async nextNumber(containerId: string): Promise<number> {
    const { rows } = await this.#db.run<{ n: number }>(
      "r-next",
      "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM releases WHERE container_id = $1",
      [containerId],
    );
    return rows[0]?.n ?? 1;
  }

  async setStatus(containerId: string, number: number, status: ReleaseStatus): Promise<void> {
    await this.#db.run(
      "r-set-status",
      "UPDATE releases SET status = $3 WHERE container_id = $1 AND number = $2",
      [containerId, number, status],
    );
  }

  async delete(containerId: string, number: number): Promise<void> {
    await this.#db.run("r-delete", "DELETE FROM releases WHERE container_id = $1 AND number = $2", [
      containerId,
      number,
    ]);
  }
}
