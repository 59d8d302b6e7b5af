import { describe, expect, it } from "vitest";
import {
  CONTAINER_SPACE,
  containerKey,
  LEASE_NAMES,
  LEASE_SPACE,
  leaseKey,
  OWNER_SPACE,
  ownerKey,
} from "./lock-key.ts";

describe("lock keys", () => {
  it("are the same for a name in every process and every version (every server must agree)", () => {
    // Pinned: a change here splits a cluster whose servers run two versions into two leaders.
    expect(leaseKey("reconciler")).toEqual({ space: LEASE_SPACE, id: 1110457389 });
    expect(containerKey("reconciler")).toEqual({ space: CONTAINER_SPACE, id: 1110457389 });
    expect(ownerKey("reconciler")).toEqual({ space: OWNER_SPACE, id: 1110457389 });
  });

  it("keep leases, containers and owners in spaces of their own, berth's and fixed", () => {
    expect(LEASE_SPACE).toBe(0x62657201);
    expect(CONTAINER_SPACE).toBe(0x62657202);
    expect(OWNER_SPACE).toBe(0x62657203);
    expect(new Set([leaseKey("x").space, containerKey("x").space, ownerKey("x").space]).size).toBe(3);
  });

  it("are integers PostgreSQL's two-key form takes (signed 32-bit)", () => {
    for (const name of ["reconciler", "restart-supervisor", "re-placement", "", "ü".repeat(100)]) {
      const { space, id } = leaseKey(name);
      for (const n of [space, id]) {
        expect(Number.isInteger(n)).toBe(true);
        expect(n).toBeGreaterThanOrEqual(-(2 ** 31));
        expect(n).toBeLessThan(2 ** 31);
      }
    }
  });

  it("give berth's singletons distinct keys", () => {
    const ids = LEASE_NAMES.map((n) => leaseKey(n).id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
