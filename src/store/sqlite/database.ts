import { chmodSync, existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "./migrations.ts";

/**
 * Opens (creating if needed) berth's SQLite file and brings its schema up to
 * date. WAL lets readers go on while a write commits; `synchronous=NORMAL` in
 * WAL mode still survives a crash of berth (only a power loss can lose the
 * last transactions), which is the trade-off every row here can afford.
 */
export function openDatabase(path: string): DatabaseSync {
  const isNew = !existsSync(path);
  const db = new DatabaseSync(path);
  if (isNew) chmodSync(path, 0o600); // holds secretEnv values: owner-only, like the data directory
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db);
  return db;
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  for (let version = row.user_version; version < MIGRATIONS.length; version++) {
    db.exec("BEGIN");
    try {
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }
}
