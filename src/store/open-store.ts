import type { Config } from "../config/config.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { SecretCipher } from "../secrets/secret-cipher.ts";
import { openPostgresStore } from "./postgres/postgres-store.ts";
import { openSqliteStore } from "./sqlite/sqlite-store.ts";
import type { Store } from "./store-ports.ts";

/** The path of berth's SQLite file in its data directory. */
export function sqlitePath(config: Pick<Config, "dataDir">): string {
  return `${config.dataDir}/berth.db`;
}

/**
 * Opens the store the config names, its schema brought up to date: the
 * PostgreSQL database of BERTH_DATABASE_URL when it is set, else SQLite in the
 * data directory. Secret values are sealed with `cipher`; `log` hears of what
 * the store recovers from on its own (an idle connection the server dropped).
 * The caller closes it.
 */
export async function openStore(config: Config, cipher: SecretCipher, log: SystemLogger): Promise<Store> {
  // Said once at start, so that an operator reading the log knows where berth keeps its state.
  if (config.database) {
    const store = await openPostgresStore(config.database.reveal(), cipher, log);
    log.info({ store: "postgres", url: config.database.redacted }, "store opened");
    return store;
  }
  const store = await openSqliteStore(sqlitePath(config), cipher);
  log.info({ store: "sqlite", path: sqlitePath(config) }, "store opened");
  return store;
}
