import type { ContainerState } from "#protocol";
import type { StoredUsage } from "../../admission/container-usage.ts";
import type { OwnerUsageStore } from "../store-ports.ts";
import type { PgDatabase } from "./pg-database.ts";

interface Row {
  id: string;
  state: string;
  memory_mb: number | null;
  cpus: number | null;
  code_bytes: number;
}

/**
 * What each of an owner's containers holds, in one query per quota check
 * (on `containers_by_owner` and the releases' primary key): the spec's
 * resources are read from its JSON in SQL, not parsed (or unsealed) here.
 */
export class PgOwnerUsageStore implements OwnerUsageStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async containersOf(owner: string): Promise<StoredUsage[]> {
    const { rows } = await this.#db.run<Row>(
      "u-of-owner",
      `SELECT c.id, c.state,
              (c.spec -> 'resources' ->> 'memoryMb')::float8 AS memory_mb,
              (c.spec -> 'resources' ->> 'cpus')::float8 AS cpus,
              (SELECT COALESCE(SUM(r.bytes), 0) FROM releases r WHERE r.container_id = c.id) AS code_bytes
         FROM containers c WHERE c.owner = $1`,
      [owner],
    );
    return rows.map((row) => ({
      id: row.id,
      state: row.state as ContainerState,
      memoryMb: row.memory_mb,
      cpus: row.cpus,
      codeBytes: row.code_bytes,
    }));
  }
}
