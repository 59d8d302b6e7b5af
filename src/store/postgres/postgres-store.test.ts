import { PassThrough } from "node:stream";
import type pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../../test/helpers/postgres-server.ts";
import { loadConfig } from "../../config/config.ts";
import { StorageError } from "../../errors/errors.ts";
import { Redactor } from "../../logging/redactor.ts";
import { createSystemLogger } from "../../logging/system-logger.ts";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { openStore } from "../open-store.ts";
import type { Store } from "../store-ports.ts";
import { describeStoreContract } from "../testing/store-contract.ts";
import { ACTIVITY_LOCK, PgActivityStore } from "./pg-activity-store.ts";
import { PgDatabase } from "./pg-database.ts";
import { PG_MIGRATIONS } from "./pg-migrations.ts";
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

describeStoreContract("PostgreSQL", {
  open: freshStore,
  async reopen(store) {
    const url = urls.get(store);
    if (!url) throw new Error("not a store of this file");
    return openPostgresStore(url, cipher);
  },
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
          15_000,
          "B committed or waiting for A",
          async () => bDone || (await waitingForActivityLock(db)),
        );
        visibleWhileAOpen = (await store.activity.history({ owner: undefined, limit: 10 })).map((e) => e.id);
        return entry;
      });
      const later = await within(15_000, "B committed once A did", b!);
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
      expect(version.rows).toEqual([{ version: PG_MIGRATIONS.length }]);
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
      await eventually(15_000, "the insert waits for the lock", async () => {
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

  it("fails a transaction whose connection is cut between two statements, and the process lives on", async () => {
    // A connection held by a transaction is out of the pool, which no longer listens for its errors: the
    // server ending it while no statement runs there would be an 'error' event nobody hears (the process ends).
    const db = new PgDatabase(store.database.url);
    try {
      let backend = 0;
      const cut = db.transaction(async (tx) => {
        backend = (await db.run<{ pid: number }>("pid", "SELECT pg_backend_pid() AS pid", [], tx)).rows[0]!
          .pid;
        // The connection's end, awaited: a probe sent before it would fail as its own query, and the
        // 'error' event between statements, which this is about, would not be tried at all.
        const ended = new Promise((resolve) => (tx as pg.PoolClient).once("end", resolve));
        await onConnection(store.database.url, (admin) =>
          admin.query("SELECT pg_terminate_backend($1)", [backend]),
        );
        // The server's goodbye reaches the connection while the transaction does something else.
        await within(15_000, "the connection ended by the server", ended);
        await db.run("probe", "SELECT 1", [], tx);
      });
      await expect(cut).rejects.toMatchObject({ code: "STORAGE_ERROR" });
      expect(backend).toBeGreaterThan(0);
      // The broken connection left the pool: the next transaction runs on a new one.
      const next = await db.transaction(
        async (tx) =>
          (await db.run<{ pid: number }>("pid", "SELECT pg_backend_pid() AS pid", [], tx)).rows[0]!.pid,
      );
      expect(next).not.toBe(backend);
    } finally {
      await db.close();
    }
  });

  it("tells the system log of an idle connection the server dropped, when opened as berth opens its store", async () => {
    const lines = new PassThrough();
    let written = "";
    lines.on("data", (chunk: Buffer) => {
      written += chunk.toString();
    });
    const log = createSystemLogger({ level: "warn", redactor: new Redactor(), destination: lines });
    const config = loadConfig({
      BERTH_DATA_DIR: "/nonexistent-berth-data",
      BERTH_DATABASE_URL: store.database.url,
    });
    const opened = await openStore(config, cipher, log);
    try {
      await opened.containers.all(); // leaves a connection idle in the pool
      await onConnection(store.database.url, (admin) =>
        admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ),
      );
      await eventually(15_000, "the system log tells of the lost connection", async () =>
        written.includes("lost an idle connection to the database"),
      );
      expect(written).not.toContain(server.info.berthPassword);
    } finally {
      await opened.close();
    }
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

async function waitingForActivityLock(db: PgDatabase): Promise<boolean> {
  const { rows } = await db.run<{ n: number }>(
    "test-waiting",
    "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
  );
  return (rows[0]?.n ?? 0) > 0;
}
