import type { MetaStore } from "../store-ports.ts";
import type { PgDatabase } from "./pg-database.ts";

/** Small key/value facts about this berth instance, in PostgreSQL. */
export class PgMetaStore implements MetaStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async get(key: string): Promise<string | undefined> {
    const { rows } = await this.#db.run<{ value: string }>("m-get", "SELECT value FROM meta WHERE key = $1", [
      key,
    ]);
    return rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.#db.run(
      "m-set",
      "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, value],
    );
  }

  async claim(key: string, value: string): Promise<string> {
    // DO UPDATE of nothing, so that RETURNING yields the row that won whether this insert did or not.
    const { rows } = await this.#db.run<{ value: string }>(
      "m-claim",
      "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = meta.value RETURNING value",
      [key, value],
    );
    const kept = rows[0]?.value;
    if (kept === undefined) throw new Error(`meta claim of '${key}' returned no row`);
    return kept;
  }
}
