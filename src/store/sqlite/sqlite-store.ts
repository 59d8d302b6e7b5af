import type { DatabaseSync } from "node:sqlite";
import type { SecretCipher } from "../../secrets/secret-cipher.ts";
import type { Store } from "../store-ports.ts";
import { openDatabase } from "./database.ts";
import { SqliteActivityStore } from "./sqlite-activity-store.ts";
import { SqliteContainerStore } from "./sqlite-container-store.ts";
import { SqliteMetaStore } from "./sqlite-meta-store.ts";
import { SqliteOwnerUsageStore } from "./sqlite-owner-usage-store.ts";
import { SqlitePlacementStore } from "./sqlite-placement-store.ts";
import { SqliteReleaseContentStore } from "./sqlite-release-content-store.ts";
import { SqliteReleaseStore } from "./sqlite-release-store.ts";

/**
 * Opens (creating and migrating if needed) berth's SQLite file as a Store.
 * Secret values are sealed with `cipher`; see openSecretsAtRest for where it
 * comes from.
 *
 * @example
 * const store = openSqliteStore(`${dataDir}/berth.db`, cipher);
 * const record = await store.containers.get(id);
 * await store.close();
 */
export function openSqliteStore(path: string, cipher: SecretCipher): Store {
  return new SqliteStore(openDatabase(path), cipher);
}

class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly containers: SqliteContainerStore;
  readonly releases: SqliteReleaseStore;
  readonly releaseContents: SqliteReleaseContentStore;
  readonly activity: SqliteActivityStore;
  readonly meta: SqliteMetaStore;
  readonly usage: SqliteOwnerUsageStore;
  readonly placements: SqlitePlacementStore;
  readonly #db: DatabaseSync;
  #closed = false;

  constructor(db: DatabaseSync, cipher: SecretCipher) {
    this.#db = db;
    this.containers = new SqliteContainerStore(db, cipher);
    this.releases = new SqliteReleaseStore(db);
    this.releaseContents = new SqliteReleaseContentStore(db);
    this.activity = new SqliteActivityStore(db);
    this.meta = new SqliteMetaStore(db);
    this.usage = new SqliteOwnerUsageStore(db);
    this.placements = new SqlitePlacementStore(db);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
