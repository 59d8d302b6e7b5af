import { once } from "node:events";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../test/helpers/postgres-server.ts";
import { ACTIVITY_LOCK } from "../store/postgres/pg-activity-store.ts";
import { type DeposedReason, LeaderLease } from "./leader-lease.ts";
import { LEASE_SPACE, leaseKey } from "./lock-key.ts";
import { PgLockSession } from "./pg-lock-session.ts";

// One throwaway server for the file (test/helpers/postgres-server.ts), a database of its own for every test.
// A leader's check must answer within one interval or it steps down: a second, not less, so that a round
// trip on a machine busy with other test files does not depose a leader the test expects to stay.
const EVERY_MS = 1_000;
/** Room for a loaded machine on top of the one interval a takeover may take. */
const SLACK_MS = 3_000;
/** For what is not the claim of a test, only a guard against waiting for ever. */
const GUARD_MS = 30_000;

let server: PostgresServer;
let db: FreshDatabase;
let leases: LeaderLease[];

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = await server.freshDatabase();
  leases = [];
});
afterEach(async () => {
  await Promise.all(leases.map((l) => l.close()));
  await db.drop();
});

function lease(name = "reconciler"): LeaderLease {
  const l = new LeaderLease({ name, open: (o) => PgLockSession.open(db.url, o), tryEveryMs: EVERY_MS });
  leases.push(l);
  return l;
}

/**
 * The first of `candidates` to be elected. Not a bound on how soon (the takeover test measures that): the
 * first sessions are opened here too, which a loaded machine can make slow.
 */
async function firstElected(...candidates: LeaderLease[]): Promise<LeaderLease> {
  return within(
    GUARD_MS,
    "a leader elected",
    Promise.any(
      candidates.map(async (l) => {
        await once(l, "elected");
        return l;
      }),
    ),
  );
}

/** The backend that holds `name`'s lease, per pg_locks. */
async function holderPid(name: string): Promise<number | undefined> {
  const { id } = leaseKey(name);
  return onConnection(db.url, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid
         AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LEASE_SPACE >>> 0, id >>> 0],
    );
    return rows[0]?.pid;
  });
}

/** Backends of berth's lock sessions that tried for a lock and hold none: followers that have tried. */
async function followersThatTried(): Promise<number> {
  return onConnection(db.url, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity a
        WHERE a.application_name = 'berth lock' AND a.datname = current_database()
          AND a.query LIKE '%pg_try_advisory_lock%'
          AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory')`,
    );
    return rows[0]?.n ?? 0;
  });
}

describe("PgLockSession", () => {
  const key = leaseKey("reconciler");
  const options = { endAfterSilenceMs: 4_000 };

  it("takes a free lock, knows it holds it, and refuses it to another session until closed", async () => {
    const one = await PgLockSession.open(db.url, options);
    const two = await PgLockSession.open(db.url, options);
    try {
      expect(await one.tryLock(key)).toBe(true);
      expect(await one.holds(key)).toBe(true);
      expect(await two.tryLock(key)).toBe(false);
      expect(await two.holds(key)).toBe(false);
      expect(await one.holds(leaseKey("restart-supervisor"))).toBe(false);
      await one.close();
      expect(await two.tryLock(key)).toBe(true); // released by close(), before it returned
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
    await one.close(); // twice is fine
  });

  it("says at once when the server ends its connection, with a retryable STORAGE_ERROR", async () => {
    const session = await PgLockSession.open(db.url, options);
    try {
      expect(await session.tryLock(key)).toBe(true);
      const lost = new Promise<Error>((resolve) => session.onLost(resolve));
      const pid = await holderPid("reconciler");
      await server.admin((client) => client.query("SELECT pg_terminate_backend($1)", [pid]));
      expect(await within(5_000, "the session lost", lost)).toMatchObject({
        code: "STORAGE_ERROR",
        retryable: true,
      });
      await expect(session.holds(key)).rejects.toMatchObject({ code: "STORAGE_ERROR" });
    } finally {
      await session.close();
    }
  });

  it("fails to open as a retryable STORAGE_ERROR when the database cannot be reached", async () => {
    const url = db.url.replace(/host=[^&]+/, "host=%2Fnonexistent");
    const err = await PgLockSession.open(url, options).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORAGE_ERROR", retryable: true });
  });
});

describe("LeaderLease on PostgreSQL", () => {
  it("elects exactly one of two servers trying for one name", async () => {
    const a = lease().start();
    const b = lease().start();
    const leader = await firstElected(a, b);
    const follower = leader === a ? b : a;
    let elections = 1;
    follower.on("elected", () => elections++);
    await eventually(
      GUARD_MS,
      "the follower tried and was refused",
      async () => (await followersThatTried()) === 1,
    );
    expect([leader.isLeader, follower.isLeader]).toEqual([true, false]);
    expect(elections).toBe(1);
    expect(await holderPid("reconciler")).toBeDefined();
  });

  it("is deposed when the server terminates its connection, and the other is elected within the interval", async () => {
    const a = lease().start();
    const b = lease().start();
    const leader = await firstElected(a, b);
    const follower = leader === a ? b : a;
    const events: string[] = [];
    leader.on("deposed", (reason) => events.push(`leader deposed ${reason}`));
    const elected = once(follower, "elected").then(() => events.push("follower elected"));
    const pid = await holderPid("reconciler");

    // From the moment the backend is ended, not from before the admin's connection is opened (a loaded
    // machine can take longer to open it than the takeover itself takes).
    let terminatedAt = 0;
    await server.admin((client) => {
      terminatedAt = Date.now();
      return client.query("SELECT pg_terminate_backend($1)", [pid]);
    });
    await within(GUARD_MS, "the follower elected", elected);
    const tookOverMs = Date.now() - terminatedAt;

    expect(events).toEqual(["leader deposed connection_lost", "follower elected"]);
    expect(leader.isLeader).toBe(false);
    // Within one try interval (and what a loaded machine adds).
    expect(tookOverMs).toBeLessThan(EVERY_MS + SLACK_MS);
    expect(await holderPid("reconciler")).not.toBe(pid);
  });

  it("hands over on close(): the leader steps down and the other is elected", async () => {
    const a = lease().start();
    const b = lease().start();
    const leader = await firstElected(a, b);
    const follower = leader === a ? b : a;
    const deposed: DeposedReason[] = [];
    leader.on("deposed", (reason) => deposed.push(reason));
    const elected = once(follower, "elected");

    const closedAt = Date.now();
    await leader.close();
    expect(deposed).toEqual(["closed"]);
    await within(GUARD_MS, "the follower elected", elected);
    // At the follower's next try: within one interval of the release (and what a loaded machine adds).
    expect(Date.now() - closedAt).toBeLessThan(EVERY_MS + SLACK_MS);
    await leader.close(); // twice is fine
  });

  it("keeps its keys apart from berth's bigint locks: the activity feed's, and a bigint of the very same bits", async () => {
    const { space, id } = leaseKey("reconciler");
    // The bigint whose halves are the lease's two keys: the same numbers, another key space.
    const sameBits = ((BigInt(space >>> 0) << 32n) | BigInt(id >>> 0)).toString();
    await onConnection(db.url, async (client) => {
      await client.query("SELECT pg_advisory_lock($1::bigint), pg_advisory_lock($2::bigint)", [
        sameBits,
        ACTIVITY_LOCK,
      ]);
      const a = lease().start();
      await firstElected(a);
    });
  });

  it("has no leader while PostgreSQL is down, and one again once it is back", async () => {
    const a = lease().start();
    const b = lease().start();
    const leader = await firstElected(a, b);
    const deposed = once(leader, "deposed");
    let elections = 0;
    for (const l of [a, b]) l.on("elected", () => elections++);

    await server.halt();
    try {
      expect(await within(SLACK_MS, "the leader deposed", deposed)).toEqual(["connection_lost"]);
      // Both keep trying, and fail, for two rounds each (how soon is not the claim: that none is elected is).
      await within(
        GUARD_MS,
        "two failed tries each",
        Promise.all([a, b].map((l) => twice(l, "unreachable"))),
      );
      expect([a.isLeader, b.isLeader, elections]).toEqual([false, false, 0]);
    } finally {
      await server.resume();
    }
    // A server just out of crash recovery, on a loaded machine, can open sessions slowly (see firstElected).
    await firstElected(a, b);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
  });
});

async function twice(l: LeaderLease, event: "unreachable"): Promise<void> {
  await once(l, event);
  await once(l, event);
}
