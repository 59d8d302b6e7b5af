import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { inject } from "vitest";
import "./postgres-global-setup.ts";
import { onConnection, PostgresDatabases } from "./postgres-server.ts";

/**
 * Which store the berths of a system test use: SQLite in their data
 * directory (the default), or with `BERTH_TEST_STORE=postgres` a database of
 * their own on the run's throwaway PostgreSQL server (started once by
 * test/helpers/postgres-global-setup.ts).
 *
 * The database belongs to the data directory: its name is derived from the
 * directory's path, so a berth started again on the same directory (a
 * restart, an upgrade, a crash test's second berth, in this process or a
 * spawned one) finds the same database, as it would find the same berth.db.
 */
export const TEST_STORE: "sqlite" | "postgres" =
  process.env.BERTH_TEST_STORE === "postgres" ? "postgres" : "sqlite";

let databases: PostgresDatabases | undefined;

function server(): PostgresDatabases {
  if (databases) return databases;
  const info = inject("berthPostgres");
  if (!info)
    throw new Error(
      "BERTH_TEST_STORE=postgres, but no PostgreSQL server was started: is test/helpers/postgres-global-setup.ts in vitest.config.ts's globalSetup?",
    );
  databases = new PostgresDatabases(info);
  return databases;
}

function databaseName(dataDir: string): string {
  return `berth_${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 24)}`;
}

/**
 * What to add to a berth's environment for the store under test: nothing for
 * SQLite; for PostgreSQL, BERTH_DATABASE_URL to the data directory's
 * database (made the first time).
 */
export async function storeEnvFor(dataDir: string): Promise<Record<string, string>> {
  if (TEST_STORE === "sqlite") return {};
  const name = databaseName(dataDir);
  const { url } = await server().ensureDatabase(name);
  return { BERTH_DATABASE_URL: url };
}

/** Drops the data directory's database (with the directory itself); nothing to do for SQLite. */
export async function removeStoreFor(dataDir: string): Promise<void> {
  if (TEST_STORE === "sqlite") return;
  await server().dropDatabase(databaseName(dataDir));
}

/**
 * Runs one statement (SQL both databases read alike; quote camel-case
 * aliases, which PostgreSQL would fold) on the store of the berth with this
 * data directory, as another process would — to read what a killed berth
 * left, or to set a row back as an older berth wrote it.
 */
export async function queryStore<T>(dataDir: string, sql: string): Promise<T[]> {
  if (TEST_STORE === "sqlite") {
    const db = new DatabaseSync(join(dataDir, "berth.db"));
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  }
  const { BERTH_DATABASE_URL: url } = await storeEnvFor(dataDir);
  return onConnection(url!, async (client) => (await client.query(sql)).rows as T[]);
}
