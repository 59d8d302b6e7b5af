import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { PostgresDatabases } from "./postgres-server.ts";
import { startTestServer, type TestServer } from "./test-server.ts";

export interface ServersOnOneDatabase {
  servers: TestServer[];
  /** The database's URL (BERTH_DATABASE_URL). */
  databaseUrl: string;
  /** Closes every server, drops the database and removes the key; every step tried, the failures thrown together. */
  close: () => Promise<void>;
}

/**
 * `count` berth API servers on one fresh PostgreSQL database of this run's
 * server (BERTH_TEST_STORE=postgres), on this machine's one engine, each with
 * its own instance id and the one key for secrets at rest that every server
 * sharing a database has; `env` added to each. They all start before any
 * container exists (see fan-out.test.ts: a server started later would take
 * the others' containers for missing).
 */
export async function serversOnOneDatabase(
  count: number,
  env: Record<string, string> = {},
): Promise<ServersOnOneDatabase> {
  const info = inject("berthPostgres");
  if (!info) throw new Error("no PostgreSQL server for this run");
  const database = await new PostgresDatabases(info).freshDatabase();
  const keyDir = await mkdtemp(join(tmpdir(), "bt-key-"));
  const servers: TestServer[] = [];
  const close = async () => {
    const steps = [
      ...servers.map((server) => () => server.close()),
      () => database.drop(),
      () => rm(keyDir, { recursive: true, force: true }),
    ];
    const failures: unknown[] = [];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((err: unknown) => failures.push(err));
    if (failures.length > 0)
      throw new AggregateError(failures, "could not clean up the servers on one database");
  };
  try {
    const shared = {
      BERTH_DATABASE_URL: database.url,
      BERTH_SECRET_KEY_FILE: join(keyDir, "secret.key"),
      ...env,
    };
    for (let i = 0; i < count; i++) servers.push(await startTestServer(shared));
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  return { servers, databaseUrl: database.url, close };
}
