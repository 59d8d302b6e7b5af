import { describe, expect, it } from "vitest";
import type { QuotaLimits } from "#protocol";
import { FakeOwnerLockServer, type FakeOwnerLocks } from "../cluster/testing/fake-owner-locks.ts";
import { ConflictError } from "../errors/errors.ts";
import { NO_USAGE, type Usage } from "./container-usage.ts";
import { QuotaLedger } from "./quota-ledger.ts";

const LIMITS: QuotaLimits = { containers: 2, running: 1, memoryMb: 1024, cpus: 4, codeMb: 1 };
const CREATE: Partial<Usage> = { containers: 1 };

/** The database every server reads: each owner's containers as recorded. */
function sharedStore() {
  const rows = new Map<string, Map<string, Usage>>();
  return {
    async usageOf(owner: string) {
      const answer = [...(rows.get(owner) ?? [])].map(([id, usage]) => ({ id, usage: { ...usage } }));
      await Promise.resolve();
      return answer;
    },
    put(owner: string, id: string, usage: Partial<Usage> = {}) {
      if (!rows.has(owner)) rows.set(owner, new Map());
      rows.get(owner)?.set(id, { ...NO_USAGE, containers: 1, ...usage });
    },
  };
}

/** Whether `promise` has settled after everything queued so far has run. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < 20; i++) await Promise.resolve();
  return settled;
}

describe("QuotaLedger on several servers sharing one store", () => {
  it("would let two servers each admit the last container without owner locks (what the locks are for)", async () => {
    const store = sharedStore();
    const [a, b] = [new QuotaLedger(store, () => LIMITS), new QuotaLedger(store, () => LIMITS)];
    store.put("alice", "C0");
    const both = await Promise.all([a.reserve("alice", "C1", CREATE), b.reserve("alice", "C2", CREATE)]);
    expect(both).toHaveLength(2);
  });

  describe("with owner locks", () => {
    /** Two servers' ledgers over one store, each with its own owner locks on one database. */
    function servers() {
      const store = sharedStore();
      const db = new FakeOwnerLockServer();
      const locks: [FakeOwnerLocks, FakeOwnerLocks] = [db.server(), db.server()];
      const a = new QuotaLedger(store, () => LIMITS, locks[0]);
      const b = new QuotaLedger(store, () => LIMITS, locks[1]);
      return { store, db, locks, a, b };
    }

    it("lets exactly one of two servers admit an owner's last container: the other checks once the first is recorded", async () => {
      const { store, db, locks, a, b } = servers();
      store.put("alice", "C0");

      const first = await a.reserve("alice", "C1", CREATE);
      const second = b.reserve("alice", "C2", CREATE);
      // B waits while A holds a reservation the store does not show yet.
      expect(await settledYet(second)).toBe(false);
      expect(db.holderOf("alice")).toBe(locks[0]);

      store.put("alice", "C1"); // A's create records its row, then gives its reservation back
      first.release();
      await expect(second).rejects.toMatchObject({
        code: "QUOTA_EXCEEDED",
        details: { quota: "containers", usage: 2, requested: 1, limit: 2 },
      });
      // The refused check let go of the lock too.
      expect(db.holderOf("alice")).toBeUndefined();
      expect(locks[1].held).toBe(0);
    });

    it("lets one server's concurrent reservations of an owner share its hold, counted against each other as ever", async () => {
      const { db, a, locks } = servers();
      const c1 = await a.reserve("alice", "C1", CREATE);
      const c2 = await a.reserve("alice", "C2", CREATE);
      await expect(a.reserve("alice", "C3", CREATE)).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
      c1.release();
      expect(db.holderOf("alice")).toBe(locks[0]);
      c2.release();
      c2.release(); // idempotent: the hold is not given back twice
      expect(db.holderOf("alice")).toBeUndefined();
    });

    it("holds up no other owner: bob is admitted on one server while alice's lock is held on the other", async () => {
      const { a, b } = servers();
      const alices = await a.reserve("alice", "C1", CREATE);
      await expect(b.reserve("bob", "B1", CREATE)).resolves.toBeDefined();
      alices.release();
    });

    it("reserves nothing when the lock cannot be had (another server held it for the whole wait)", async () => {
      const { db, a, locks } = servers();
      locks[0].failNext = new ConflictError(
        "Another server is admitting operations of this owner's; try again.",
      );
      await expect(a.reserve("alice", "C1", CREATE)).rejects.toMatchObject({
        code: "CONFLICT",
        retryable: true,
      });
      expect((await a.usage("alice")).containers).toBe(0);
      expect(db.holderOf("alice")).toBeUndefined();
    });
  });
});
