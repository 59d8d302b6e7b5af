import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaderLease } from "./leader-lease.ts";
import { leaseKey } from "./lock-key.ts";
import { FakeLockServer, type FakeLockSession } from "./testing/fake-lock-server.ts";
import { ManualClock } from "./testing/manual-clock.ts";

const EVERY_MS = 1_000;

let server: FakeLockServer;
let clock: ManualClock;
let leases: LeaderLease[];
/** What every lease said, in order: "a elected", "b deposed connection_lost", "a unreachable" … */
let said: string[];

beforeEach(() => {
  server = new FakeLockServer();
  clock = new ManualClock();
  leases = [];
  said = [];
});
afterEach(async () => {
  await Promise.all(leases.map((l) => l.close()));
});

function lease(who: string, name = "reconciler"): LeaderLease {
  const l = new LeaderLease({ name, open: server.open, tryEveryMs: EVERY_MS, clock });
  l.on("elected", () => said.push(`${who} elected`));
  l.on("deposed", (reason) => said.push(`${who} deposed ${reason}`));
  l.on("unreachable", () => said.push(`${who} unreachable`));
  leases.push(l);
  return l;
}

/**
 * Lets every loop come round to its next wait. The fakes answer without I/O,
 * so once the pending callbacks have run, each lease is waiting on the clock.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** One interval passes, and every lease has made its try. */
async function interval(times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    clock.advance(EVERY_MS);
    await settle();
  }
}

function sessionOf(l: LeaderLease): FakeLockSession {
  const holder = server.holderOf(leaseKey(l.name));
  if (!holder) throw new Error(`nobody holds ${l.name}`);
  return holder;
}

describe("LeaderLease", () => {
  it("elects exactly one of the servers trying for one name, and keeps it", async () => {
    const a = lease("a").start();
    const b = lease("b").start();
    await settle();
    await interval(3);
    expect(said).toEqual(["a elected"]);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
  });

  it("gives each name a leader of its own", async () => {
    const a = lease("a", "reconciler").start();
    const b = lease("b", "restart-supervisor").start();
    await settle();
    expect([a.isLeader, b.isLeader]).toEqual([true, true]);
  });

  it("steps down the moment its connection ends, and another takes over at its next try", async () => {
    const a = lease("a").start();
    lease("b").start();
    let term: AbortSignal | undefined;
    a.once("elected", (t) => {
      term = t;
    });
    await settle();
    expect(a.isLeader).toBe(true);
    const aborted: string[] = [];
    a.on("deposed", () => aborted.push(`term aborted before deposed: ${term?.aborted}`));

    server.terminate(sessionOf(a));
    // In the same turn: nothing this server runs as leader acts after the news.
    expect(said).toEqual(["a elected", "a deposed connection_lost"]);
    expect(aborted).toEqual(["term aborted before deposed: true"]);

    await interval();
    expect(said).toEqual(["a elected", "a deposed connection_lost", "b elected"]);
    expect(a.isLeader).toBe(false);
  });

  it("steps down when cut off from the database, before the database frees its lock for another", async () => {
    const a = lease("a").start();
    const b = lease("b").start();
    await settle();
    await interval(); // a's check answered: the last word from the database
    const lastAnswer = clock.now();
    const cutOff = sessionOf(a);
    cutOff.silent = true;

    await interval(); // a's check goes out and hangs; b finds the lock held
    expect(said).toEqual(["a elected"]);
    await interval(); // a's check has had its interval
    expect(said).toEqual(["a elected", "a deposed check_failed", "a unreachable"]);
    const deposedAt = clock.now();
    // The database was asked to wait longer than that before it ends the silent session.
    expect(deposedAt - lastAnswer).toBeLessThanOrEqual(server.opened[0]!.endAfterSilenceMs);
    // The cut-off session's goodbye never arrived: the database still holds its lock …
    expect(server.holderOf(leaseKey("reconciler"))).toBe(cutOff);
    await interval(2);
    expect([a.isLeader, b.isLeader]).toEqual([false, false]);
    // … until it ends the session itself; then one of them takes over.
    server.terminate(cutOff);
    await interval();
    expect(said.slice(3)).toHaveLength(1);
    expect(said[3]).toMatch(/^[ab] elected$/);
  });

  it("sits out its next try once deposed, so that another server takes over rather than it again", async () => {
    const a = lease("a").start();
    await settle();
    clock.advance(EVERY_MS / 2);
    const b = lease("b").start(); // b tries half an interval after a, from now on
    await settle();
    server.terminate(sessionOf(a));
    const opened = server.opened.length;
    clock.advance(EVERY_MS / 2); // a's turn: it sits it out
    await settle();
    expect(server.opened).toHaveLength(opened);
    expect(said).toEqual(["a elected", "a deposed connection_lost"]);
    clock.advance(EVERY_MS / 2); // b's turn
    await settle();
    expect(said).toEqual(["a elected", "a deposed connection_lost", "b elected"]);
    await interval();
    expect([a.isLeader, b.isLeader]).toEqual([false, true]);
  });

  it("takes the lock back itself after sitting out a try, when no other server is there", async () => {
    const a = lease("a").start();
    await settle();
    server.terminate(sessionOf(a));
    await interval();
    expect(a.isLeader).toBe(false);
    await interval();
    expect(said).toEqual(["a elected", "a deposed connection_lost", "a elected"]);
  });

  it("steps down when its check finds the lock gone", async () => {
    const a = lease("a").start();
    await settle();
    server.release(sessionOf(a));
    await interval();
    expect(said).toEqual(["a elected", "a deposed check_failed"]);
  });

  it("has no leader while the database is down, and one again once it is back", async () => {
    const a = lease("a").start();
    const b = lease("b").start();
    await settle();
    server.stop();
    expect(said).toEqual(["a elected", "a deposed connection_lost"]);
    await interval(2);
    // a, deposed, sits its first try out.
    expect(said.slice(2).sort()).toEqual(["a unreachable", "b unreachable", "b unreachable"]);
    expect([a.isLeader, b.isLeader]).toEqual([false, false]);

    server.down = false;
    said.length = 0;
    await interval();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^[ab] elected$/);
    expect(a.isLeader !== b.isLeader).toBe(true);
  });

  it("counts a connect that never answers as unreachable, and ends the session should it come late", async () => {
    let connect!: () => void;
    server.openGate = new Promise((resolve) => {
      connect = resolve;
    });
    const a = lease("a").start();
    await settle();
    // A connect is given 10 s, not an interval: a database just restarted can be slow to open a session.
    await interval(9);
    expect(said).toEqual([]);
    await interval();
    expect(said).toEqual(["a unreachable"]);
    expect(a.isLeader).toBe(false);

    server.openGate = undefined;
    connect();
    await settle();
    // The late session was ended without trying for the lock; the lease tries again with another.
    expect(server.made).toHaveLength(1);
    expect(server.made[0]!.closed).toBe(true);
    expect(server.holderOf(leaseKey("reconciler"))).toBeUndefined();
    await interval();
    expect(said).toEqual(["a unreachable", "a elected"]);
    expect(server.made).toHaveLength(2);
    expect(sessionOf(a)).toBe(server.made[1]);
  });

  it("on close() steps down first, then releases the lock for another to take at its next try", async () => {
    const a = lease("a").start();
    const b = lease("b").start();
    await settle();
    const order: string[] = [];
    a.on("deposed", () =>
      order.push(`deposed, lock held: ${server.holderOf(leaseKey("reconciler")) !== undefined}`),
    );

    await a.close();
    expect(order).toEqual(["deposed, lock held: true"]);
    expect(server.holderOf(leaseKey("reconciler"))).toBeUndefined();
    await interval();
    expect(said).toEqual(["a elected", "a deposed closed", "b elected"]);
    expect(b.isLeader).toBe(true);

    await a.close(); // twice is fine
    expect(said).toHaveLength(3);
  });

  it("closes at once even while a try hangs on a database that went silent", async () => {
    lease("a").start();
    const b = lease("b").start();
    await settle();
    const [bSession] = [...server.sessions].filter((s) => s !== server.holderOf(leaseKey("reconciler")));
    bSession!.silent = true;
    clock.advance(EVERY_MS); // b's try goes out and hangs
    await settle();

    await b.close(); // no time passes on the clock
    expect(bSession!.closed).toBe(true);
    expect(said).toEqual(["a elected"]);
  });

  it("stays leader when a listener of its election throws (a listener's bug is not the database's failure)", async () => {
    const a = lease("a");
    a.on("elected", () => {
      throw new Error("the reconciler failed to start");
    });
    a.start();
    await settle();
    await interval(2);
    expect(said).toEqual(["a elected"]);
    expect(a.isLeader).toBe(true);
  });

  it("tries nothing once closed", async () => {
    const a = lease("a");
    await a.close();
    a.start();
    await interval(2);
    expect(server.opened).toEqual([]);
    expect(said).toEqual([]);
  });
});
