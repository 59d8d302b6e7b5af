import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../test/helpers/postgres-server.ts";
import { BerthError } from "../errors/berth-error.ts";
import { OWNER_SPACE, ownerKey } from "./lock-key.ts";
import type { OwnerHold } from "./owner-locks.ts";
import { PgOwnerLocks } from "./pg-owner-locks.ts";

// One throwaway server for the file, a database of its own for every test. Each PgOwnerLocks is what one berth
// server holds: a pool of its own, so two of them contend as two servers do.
let server: PostgresServer;
let db: FreshDatabase;
let made: PgOwnerLocks[];

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = await server.freshDatabase();
  made = [];
});
afterEach(async () => {
  await Promise.all(made.map((l) => l.close()));
  await db.drop();
});

function locks(options: { waitMs?: number; connections?: number } = {}): PgOwnerLocks {
  const l = new PgOwnerLocks({ url: db.url, waitMs: options.waitMs ?? 10_000, ...options });
  made.push(l);
  return l;
}

/** The backends holding `owner`'s lock, and how many wait for it. */
async function lockOf(owner: string): Promise<{ holders: number[]; waiting: number }> {
  const { id } = ownerKey(owner);
  return onConnection(db.url, async (client) => {
    const { rows } = await client.query<{ pid: number; granted: boolean }>(
      `SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid
         AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [OWNER_SPACE >>> 0, id >>> 0],
    );
    return {
      holders: rows.filter((r) => r.granted).map((r) => r.pid),
      waiting: rows.filter((r) => !r.granted).length,
    };
  });
}

describe("PgOwnerLocks", () => {
  it("lets one server at a time hold an owner's lock: the other waits at the database until it is given back", async () => {
    const [a, b] = [locks(), locks()];
    const held = await a.hold("alice");
    let bGot: OwnerHold | undefined;
    const waiting = b.hold("alice").then((h) => {
      bGot = h;
      return h;
    });
    await eventually(
      10_000,
      "a hold waiting at the database",
      async () => (await lockOf("alice")).waiting === 1,
    );
    expect(bGot).toBeUndefined();
    held.release();
    (await waiting).release();
    await eventually(10_000, "the lock given back", async () => {
      const now = await lockOf("alice");
      return now.holders.length === 0 && now.waiting === 0;
    });
  });

  it("joins one server's holds of an owner on one lock, given back with the last of them", async () => {
    const a = locks();
    const first = await a.hold("alice");
    const second = await a.hold("alice");
    expect((await lockOf("alice")).holders).toHaveLength(1);
    first.release();
    first.release(); // idempotent: the second still holds
    expect((await lockOf("alice")).holders).toHaveLength(1);
    second.release();
    await eventually(10_000, "the lock given back", async () => (await lockOf("alice")).holders.length === 0);
  });

  it("holds up no other owner", async () => {
    const [a, b] = [locks(), locks()];
    const alices = await a.hold("alice");
    (await b.hold("bob")).release();
    alices.release();
  });

  it("fails with a retryable CONFLICT, holding nothing, when another server holds the lock for the whole wait", async () => {
    const a = locks();
    const b = locks({ waitMs: 300 });
    const held = await a.hold("alice");
    const err = await b.hold("alice").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: "CONFLICT", retryable: true });
    expect((await lockOf("alice")).waiting).toBe(0);
    held.release();
    // Nothing of the failed wait is left behind: b takes the lock once it is free.
    (await b.hold("alice")).release();
  });

  it("never joins a hold whose connection was lost: the next hold takes the lock anew", async () => {
    const [a, b] = [locks(), locks()];
    const lost = await a.hold("alice");
    const [pid] = (await lockOf("alice")).holders;
    await server.admin((client) => client.query("SELECT pg_terminate_backend($1)", [pid]));
    await eventually(10_000, "the lock given back", async () => (await lockOf("alice")).holders.length === 0);
    // The database freed it: another server may take it, and this one's next hold waits its turn like any.
    const bs = await b.hold("alice");
    let again: OwnerHold | undefined;
    const next = a.hold("alice").then((h) => {
      again = h;
      return h;
    });
    await eventually(
      10_000,
      "a hold waiting at the database",
      async () => (await lockOf("alice")).waiting === 1,
    );
    expect(again).toBeUndefined();
    bs.release();
    (await next).release();
    lost.release();
  });

  it("lets an owner wait for a lock connection another owner's hold has, and fails it as a retryable CONFLICT after the wait", async () => {
    const a = locks({ connections: 1, waitMs: 500 });
    const alices = await a.hold("alice");
    // Holds of an owner this server holds already need no connection of their own.
    (await a.hold("alice")).release();
    // Bob's hold waits for alice's connection, and gets it once her hold ends.
    const bobs = a.hold("bob");
    alices.release();
    (await bobs).release();
    // Held past the wait: refused, nothing left behind.
    const carols = await a.hold("carol");
    await expect(a.hold("dave")).rejects.toMatchObject({ code: "CONFLICT", retryable: true });
    carols.release();
    await eventually(10_000, "dave let in once carol's hold ends", async () => {
      const daves = await a.hold("dave").catch(() => undefined);
      daves?.release();
      return daves !== undefined;
    });
  });
});
