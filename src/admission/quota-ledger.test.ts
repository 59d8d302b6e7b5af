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
    usageOf: (owner: string) =>
      [...(rows.get(owner) ?? new Map<string, Usage>())].map(([id, usage]) => ({ id, usage })),
    put(owner: string, id: string, usage: Partial<Usage>) {
      if (!rows.has(owner)) rows.set(owner, new Map());
      rows.get(owner)?.set(id, { ...NO_USAGE, containers: 1, ...usage });
    },
    remove(owner: string, id: string) {
      rows.get(owner)?.delete(id);
    },
  };
}

function refusal(fn: () => unknown): QuotaExceededError {
  try {
    fn();
  } catch (err) {
    if (err instanceof QuotaExceededError) return err;
    throw err;
  }
  throw new Error("expected QUOTA_EXCEEDED");
}

describe("QuotaLedger", () => {
  it("refuses what would pass a limit, naming the quota, the usage, the request and the limit", () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    store.put("alice", "C1", { running: 1, memoryMb: 256, cpus: 0.5 });
    const err = refusal(() => ledger.reserve("alice", "C2", { containers: 1, running: 1, memoryMb: 512 }));
    expect(err).toMatchObject({
      code: "QUOTA_EXCEEDED",
      category: "validation",
      retryable: false,
      details: { quota: "memoryMb", usage: 256, requested: 512, limit: 512 },
    });
  });

  it("counts reservations of operations under way, so concurrent requests cannot pass together", () => {
    const ledger = new QuotaLedger(fakeStore(), () => LIMITS);
    ledger.reserve("alice", "C1", { containers: 1 });
    ledger.reserve("alice", "C2", { containers: 1 });
    ledger.reserve("alice", "C3", { containers: 1 });
    expect(refusal(() => ledger.reserve("alice", "C4", { containers: 1 })).details).toEqual({
      quota: "containers",
      usage: 3,
      requested: 1,
      limit: 3,
    });
  });

  it("counts a container once when both its record and a reservation name it", () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    const held = ledger.reserve("alice", "C1", { containers: 1, running: 1, memoryMb: 256 });
    store.put("alice", "C1", { running: 1, memoryMb: 256 }); // the row lands while the create still runs
    expect(ledger.usage("alice")).toMatchObject({ containers: 1, running: 1, memoryMb: 256 });
    held.release();
    expect(ledger.usage("alice")).toMatchObject({ containers: 1, running: 1, memoryMb: 256 });
  });

  it("gives the reservation back on release, once, so a failed operation frees its share", () => {
    const ledger = new QuotaLedger(fakeStore(), () => LIMITS);
    const held = ledger.reserve("alice", "C1", { containers: 3 });
    held.release();
    held.release();
    expect(ledger.usage("alice")).toEqual(NO_USAGE);
    expect(() => ledger.reserve("alice", "C2", { containers: 1 })).not.toThrow();
  });

  it("asks nothing more to start a container that already runs", () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => ({ ...LIMITS, running: 1 }));
    store.put("alice", "C1", { running: 1, memoryMb: 256, cpus: 1 });
    expect(() =>
      ledger.reserve("alice", "C1", { running: 1, memoryMb: 256, cpus: 1 }).release(),
    ).not.toThrow();
    expect(refusal(() => ledger.reserve("alice", "C2", { running: 1 })).details?.quota).toBe("running");
  });

  it("checks only the quotas a request raises: an owner over a lowered limit may still do the rest", () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => ({ ...LIMITS, memoryMb: 128 }));
    store.put("alice", "C1", { running: 1, memoryMb: 256 });
    expect(() => ledger.reserve("alice", "C2", { containers: 1 })).not.toThrow();
  });

  it("counts code as bytes and reports it in MiB; an update asks for its bytes on top of what the container keeps", () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    store.put("alice", "C1", { codeBytes: 0.75 * MiB });
    const grow = (bytes: number) => (current: Usage) => ({ codeBytes: current.codeBytes + bytes });
    ledger.reserve("alice", "C1", grow(0.25 * MiB)).release();
    expect(refusal(() => ledger.reserve("alice", "C1", grow(0.5 * MiB))).details).toEqual({
      quota: "codeMb",
      usage: 0.75,
      requested: 0.5,
      limit: 1,
    });
  });

  it("does not trip over fractional CPUs adding up to the limit", () => {
    const ledger = new QuotaLedger(fakeStore(), () => ({ ...LIMITS, running: 10 }));
    for (let i = 0; i < 10; i++) ledger.reserve("alice", `C${i}`, { running: 1, cpus: 0.1 });
    expect(ledger.usage("alice").cpus).toBeCloseTo(1);
  });

  it("keeps owners apart: alice at her quota does not limit bob", () => {
    const store = fakeStore();
    const ledger = new QuotaLedger(store, () => LIMITS);
    for (let i = 0; i < 3; i++) store.put("alice", `A${i}`, {});
    refusal(() => ledger.reserve("alice", "A3", { containers: 1 }));
    expect(() => ledger.reserve("bob", "B0", { containers: 1 })).not.toThrow();
  });

  it("reads limits per owner on every check: overrides apply at once, and the admin's own containers have none", () => {
    let overrides: Partial<QuotaLimits> | undefined;
    const limitsFor = quotaLimitsFor(LIMITS, (owner) => (owner === "alice" ? overrides : undefined));
    const ledger = new QuotaLedger(fakeStore(), limitsFor);
    for (let i = 0; i < 3; i++) ledger.reserve("alice", `A${i}`, { containers: 1 });
    refusal(() => ledger.reserve("alice", "A3", { containers: 1 }));
    overrides = { containers: 4 };
    expect(() => ledger.reserve("alice", "A3", { containers: 1 })).not.toThrow();
    for (let i = 0; i < 50; i++)
      ledger.reserve("admin", `X${i}`, { containers: 1, running: 1, memoryMb: 4096 });
    expect(limitsFor("bob")).toEqual(LIMITS);
  });
});
