import { PassThrough } from "node:stream";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { UidClaims } from "./uid-claims.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const range = { first: 5000, last: 5001 };

/** A store of uids that answers a turn later, as a real one does. */
function slowStore(taken = new Set<number>()) {
  return {
    taken,
    async isUidTaken(uid: number): Promise<boolean> {
      await nextTurn();
      return taken.has(uid);
    },
    async insert(record: ContainerRecord): Promise<void> {
      await nextTurn();
      taken.add(record.uid);
    },
  };
}

describe("UidClaims", () => {
  it("gives an image check and a create choosing at the same time different uids, even from a range of two", async () => {
    const store = slowStore();
    const uids = new UidClaims(store, range, log);
    // Sixteen rounds: were a uid claimed only after the store answered, each round had an even
    // chance of both choosing the same one while each waited for its answer.
    for (let round = 0; round < 16; round++) {
      const record = { id: `C${round}` } as ContainerRecord;
      const [check] = await Promise.all([uids.claim(), uids.insertWithFreeUid(record)]);
      expect(check.uid).not.toBe(record.uid);
      check.release();
      store.taken.clear();
    }
  });

  it("never hands out a uid the store has, and releases it for others once the store said so", async () => {
    const uids = new UidClaims(slowStore(new Set([5000])), range, log);
    for (let round = 0; round < 8; round++) {
      const claim = await uids.claim();
      expect(claim.uid).toBe(5001);
      claim.release();
      claim.release(); // idempotent: releases nothing another holds
    }
    expect(uids.holds(5000)).toBe(false);
  });

  it("holds a claimed uid until it is released, and answers VALIDATION_FAILED when none is left", async () => {
    const uids = new UidClaims(slowStore(), { first: 5000, last: 5000 }, log);
    const held = await uids.claim();
    expect(uids.holds(5000)).toBe(true);
    await expect(uids.claim()).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    held.release();
    expect((await uids.claim()).uid).toBe(5000);
  });

  it("holds nothing after the store failed to answer", async () => {
    const failing = {
      isUidTaken: async () => Promise.reject(new Error("store down")),
      insert: async () => {},
    };
    const uids = new UidClaims(failing, { first: 5000, last: 5000 }, log);
    await expect(uids.claim()).rejects.toThrow("store down");
    expect(uids.holds(5000)).toBe(false);
  });
});
