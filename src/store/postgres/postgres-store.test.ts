import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  type PostgresServer,
  startPostgresServer,
} from "../../../test/helpers/postgres-server.ts";
import { StorageError } from "../../errors/errors.ts";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { SecretKeyError } from "../../secrets/secret-key-error.ts";
import type { Store } from "../store-ports.ts";
import { describeStoreContract } from "../testing/store-contract.ts";
import { ACTIVITY_LOCK, PgActivityStore } from "./pg-activity-store.ts";
import { PgDatabase } from "./pg-database.ts";
import { asPgStorageError } from "./pg-errors.ts";
import { rotatePostgresSecretKey } from "./postgres-rotate-secret-key.ts";
import { openPostgresSecretsAtRest } from "./postgres-secrets-at-rest.ts";
import { openPostgresStore } from "./postgres-store.ts";

// One throwaway server for the file (Debian's PostgreSQL, see test/helpers/postgres-server.ts),
// a database of its own for every test.
let server: PostgresServer;
const cipher = new SecretCipher(KeyRing.ephemeral());
const urls = new WeakMap<Store, string>();

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** A store on a fresh database, dropped when the store closes. */
async function freshStore(): Promise<Store & { database: FreshDatabase }> {
  const database = await server.freshDatabase();
  const store = await openPostgresStore(database.url, cipher);
  const wrapped = {
    ...store,
    database,
    close: async () => {
      await store.close();
      await database.drop();
    },
  };
  urls.set(wrapped, database.url);
  return wrapped;
}

/** Runs `fn` on a connection of its own to the database at `url` (what another berth, or psql, would do). */
async function onConnection<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describeStoreContract("PostgreSQL", {
  open: freshStore,
  async rawSpec(store, id) {
    const url = urls.get(store);
    if (!url) throw new Error("not a store of this file");
    return onConnection(url, async (client) => {
      const { rows } = await client.query<{ spec: string }>(
        "SELECT spec::text AS spec FROM containers WHERE id = $1",
        [id],
      );
      if (!rows[0]) throw new Error(`no row for ${id}`);
      return rows[0].spec;
    });
  },
});

describe("the PostgreSQL store", () => {
  let store: Store & { database: FreshDatabase };
  beforeEach(async () => {
    store = await freshStore();
  });
  afterEach(async () => {
    await store.close();
  });

  it("never makes an entry visible after one with a larger id, even when the smaller one commits last", async () => {
    // Entry A is inserted in a transaction held open; B is inserted meanwhile. With ids from a bare
    // sequence, B would commit first with the larger id, and a client catching up with afterId = B
    // would never see A. Under the activity lock B takes its id only once A has committed.
    const db = new PgDatabase(store.database.url);
    try {
      let visibleWhileAOpen: number[] = [];
      let b: Promise<{ id: number }> | undefined;
      const a = await db.transaction(async (tx) => {
        const entry = await new PgActivityStore(db, tx).insert(
          { owner: "alice", level: "info", action: "test", message: "A" },
          1,
        );
        b = store.activity.insert({ owner: "alice", level: "info", action: "test", message: "B" }, 2);
        let bDone = false;
        void b.then(() => {
          bDone = true;
        });
        // Until B has either committed or is waiting for the lock A holds.
        await eventually(
          5_000,
          "B committed or waiting for A",
          async () => bDone || (await waitingForActivityLock(db)),
        );
        visibleWhileAOpen = (await store.activity.history({ owner: undefined, limit: 10 })).map((e) => e.id);
        return entry;
      });
      const later = await within(5_000, "B committed once A did", b!);
      const final = (await store.activity.history({ owner: undefined, limit: 10 })).map((e) => e.id);
      expect(final).toEqual([a.id, later.id]);
      // What a reader saw at any moment is where the final order begins: nothing was skipped.
      expect(final.slice(0, visibleWhileAOpen.length)).toEqual(visibleWhileAOpen);
    } finally {
      await db.close();
    }
  });

  it("lets two berths starting at once migrate one database without a race", async () => {
    const database = await server.freshDatabase();
    try {
      const both = await Promise.all([
        openPostgresStore(database.url, cipher),
        openPostgresStore(database.url, cipher),
      ]);
      await both[0].meta.set("k", "v");
      expect(await both[1].meta.get("k")).toBe("v");
      await Promise.all(both.map((s) => s.close()));
      const version = await onConnection(database.url, (c) => c.query("SELECT version FROM schema_version"));
      expect(version.rows).toEqual([{ version: 1 }]);
    } finally {
      await database.drop();
    }
  });

  it("reads from a read-only database, and fails its writes with STORAGE_ERROR (25006)", async () => {
    await server.admin((c) =>
      c.query(`ALTER DATABASE ${store.database.name} SET default_transaction_read_only = on`),
    );
    const readOnly = await openPostgresStore(store.database.url, cipher);
    try {
      expect(await readOnly.containers.all()).toEqual([]);
      const write = readOnly.meta.set("k", "v");
      await expect(write).rejects.toBeInstanceOf(StorageError);
      await expect(write).rejects.toMatchObject({
        code: "STORAGE_ERROR",
        details: { reason: expect.stringContaining("25006") },
      });
    } finally {
      await readOnly.close();
    }
  });

  it("fails a statement whose connection is cut with STORAGE_ERROR, and goes on with a new connection", async () => {
    // The admin holds the activity lock, so the store's insert waits on the server; then its backend is ended.
    await onConnection(store.database.url, async (admin) => {
      await admin.query("BEGIN");
      await admin.query("SELECT pg_advisory_xact_lock($1)", [ACTIVITY_LOCK]);
      const insert = store.activity.insert({ owner: "alice", level: "info", action: "t", message: "cut" }, 1);
      const failed = expect(insert).rejects.toMatchObject({ code: "STORAGE_ERROR" });
      await eventually(5_000, "the insert waits for the lock", async () => {
        const { rows } = await admin.query(
          "SELECT pg_terminate_backend(pid) AS ended FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        );
        return rows.length > 0;
      });
      await failed;
      await admin.query("ROLLBACK");
    });
    const after = await store.activity.insert(
      { owner: "alice", level: "info", action: "t", message: "next" },
      2,
    );
    expect((await store.activity.history({ owner: "alice", limit: 5 })).map((e) => e.id)).toEqual([after.id]);
  });

  it("fails to open on a server that is not there with STORAGE_ERROR, the URL's password nowhere", async () => {
    const password = "pw-that-must-not-leak";
    for (const url of [
      `postgresql://berth:${password}@localhost/berth?host=/nonexistent-berth-socket-dir`,
      `postgres://berth:${password}@127.0.0.1:1/berth`,
    ]) {
      const opened = openPostgresStore(url, cipher);
      const err = await opened.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).details).toEqual({ reason: expect.stringContaining("unreachable") });
      expect(JSON.stringify((err as StorageError).details)).not.toContain(password);
      expect((err as Error).message).not.toContain(password);
    }
  });
});

describe("secrets at rest in PostgreSQL", () => {
  let dir: string;
  let database: FreshDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-pg-key-"));
    database = await server.freshDatabase();
  });
  afterEach(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });
  const spec = { name: "web", secretEnv: { TOKEN: "plain-secret-value" } };
  const insertRaw = (url: string, json: unknown) =>
    onConnection(url, (c) =>
      c.query(
        `INSERT INTO containers (id, owner, name, image, spec, docker_name, state, uid, created_at)
         VALUES ('C1', 'alice', 'web', 'img', $1, 'berth-C1', 'created', 200000, 1)`,
        [JSON.stringify(json)],
      ),
    );

  it("makes the key at the first start, and the store seals with it", async () => {
    const keyFile = join(dir, "secret.key");
    const atRest = await openPostgresSecretsAtRest(database.url, keyFile);
    expect(atRest).toMatchObject({ createdKey: true, sealedNow: 0 });
    const store = await openPostgresStore(database.url, atRest.cipher);
    await store.containers.insert({
      id: "C1",
      owner: "alice",
      name: "web",
      image: "img",
      spec,
      dockerId: null,
      dockerName: "berth-C1",
      state: "created",
      health: "none",
      uid: 200_000,
      createdAt: 1,
      startedAt: null,
      exitCode: null,
      release: null,
      restartCount: 0,
    });
    await store.close();
    const again = await openPostgresSecretsAtRest(database.url, keyFile);
    expect(again).toMatchObject({ createdKey: false, sealedNow: 0 });
  });

  it("refuses to start when the key file is gone and the database holds sealed values", async () => {
    const keyFile = join(dir, "secret.key");
    const atRest = await openPostgresSecretsAtRest(database.url, keyFile);
    await insertRaw(database.url, {
      ...spec,
      secretEnv: { TOKEN: { $sealed: atRest.cipher.seal("x", "C1/secretEnv/TOKEN") } },
    });
    await rm(keyFile);
    await expect(openPostgresSecretsAtRest(database.url, keyFile)).rejects.toBeInstanceOf(SecretKeyError);
    await expect(openPostgresSecretsAtRest(database.url, join(dir, "other.key"))).rejects.toThrow(
      /is missing/,
    );
  });

  it("seals values stored in plain text by other means, in the database itself", async () => {
    await openPostgresSecretsAtRest(database.url, join(dir, "secret.key")); // the tables
    await insertRaw(database.url, spec);
    const atRest = await openPostgresSecretsAtRest(database.url, join(dir, "secret.key"));
    expect(atRest.sealedNow).toBe(1);
    const raw = await onConnection(database.url, (c) =>
      c.query<{ spec: string }>("SELECT spec::text AS spec FROM containers"),
    );
    expect(raw.rows[0]?.spec).not.toContain("plain-secret-value");
    const store = await openPostgresStore(database.url, atRest.cipher);
    expect((await store.containers.get("C1"))?.spec).toEqual(spec);
    await store.close();
  });
});

describe("rotating the key of secrets at rest in PostgreSQL", () => {
  it("seals every value with the new key alone, and berth reads them all with the rewritten key file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-pg-key-"));
    const database = await server.freshDatabase();
    try {
      const keyFile = join(dir, "secret.key");
      const atRest = await openPostgresSecretsAtRest(database.url, keyFile);
      const store = await openPostgresStore(database.url, atRest.cipher);
      const spec = { name: "web", env: { API_KEY: "k-1" }, secretEnv: { A: "a-1", B: "b-1" } };
      await store.containers.insert({
        id: "C1",
        owner: "alice",
        name: "web",
        image: "img",
        spec,
        dockerId: null,
        dockerName: "berth-C1",
        state: "created",
        health: "none",
        uid: 200_000,
        createdAt: 1,
        startedAt: null,
        exitCode: null,
        release: null,
        restartCount: 0,
      });
      await store.close();
      const oldKey = atRest.cipher.currentKeyId;
      const report = await rotatePostgresSecretKey(database.url, keyFile);
      expect(report).toMatchObject({ from: [oldKey], containers: 1, values: 3 });
      expect(report.to).not.toBe(oldKey);
      const raw = await onConnection(database.url, (c) =>
        c.query<{ spec: string }>("SELECT spec::text AS spec FROM containers"),
      );
      expect(raw.rows[0]?.spec).not.toContain(`:${oldKey}:`);
      const reopened = await openPostgresSecretsAtRest(database.url, keyFile);
      const after = await openPostgresStore(database.url, reopened.cipher);
      expect((await after.containers.get("C1"))?.spec).toEqual(spec);
      await after.close();
    } finally {
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the PostgreSQL store when its server stops", () => {
  it("fails reads and writes with STORAGE_ERROR, and still closes", async () => {
    const own = await startPostgresServer();
    try {
      const database = await own.freshDatabase();
      const store = await openPostgresStore(database.url, cipher);
      await store.meta.set("k", "v");
      await own.stop();
      await expect(store.meta.get("k")).rejects.toMatchObject({ code: "STORAGE_ERROR" });
      await expect(store.containers.insert({} as never)).rejects.toBeInstanceOf(Error);
      await expect(store.meta.set("k", "w")).rejects.toMatchObject({ code: "STORAGE_ERROR" });
      await store.close();
      await store.close();
    } finally {
      await own.stop();
    }
  }, 60_000);
});

describe("PostgreSQL errors", () => {
  const hide = (text: string) => text.split("s3cret").join("[REDACTED]");
  const dbError = (code: string, message = "failed") =>
    Object.assign(new pg.DatabaseError(message, 0, "error"), { code });

  it.each([
    ["53100", "disk is full"],
    ["25006", "read-only"],
    ["57P01", "shutting down"],
    ["08006", "(08006)"],
  ])("maps SQLSTATE %s to STORAGE_ERROR", (code, reason) => {
    expect(asPgStorageError(dbError(code), hide)).toMatchObject({
      code: "STORAGE_ERROR",
      details: { reason: expect.stringContaining(reason) },
    });
  });

  it("passes constraint and statement errors through for their caller", () => {
    for (const code of ["23505", "23503", "42601", "22P02"]) {
      const err = dbError(code);
      expect(asPgStorageError(err, hide)).toBe(err);
    }
  });

  it("blanks the password from whatever the server or the driver said", () => {
    const err = Object.assign(new Error("connect ECONNREFUSED s3cret"), { code: "ECONNREFUSED" });
    expect(asPgStorageError(err, hide)).toMatchObject({
      details: { reason: expect.not.stringContaining("s3cret") },
    });
    const lost = asPgStorageError(new Error("Connection terminated unexpectedly near s3cret"), hide);
    expect(lost).toBeInstanceOf(StorageError);
    expect(JSON.stringify((lost as StorageError).details)).not.toContain("s3cret");
  });
});

/** Whether an insert is waiting for the activity lock. */
async function waitingForActivityLock(db: PgDatabase): Promise<boolean> {
  const { rows } = await db.run<{ n: number }>(
    "test-waiting",
    "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
  );
  return (rows[0]?.n ?? 0) > 0;
}
