import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../test/helpers/postgres-server.ts";
import { BerthError } from "../errors/berth-error.ts";
import { CONTAINER_SPACE, containerKey } from "./lock-key.ts";
import { PgContainerLocks } from "./pg-container-locks.ts";

// One throwaway server for the file (test/helpers/postgres-server.ts), a database of its own for every test.
// Each PgContainerLocks is what one berth server holds: a pool of its own, so two of them contend as two
// servers do.
let server: PostgresServer;
let db: FreshDatabase;
let made: PgContainerLocks[];

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

function locks(waitMs = 10_000): PgContainerLocks {
  const l = new PgContainerLocks({ url: db.url, waitMs });
  made.push(l);
  return l;
}

/** A promise and the function that settles it: an operation held open until the test lets it finish. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** Operations waiting at PostgreSQL for a container's lock (not granted yet). */
async function waitingForLock(): Promise<number> {
  return onConnection(db.url, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid
         AND objsubid = 2 AND NOT granted`,
      [CONTAINER_SPACE >>> 0],
    );
    return rows[0]?.n ?? 0;
  });
}

/** The backend holding `containerId`'s lock. */
async function holderPid(containerId: string): Promise<number | undefined> {
  const { id } = containerKey(containerId);
  return onConnection(db.url, async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid AND objid = $2::oid
         AND objsubid = 2 AND granted`,
      [CONTAINER_SPACE >>> 0, id >>> 0],
    );
    return rows[0]?.pid;
  });
}

describe("PgContainerLocks", () => {
  it("runs two servers' operations on one container one after the other", async () => {
    const [a, b] = [locks(), locks()];
    const order: string[] = [];
    const aMayFinish = gate();
    const aStarted = gate();
    const first = a.run("c1", async () => {
      order.push("a starts");
      aStarted.open();
      await aMayFinish.opened;
      order.push("a ends");
      return "a";
    });
    await aStarted.opened;
    const second = b.run("c1", async () => {
      order.push("b starts");
      return "b";
    });
    await eventually(
      15_000,
      "b waiting for the container's lock",
      async () => (await waitingForLock()) === 1,
    );
    expect(order).toEqual(["a starts"]);

    aMayFinish.open();
    expect(await Promise.all([first, second])).toEqual(["a", "b"]);
    expect(order).toEqual(["a starts", "a ends", "b starts"]);
  });

  it("runs operations on different containers at once", async () => {
    const [a, b] = [locks(), locks()];
    const aMayFinish = gate();
    const aStarted = gate();
    const first = a.run("c1", async () => {
      aStarted.open();
      await aMayFinish.opened;
    });
    await aStarted.opened;
    // a holds c1 until b has finished: b's finishing at all is the claim (behind a, it would wait its 10 s
    // and fail with CONFLICT). The bound only guards against waiting for ever.
    expect(
      await within(
        30_000,
        "b's operation on another container",
        b.run("c2", async () => "b"),
      ),
    ).toBe("b");
    aMayFinish.open();
    await first;
  });

  it("fails with a retryable CONFLICT when another server holds the lock for the whole wait", async () => {
    const [a, b] = [locks(), locks(300)];
    const aMayFinish = gate();
    const aStarted = gate();
    const first = a.run("c1", async () => {
      aStarted.open();
      await aMayFinish.opened;
    });
    await aStarted.opened;
    let ran = false;
    const started = Date.now();
    const err = await b
      .run("c1", async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: "CONFLICT", retryable: true, details: { waitedMs: 300 } });
    expect(ran).toBe(false);
    aMayFinish.open();
    await first;
    // The refused server's connection is clean: its next operation takes the lock at once.
    expect(await b.run("c1", async () => "b")).toBe("b");
  });

  it("refuses at once, without waiting, a turn that must not wait while another server holds the lock", async () => {
    const [a, b] = [locks(), locks(60_000)];
    const aMayFinish = gate();
    const aStarted = gate();
    const first = a.run("c1", async () => {
      aStarted.open();
      await aMayFinish.opened;
    });
    await aStarted.opened;
    let ran = false;
    const err = await b
      .run(
        "c1",
        async () => {
          ran = true;
        },
        { wait: false },
      )
      .catch((e: unknown) => e);
    // Not the minute of b's wait: a refusal, and nobody left waiting at PostgreSQL.
    expect(err).toMatchObject({ code: "CONFLICT", retryable: true, details: { waitedMs: 0 } });
    expect(ran).toBe(false);
    expect(await waitingForLock()).toBe(0);
    aMayFinish.open();
    await first;
    // Free now: taken at once, and the refused connection was left clean.
    expect(await b.run("c1", async () => "b", { wait: false })).toBe("b");
  });

  it("releases the lock when the operation fails", async () => {
    const [a, b] = [locks(), locks(2_000)];
    await expect(
      a.run("c1", async () => {
        throw new Error("the engine refused");
      }),
    ).rejects.toThrow("the engine refused");
    expect(await b.run("c1", async () => "b")).toBe("b");
  });

  it("tells the operation when its lock is lost, and lets another server in", async () => {
    const [a, b] = [locks(), locks()];
    const held = gate();
    let reason: unknown;
    const first = a.run("c1", async (lost) => {
      held.open();
      await new Promise((resolve) => lost.addEventListener("abort", resolve, { once: true }));
      reason = lost.reason;
      return "a finished all the same";
    });
    await held.opened;
    const pid = await holderPid("c1");
    await server.admin((client) => client.query("SELECT pg_terminate_backend($1)", [pid]));
    expect(await within(15_000, "a told of its lost lock", first)).toBe("a finished all the same");
    expect(reason).toMatchObject({ code: "STORAGE_ERROR", retryable: true });
    expect(await b.run("c1", async () => "b")).toBe("b");
    expect(await a.run("c1", async () => "a again")).toBe("a again");
  });

  it("fails as retryable while PostgreSQL is down, and serialises again once it is back", async () => {
    const a = locks();
    expect(await a.run("c1", async () => "before")).toBe("before"); // a pooled connection to lose
    await server.halt();
    try {
      let ran = false;
      const err = await a
        .run("c1", async () => {
          ran = true;
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORAGE_ERROR", retryable: true });
      expect(ran).toBe(false);
    } finally {
      await server.resume();
    }
    expect(await a.run("c1", async () => "after")).toBe("after");
  });

  it("tells the operation its lock is lost when the lock's connection stops answering (a silent network)", async () => {
    const a = locks();
    const started = gate();
    const seen = a.run("c1", async (lost) => {
      started.open();
      await new Promise<void>((resolve) => lost.addEventListener("abort", () => resolve(), { once: true }));
      return (lost.reason as BerthError).code;
    });
    await started.opened;
    const pid = await holderPid("c1");
    expect(pid).toBeGreaterThan(0);
    // The backend stopped: its socket stays open and nothing answers, as behind a network that drops everything.
    process.kill(pid!, "SIGSTOP");
    try {
      expect(await within(10_000, "the holder gives the lock up", seen)).toBe("STORAGE_ERROR");
    } finally {
      process.kill(pid!, "SIGCONT");
    }
  });

  it("says at once, as a retryable CONFLICT, that every lock connection is busy, and leaves the others running", async () => {
    const a = new PgContainerLocks({ url: db.url, waitMs: 10_000, connections: 1 });
    made.push(a);
    const holding = gate();
    const release = gate();
    const first = a.run("c1", async () => {
      holding.open();
      await release.opened;
      return "first";
    });
    await holding.opened;
    const err = await a.run("c2", async () => "second").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: "CONFLICT", details: { connections: 1 } });
    release.open();
    expect(await first).toBe("first");
    expect(await a.run("c2", async () => "then")).toBe("then");
  });
});
