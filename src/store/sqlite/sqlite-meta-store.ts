import type { DatabaseSync } from "node:sqlite";
import type { MetaStore } from "../store-ports.ts";

/** Small key/value facts about this berth instance. */
export class SqliteMetaStore implements MetaStore {
  readonly #db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    this.#db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }

  async claim(key: string, value: string): Promise<string> {
    this.#db
      .prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")
      .run(key, value);
    const kept = await this.get(key);
    if (kept === undefined) throw new Error(`meta claim of '${key}' left no row`);
    return kept;
  }
}
