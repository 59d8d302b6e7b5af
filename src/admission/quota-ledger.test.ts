import { describe, expect, it } from "vitest";
import type { QuotaLimits } from "#protocol";
import { QuotaExceededError } from "./admission-errors.ts";
import { NO_USAGE, type Usage } from "./container-usage.ts";
import { QuotaLedger } from "./quota-ledger.ts";
import { quotaLimitsFor } from "./quota-limits.ts";

const MiB = 1024 * 1024;
const LIMITS: QuotaLimits = { containers: 3, running: 2, memoryMb: 512, cpus: 1, codeMb: 1 };

/** A store stand-in: what each owner's containers count as now. */
function fakeStore() {
  const rows = new Map<string, Map<string, Usage>>();
  return {
    /** Called on each read, before it answers (a write landing while the store is being read). */
    duringRead: undefined as (() => void) | undefined,
    reads: 0,
    async usageOf(owner: string) {
      this.reads++;
      const answer = [...(rows.get(owner) ?? new Map<string, Usage>())].map(([id, usage]) => ({
        id,
        usage: { ...usage },
      }));
      await Promise.resolve();
      this.duringRead?.();
      return answer;
    },
    put(owner: string, id: string, usage: Partial<Usage>) {
      if (!rows.has(owner)) rows.set(owner, new Map());
      rows.get(owner)?.set(id, { ...NO_USAGE, containers: 1, ...usage });
    },
    remove(owner: string, id: string) {
      rows.get(owner)?.delete(id);
    },
  };
}

async function refusal(fn: () => Promise<unknown>): Promise<QuotaExceededError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof QuotaExceededError) return err;
    throw err;
  }
  throw new Error("expected QUOTA_EXCEEDED");
}

describe("QuotaLedger", () => {
  it("refuses what would pass a limit, naming the quota, the usage, the request and the limit", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    store.put("alice", "C1", { running: 1, memoryMb: 256, cpus: 0.5 });
    const err = await refusal(() =>
      ledger.reserve("alice", "C2", { containers: 1, running: 1, memoryMb: 512 }),
    );
    expect(err).toMatchObject({
      code: "QUOTA_EXCEEDED",
      category: "validation",
      retryable: false,
      details: { quota: "memoryMb", usage: 256, requested: 512, limit: 512 },
    });
  });

  it("counts reservations of operations under way, so concurrent requests cannot pass together", async () => {
    const ledger = new QuotaLedger(fakeStore(), () => LIMITS);
    const asked = await Promise.allSettled(
      ["C1", "C2", "C3", "C4"].map((id) => ledger.reserve("alice", id, { containers: 1 })),
    );
    expect(asked.map((a) => a.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected"]);
    expect((await refusal(() => ledger.reserve("alice", "C5", { containers: 1 }))).details).toEqual({
      quota: "containers",
      usage: 3,
      requested: 1,
      limit: 3,
    });
  });

  it("reads the store again when a reservation was given back while it was being read", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    const held = await ledger.reserve("alice", "C1", { containers: 1, running: 1, memoryMb: 256 });
    // The create's row lands and its reservation goes while another check reads the store (which missed the row).
    store.duringRead = () => {
      store.duringRead = undefined;
      store.put("alice", "C1", { running: 1, memoryMb: 256 });
      held.release();
    };
    const reads = store.reads;
    const err = await refusal(() =>
      ledger.reserve("alice", "C2", { containers: 1, running: 1, memoryMb: 512 }),
    );
    expect(err.details).toMatchObject({ quota: "memoryMb", usage: 256 });
    expect(store.reads - reads).toBe(2);
  });

  it("counts a container once when both its record and a reservation name it", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    const held = await ledger.reserve("alice", "C1", { containers: 1, running: 1, memoryMb: 256 });
    store.put("alice", "C1", { running: 1, memoryMb: 256 }); // the row lands while the create still runs
    expect(await ledger.usage("alice")).toMatchObject({ containers: 1, running: 1, memoryMb: 256 });
    held.release();
    expect(await ledger.usage("alice")).toMatchObject({ containers: 1, running: 1, memoryMb: 256 });
  });

  it("gives the reservation back on release, once, so a failed operation frees its share", async () => {
    const ledger = new QuotaLedger(fakeStore(), () => LIMITS);
    const held = await ledger.reserve("alice", "C1", { containers: 3 });
    held.release();
    held.release();
    expect(await ledger.usage("alice")).toEqual(NO_USAGE);
    await expect(ledger.reserve("alice", "C2", { containers: 1 })).resolves.toBeDefined();
  });

  it("asks nothing more to start a container that already runs", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => ({ ...LIMITS, running: 1 }));
    store.put("alice", "C1", { running: 1, memoryMb: 256, cpus: 1 });
    (await ledger.reserve("alice", "C1", { running: 1, memoryMb: 256, cpus: 1 })).release();
    expect((await refusal(() => ledger.reserve("alice", "C2", { running: 1 }))).details?.quota).toBe(
      "running",
    );
  });

  it("checks only the quotas a request raises: an owner over a lowered limit may still do the rest", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => ({ ...LIMITS, memoryMb: 128 }));
    store.put("alice", "C1", { running: 1, memoryMb: 256 });
    await expect(ledger.reserve("alice", "C2", { containers: 1 })).resolves.toBeDefined();
  });

  it("counts code as bytes and reports it in MiB; an update asks for its bytes on top of what the container keeps", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    store.put("alice", "C1", { codeBytes: 0.75 * MiB });
    const grow = (bytes: number) => (current: Usage) => ({ codeBytes: current.codeBytes + bytes });
    (await ledger.reserve("alice", "C1", grow(0.25 * MiB))).release();
    expect((await refusal(() => ledger.reserve("alice", "C1", grow(0.5 * MiB)))).details).toEqual({
      quota: "codeMb",
      usage: 0.75,
      requested: 0.5,
      limit: 1,
    });
  });

  it("does not trip over fractional CPUs adding up to the limit", async () => {
    const ledger = new QuotaLedger(fakeStore(), () => ({ ...LIMITS, running: 10 }));
    for (let i = 0; i < 10; i++) await ledger.reserve("alice", `C${i}`, { running: 1, cpus: 0.1 });
    expect((await ledger.usage("alice")).cpus).toBeCloseTo(1);
  });

  it("keeps owners apart: alice at her quota does not limit bob", async () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    for (let i = 0; i < 3; i++) store.put("alice", `A${i}`, {});
    await refusal(() => ledger.reserve("alice", "A3", { containers: 1 }));
    await expect(ledger.reserve("bob", "B0", { containers: 1 })).resolves.toBeDefined();
  });

  it("reads limits per owner on every check: overrides apply at once, and the admin's own containers have none", async () => {
    let overrides: Partial<QuotaLimits> | undefined;
    const limitsFor = quotaLimitsFor(LIMITS, (owner) => (owner === "alice" ? overrides : undefined));
    const ledger = new QuotaLedger(fakeStore(), limitsFor);
    for (let i = 0; i < 3; i++) await ledger.reserve("alice", `A${i}`, { containers: 1 });
    await refusal(() => ledger.reserve("alice", "A3", { containers: 1 }));
    overrides = { containers: 4 };
    await expect(ledger.reserve("alice", "A3", { containers: 1 })).resolves.toBeDefined();
    for (let i = 0; i < 50; i++)
      await ledger.reserve("admin", `X${i}`, { containers: 1, running: 1, memoryMb: 4096 });
    expect(limitsFor("bob")).toEqual(LIMITS);
  });
});
