import type { SystemLogger } from "../../logging/system-logger.ts";
import type { SecretCipher } from "../../secrets/secret-cipher.ts";
import type { Store } from "../store-ports.ts";
import { PgActivityStore } from "./pg-activity-store.ts";
import { PgContainerStore } from "./pg-container-store.ts";
import { PgDatabase } from "./pg-database.ts";
import { PgMetaStore } from "./pg-meta-store.ts";
import { migratePostgres } from "./pg-migrations.ts";
import { PgOwnerUsageStore } from "./pg-owner-usage-store.ts";
import { PgPlacementStore } from "./pg-placement-store.ts";
import { PgReleaseContentStore } from "./pg-release-content-store.ts";
import { PgReleaseStore } from "./pg-release-store.ts";

/**
 * Opens berth's store in PostgreSQL (BERTH_DATABASE_URL) and brings its
 * schema up to date. Rejects with STORAGE_ERROR when the server cannot be
 * reached; the URL's password never appears in what it rejects with or logs.
 *
 * @example
 *   const store = await openPostgresStore("postgres://berth:pw@db.internal/berth", cipher, log);
 *   await store.containers.get("C0123456789A");
 *   await store.close();
 */
export async function openPostgresStore(
  url: string,
  cipher: SecretCipher,
  log?: SystemLogger,
): Promise<Store> {
  const db = new PgDatabase(url, log);
  try {
    await migratePostgres(db);
  } catch (err) {
    await db.close(); // berth does not start: nothing else holds the pool
    throw err;
  }
  return {
    kind: "postgres",
    containers: new PgContainerStore(db, cipher),
    releases: new PgReleaseStore(db),
    releaseContents: new PgReleaseContentStore(db),
    activity: new PgActivityStore(db),
    meta: new PgMetaStore(db),
    usage: new PgOwnerUsageStore(db),
    placements: new PgPlacementStore(db),
    close: () => db.close(),
  };
}
