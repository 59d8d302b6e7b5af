import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ContainerState } from "#protocol";
import type { StoredUsage } from "../../admission/container-usage.ts";
import type { OwnerUsageStore } from "../store-ports.ts";

interface Row {
  id: string;
  state: string;
  memory_mb: number | null;
  cpus: number | null;
  code_bytes: number;
}

/**
 * What each of an owner's containers holds, as the store records it: state,
 * the resources its spec asks for, and the bytes of every release kept on
 * disk. One indexed query per quota check (on `containers_by_owner` and the
 * releases' primary key); the spec's JSON is read in SQLite, not parsed here.
 */
export class SqliteOwnerUsageStore implements OwnerUsageStore {
  readonly #byOwner: StatementSync;

  constructor(db: DatabaseSync) {
    this.#byOwner = db.prepare(
      `SELECT c.id, c.state,
              json_extract(c.spec, '$.resources.memoryMb') AS memory_mb,
              json_extract(c.spec, '$.resources.cpus') AS cpus,
              (SELECT COALESCE(SUM(r.bytes), 0) FROM releases r WHERE r.container_id = c.id) AS code_bytes
         FROM containers c WHERE c.owner = ?`,
    );
  }

  async containersOf(owner: string): Promise<StoredUsage[]> {
    return (this.#byOwner.all(owner) as unknown as Row[]).map((row) => ({
      id: row.id,
      state: row.state as ContainerState,
      memoryMb: row.memory_mb,
      cpus: row.cpus,
      codeBytes: row.code_bytes,
    }));
  }
}
