import type { PoolClient } from "pg";
import type { PgDatabase } from "./pg-database.ts";

/**
 * The schema in PostgreSQL's dialect, applied in order; `schema_version`
 * counts how many have run. Never edit a landed one. The same tables and
 * columns as the SQLite store's, with these differences:
 * - ids, owners and names compare byte by byte (`COLLATE "C"`), as in
 *   SQLite, so that paging order and uniqueness do not depend on the
 *   server's locale;
 * - times in milliseconds and byte counts are BIGINT;
 * - the spec is `json` (kept as written, so key order survives; its
 *   resources are read in SQL for quota checks);
 * - the uniqueness constraints are named, because the store maps each to
 *   its own error (NameTakenError, UidTakenError).
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE containers (
    id               TEXT COLLATE "C" PRIMARY KEY,
    owner            TEXT COLLATE "C" NOT NULL,
    name             TEXT COLLATE "C" NOT NULL,
    image            TEXT NOT NULL,
    spec             JSON NOT NULL,
    docker_id        TEXT,
    docker_name      TEXT NOT NULL,
    state            TEXT NOT NULL,
    health           TEXT NOT NULL DEFAULT 'none',
    uid              INTEGER NOT NULL CONSTRAINT containers_uid_unique UNIQUE,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    exit_code        INTEGER,
    release          INTEGER,
    restart_count    INTEGER NOT NULL DEFAULT 0,
    restart_due_at   BIGINT,
    restart_attempts INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT containers_name_unique UNIQUE (owner, name)
  );
  CREATE INDEX containers_by_owner ON containers (owner, created_at, id);
  CREATE INDEX containers_by_created ON containers (created_at, id);
  CREATE INDEX containers_by_name ON containers (name);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE activity (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts             BIGINT NOT NULL,
    owner          TEXT COLLATE "C" NOT NULL,
    level          TEXT NOT NULL,
    action         TEXT NOT NULL,
    container_id   TEXT COLLATE "C",
    container_name TEXT,
    message        TEXT NOT NULL,
    details        JSON
  );
  CREATE INDEX activity_by_owner ON activity (owner, id);
  CREATE INDEX activity_by_container ON activity (container_id, id);
  CREATE INDEX activity_by_ts ON activity (ts);
  CREATE TABLE releases (
    container_id TEXT COLLATE "C" NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    files        INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (container_id, number)
  );
  CREATE INDEX releases_pending ON releases (container_id) WHERE status = 'pending';
  `,
  // Cluster mode's placements (PgPlacementStore). A removed placement keeps its row with no node,
  // so that its generation goes on counting; the row goes with its container's.
  `
  CREATE TABLE placements (
    container_id TEXT COLLATE "C" PRIMARY KEY REFERENCES containers (id) ON DELETE CASCADE,
    node_id      TEXT COLLATE "C",
    generation   BIGINT NOT NULL CONSTRAINT placements_generation_positive CHECK (generation > 0),
    placed_at    BIGINT NOT NULL
  );
  CREATE INDEX placements_by_node ON placements (node_id, container_id) WHERE node_id IS NOT NULL;
  `,
  // Releases' contents, content-addressed (PgReleaseContentStore): one row per digest, named by the
  // releases that use it through a foreign key (a content cannot go while a row names it). The index
  // serves the sweep's "named by no release" and the key's check when a content is deleted.
  // `bytes` is compressed by PostgreSQL itself past about 2 kB (TOAST); packed releases are not.
  `
  CREATE TABLE release_contents (
    digest TEXT COLLATE "C" PRIMARY KEY,
    bytes  BYTEA NOT NULL,
    size   BIGINT NOT NULL,
    put_at BIGINT NOT NULL
  );
  ALTER TABLE releases ADD COLUMN content_digest TEXT COLLATE "C" REFERENCES release_contents (digest);
  CREATE INDEX releases_by_content ON releases (content_digest) WHERE content_digest IS NOT NULL;
  `,
  // Every change of a placement is told on the channel berth_placements (the container's id), at commit:
  // each API server keeps the placements it routes by in memory and forgets one the moment it changes
  // (cluster/placement-cache.ts), so no request waits on the database and none routes by a moved one.
  `
  CREATE FUNCTION berth_placement_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('berth_placements', COALESCE(NEW.container_id, OLD.container_id));
    RETURN NULL;
  END $$;
  CREATE TRIGGER placements_changed AFTER INSERT OR UPDATE OR DELETE ON placements
    FOR EACH ROW EXECUTE FUNCTION berth_placement_changed();
  `,
  // Every change of a container's state (and every row made or removed) is told on berth_container_states:
  // the API server that leads a cluster follows what every server's operations did (the workloads whose
  // health it watches), not only its own.
  `
  CREATE FUNCTION berth_container_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('berth_container_states', COALESCE(NEW.id, OLD.id));
    RETURN NULL;
  END $$;
  CREATE TRIGGER container_made_or_removed AFTER INSERT OR DELETE ON containers
    FOR EACH ROW EXECUTE FUNCTION berth_container_state_changed();
  CREATE TRIGGER container_state_changed AFTER UPDATE OF state ON containers
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION berth_container_state_changed();
  `,
  // Each owner's rate limits, shared by every API server on the database (cluster/pg-rate-buckets.ts): per
  // owner and kind, the theoretical arrival time of the next request (GCRA) on the database's clock.
  `
  CREATE TABLE rate_buckets (
    owner TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    tat_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (owner, kind)
  );
  `,
];

/**
 * Session-level advisory lock held while migrating: two berths starting at
 * once against one database would otherwise both see version 0 and both
 * create the tables (the second failing half-way). The key is berth's own
 * ("berth" in ASCII, then 1), so it does not collide with another
 * application's locks in a shared database.
 */
export const MIGRATION_LOCK = 0x6265727468_01;

/** Brings the schema up to date, one transaction per migration, under the migration lock. */
export async function migratePostgres(db: PgDatabase, migrations = PG_MIGRATIONS): Promise<void> {
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      // Read before anything is created: a database already up to date opens even when it is
      // read-only (a standby), and fails only on its first write.
      const { rows: found } = await client.query<{ name: string | null }>(
        "SELECT to_regclass('schema_version')::text AS name",
      );
      if (found[0]?.name == null) {
        await inTransaction(client, [
          "CREATE TABLE schema_version (version INTEGER NOT NULL)",
          "INSERT INTO schema_version (version) VALUES (0)",
        ]);
      }
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_version");
      for (let version = rows[0]?.version ?? 0; version < migrations.length; version++) {
        await inTransaction(client, [
          migrations[version]!,
          `UPDATE schema_version SET version = ${version + 1}`,
        ]);
      }
    } finally {
      // A connection that broke cannot unlock; destroying it (below) ends its session and its lock.
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    }
  } catch (err) {
    broken = err as Error;
    throw db.mapError(err);
  } finally {
    client.release(broken);
  }
}

async function inTransaction(client: PoolClient, statements: string[]): Promise<void> {
  await client.query("BEGIN");
  try {
    for (const sql of statements) await client.query(sql);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
