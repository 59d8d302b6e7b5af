import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../../test/helpers/postgres-server.ts";
import { packRelease } from "../../code/pack-release.ts";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import type { Store } from "../store-ports.ts";
import { PgDatabase } from "./pg-database.ts";
import { migratePostgres, PG_MIGRATIONS } from "./pg-migrations.ts";
import { openPostgresStore } from "./postgres-store.ts";

// What the shared contract (postgres-store.test.ts) cannot arrange: two API servers' puts reaching
// PostgreSQL at the same moment, and a database made before release contents were kept.
let server: PostgresServer;
let database: FreshDatabase;
const cipher = new SecretCipher(KeyRing.ephemeral());

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  database = await server.freshDatabase();
});
afterEach(async () => {
  await database.drop();
});

const content = (text: string) =>
  packRelease([{ path: "index.js", kind: "file", mode: 0o644, content: Buffer.from(text) }]);

async function rowsOf(digest: string): Promise<number> {
  const { rows } = await onConnection(database.url, (c) =>
    c.query<{ n: string }>("SELECT count(*) AS n FROM release_contents WHERE digest = $1", [digest]),
  );
  return Number(rows[0]?.n);
}

describe("release contents on PostgreSQL, two API servers at the same moment", () => {
  let servers: Store[];
  beforeEach(async () => {
    servers = [await openPostgresStore(database.url, cipher), await openPostgresStore(database.url, cipher)];
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("put one digest: both succeed, and there is one row", async () => {
    for (let round = 0; round < 3; round++) {
      const x = content(`round ${round}`);
      const outcomes = await onConnection(database.url, async (holder) => {
        // Writes wait on the table (reads go on), so that both inserts reach it, then go at once.
        await holder.query("BEGIN");
        await holder.query("LOCK TABLE release_contents IN EXCLUSIVE MODE");
        const racing = Promise.allSettled(servers.map((s) => s.releaseContents.put(x.digest, x.bytes)));
        await eventually(5_000, "both puts wait for the table", async () => {
          const { rows } = await holder.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE relation = 'release_contents'::regclass AND NOT granted",
          );
          return Number(rows[0]?.n) === 2;
        });
        await holder.query("COMMIT");
        return racing;
      });
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
      expect(await rowsOf(x.digest)).toBe(1);
      expect(await servers[1]!.releaseContents.get(x.digest)).toEqual(x.bytes);
    }
  });
});

describe("a sweep on PostgreSQL while a release row comes to name a content", () => {
  it("keeps the content the row names, and the row stands", async () => {
    const store = await openPostgresStore(database.url, cipher);
    try {
      await insertContainer(database.url);
      const x = content("named at the last moment");
      const other = content("named by nothing");
      await store.releaseContents.put(x.digest, x.bytes);
      await store.releaseContents.put(other.digest, other.bytes);
      const swept = await onConnection(database.url, async (writer) => {
        // The row is written (its key check holds the content's row) but not yet committed: the sweep
        // does not see it, finds the content named by nothing, and waits for that row.
        await writer.query("BEGIN");
        await writer.query(
          `INSERT INTO releases (container_id, number, status, created_at, created_by, bytes, files, hash, content_digest)
           VALUES ('C1', 1, 'pending', 2000, 'alice', 10, 1, 'h1', $1)`,
          [x.digest],
        );
        const sweeping = store.releaseContents.sweepUnreferenced({ graceMs: 0 });
        await eventually(5_000, "the sweep waits for the row being written", async () => {
          const { rows } = await writer.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE NOT granted",
          );
          return Number(rows[0]?.n) > 0;
        });
        await writer.query("COMMIT");
        return sweeping;
      });
      expect(await store.releaseContents.has(x.digest)).toBe(true);
      expect(await store.releaseContents.has(other.digest)).toBe(false);
      expect(swept).toBe(1);
      expect(await store.releases.get("C1", 1)).toMatchObject({ contentDigest: x.digest });
    } finally {
      await store.close();
    }
  });
});

describe("a database made before release contents were kept", () => {
  it("migrates with its releases naming no content, and takes contents from then on", async () => {
    const before = PG_MIGRATIONS.findIndex((m) => m.includes("release_contents"));
    expect(before).toBeGreaterThan(0);
    const db = new PgDatabase(database.url);
    try {
      await migratePostgres(db, PG_MIGRATIONS.slice(0, before));
    } finally {
      await db.close();
    }
    await insertContainer(database.url);
    await onConnection(database.url, async (c) => {
      await c.query(
        `INSERT INTO releases (container_id, number, status, created_at, created_by, bytes, files, hash)
         VALUES ('C1', 1, 'active', 2000, 'alice', 10, 1, 'h1')`,
      );
    });
    const store = await openPostgresStore(database.url, cipher);
    try {
      expect(await store.releases.get("C1", 1)).toMatchObject({ number: 1, contentDigest: null });
      const x = content("next");
      await store.releaseContents.put(x.digest, x.bytes);
      await store.releases.insert({
        containerId: "C1",
        number: 2,
        status: "pending",
        createdAt: 3000,
        createdBy: "alice",
        bytes: 4,
        files: 1,
        hash: "h2",
        contentDigest: x.digest,
      });
      expect((await store.releases.list("C1")).map((r) => r.contentDigest)).toEqual([x.digest, null]);
    } finally {
      await store.close();
    }
  });
});

/** Container C1's row, written as any schema since the first has it. */
async function insertContainer(url: string): Promise<void> {
  await onConnection(url, (c) =>
    c.query(
      `INSERT INTO containers (id, owner, name, image, spec, docker_name, state, uid, created_at)
       VALUES ('C1', 'alice', 'web', 'berth/runtime-node:24', '{"name":"web"}', 'berth-C1', 'running', 200001, 1000)`,
    ),
  );
}
