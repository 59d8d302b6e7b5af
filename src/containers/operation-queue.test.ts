import { describe, expect, it } from "vitest";
import type { ContainerLocks } from "../cluster/container-locks.ts";
import { ConflictError } from "../errors/errors.ts";
import { OperationQueue } from "./operation-queue.ts";

const tick = () => new Promise((r) => setImmediate(r));

describe("OperationQueue", () => {
  it("runs operations on one key one at a time, in order, even when one fails", async () => {
    const q = new OperationQueue();
    const log: string[] = [];
    const op =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      q.run("a", "1", op("1")),
      q.run("a", "2", op("2", true)),
      q.run("a", "3", op("3")),
    ]);
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(q.isBusy("a")).toBe(false);
  });

  it("runs operations on different keys concurrently", async () => {
    const q = new OperationQueue();
    const log: string[] = [];
    const op = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
    };
    await Promise.all([q.run("a", "x", op("a")), q.run("b", "x", op("b"))]);
    expect(log.slice(0, 2)).toEqual(["start a", "start b"]);
  });

  it("refuses an exclusive operation with a retryable CONFLICT while another runs", async () => {
    const q = new OperationQueue();
    let release!: () => void;
    const running = q.run("a", "update", () => new Promise<void>((r) => (release = r)));
    await expect(q.runExclusive("a", "update", async () => {})).rejects.toMatchObject({
      code: "CONFLICT",
      retryable: true,
    });
    release();
    await running;
    await expect(q.runExclusive("a", "update", async () => "ok")).resolves.toBe("ok");
  });
});

describe("OperationQueue with background syncs", () => {
  it("coalesces syncs that wait, and lets a client's operation go ahead of them", async () => {
    const q = new OperationQueue();
    const log: string[] = [];
    let release!: () => void;
    const stop = q.run("a", "stop", () =>
      new Promise<void>((r) => (release = r)).then(() => void log.push("stop")),
    );
    const syncs = [1, 2, 3].map(() => q.run("a", "sync", async () => void log.push("sync")));
    const del = q.run("a", "delete", async () => void log.push("delete"));
    release();
    await Promise.all([stop, ...syncs, del]);
    expect(log).toEqual(["stop", "delete", "sync"]);
    expect(q.isBusy("a")).toBe(false);
  });

  it("never refuses an exclusive operation because of a sync", async () => {
    const q = new OperationQueue();
    const sync = q.run("a", "sync", () => new Promise((r) => setTimeout(r, 10)));
    await expect(q.runExclusive("a", "update", async () => "ok")).resolves.toBe("ok");
    await sync;
  });

  it("after close, runs the turns already running or waiting and refuses new ones SHUTTING_DOWN", async () => {
    const q = new OperationQueue();
    const ran: string[] = [];
    const first = q.run("a", "stop", async () => {
      await tick();
      ran.push("stop");
    });
    const waiting = q.run("a", "start", async () => {
      ran.push("start");
    });
    q.close();
    await expect(q.run("a", "delete", async () => ran.push("delete"))).rejects.toMatchObject({
      code: "SHUTTING_DOWN",
    });
    await Promise.all([first, waiting]);
    expect(ran).toEqual(["stop", "start"]);
    expect(q.busyKeys).toBe(0);
  });
});

describe("OperationQueue with the cluster's container locks", () => {
  /** Locks that record what they hold, and refuse the keys in `refuse` as another server's. */
  function recordingLocks(refuse: Set<string> = new Set()) {
    const held: string[] = [];
    const log: string[] = [];
    const locks: ContainerLocks = {
      async run(key, fn) {
        if (refuse.has(key)) throw new ConflictError("held by another server");
        held.push(key);
        log.push(`lock ${key}`);
        try {
          return await fn(new AbortController().signal);
        } finally {
          held.splice(held.indexOf(key), 1);
          log.push(`unlock ${key}`);
        }
      },
      close: async () => {},
    };
    return { locks, held, log };
  }

  it("holds the container's lock for the whole of each turn, taken once the turn is this server's", async () => {
    const { locks, held, log } = recordingLocks();
    const q = new OperationQueue(locks);
    const seen: string[][] = [];
    await Promise.all([
      q.run("c1", "stop", async () => {
        seen.push([...held]);
        log.push("stop");
      }),
      q.run("c1", "start", async () => {
        seen.push([...held]);
        log.push("start");
      }),
    ]);
    expect(seen).toEqual([["c1"], ["c1"]]);
    // One lock per turn, never two at once for one key: the second turn takes it after the first gave it back.
    expect(log).toEqual(["lock c1", "stop", "unlock c1", "lock c1", "start", "unlock c1"]);
  });

  it("fails a turn whose lock another server holds, without running it, and moves on to the next", async () => {
    const refuse = new Set(["c1"]);
    const { locks } = recordingLocks(refuse);
    const q = new OperationQueue(locks);
    let ran = false;
    const refused = q.run("c1", "stop", async () => {
      ran = true;
    });
    const next = q.run("c1", "start", async () => "started");
    refuse.delete("c1");
    await expect(refused).rejects.toMatchObject({ code: "CONFLICT" });
    expect(ran).toBe(false);
    await expect(next).resolves.toBe("started");
    expect(q.busyKeys).toBe(0);
  });
});
