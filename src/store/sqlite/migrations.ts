/** Schema migrations, applied in order; PRAGMA user_version counts how many have run. Never edit a landed one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE containers (
    id           TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    image        TEXT NOT NULL,
    spec         TEXT NOT NULL,
    docker_id    TEXT,
    docker_name  TEXT NOT NULL,
    state        TEXT NOT NULL,
    health       TEXT NOT NULL DEFAULT 'none',
    uid          INTEGER NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    exit_code    INTEGER,
    release      INTEGER,
    UNIQUE (owner, name)
  );
  CREATE INDEX containers_by_owner ON containers (owner, created_at, id);
  CREATE INDEX containers_by_created ON containers (created_at, id);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  `
  CREATE TABLE activity (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    ts             INTEGER NOT NULL,
    owner          TEXT NOT NULL,
    level          TEXT NOT NULL,
    action         TEXT NOT NULL,
    container_id   TEXT,
    container_name TEXT,
    message        TEXT NOT NULL,
    details        TEXT
  );
  CREATE INDEX activity_by_owner ON activity (owner, id);
  CREATE INDEX activity_by_container ON activity (container_id, id);
  CREATE INDEX activity_by_ts ON activity (ts);
  `,
  `
  CREATE TABLE releases (
    container_id TEXT NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    bytes        INTEGER NOT NULL,
    files        INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (container_id, number)
  );
  `,
  `
  ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
  `,
  `
  ALTER TABLE containers ADD COLUMN restart_due_at INTEGER;
  ALTER TABLE containers ADD COLUMN restart_attempts INTEGER NOT NULL DEFAULT 0;
  `,
  // Placements (SqlitePlacementStore): the same table as PostgreSQL's. A removed placement keeps its
  // row with no node, so that its generation goes on counting; the row goes with its container's.
  `
  CREATE TABLE placements (
    container_id TEXT PRIMARY KEY REFERENCES containers (id) ON DELETE CASCADE,
    node_id      TEXT,
    generation   INTEGER NOT NULL CHECK (generation > 0),
    placed_at    INTEGER NOT NULL
  );
  CREATE INDEX placements_by_node ON placements (node_id, container_id) WHERE node_id IS NOT NULL;
  `,
  // Releases' contents, content-addressed (SqliteReleaseContentStore): the same tables as PostgreSQL's.
  // A release row names its content by a foreign key, so a content cannot go while a row names it.
  `
  CREATE TABLE release_contents (
    digest TEXT PRIMARY KEY,
    bytes  BLOB NOT NULL,
    size   INTEGER NOT NULL,
    put_at INTEGER NOT NULL
  );
  ALTER TABLE releases ADD COLUMN content_digest TEXT REFERENCES release_contents (digest);
  CREATE INDEX releases_by_content ON releases (content_digest) WHERE content_digest IS NOT NULL;
  `,
];
