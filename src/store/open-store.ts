import type { Config } from "../config/config.ts";
import type { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "./sqlite/sqlite-store.ts";
import type { Store } from "./store-ports.ts";

/** The path of berth's SQLite file in its data directory. */
export function sqlitePath(config: Pick<Config, "dataDir">): string {
  return `${config.dataDir}/berth.db`;
}

/**
 * Opens the store the config names, its schema brought up to date: SQLite in
 * the data directory (the only one so far). Secret values are sealed with
 * `cipher`. The caller closes it.
 */
export async function openStore(config: Config, cipher: SecretCipher): Promise<Store> {
  return openSqliteStore(sqlitePath(config), cipher);
}
