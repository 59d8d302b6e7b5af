import { describe, expect, it } from "vitest";
import { AgentLease, type LeaseState } from "./agent-lease.ts";
import { FakeLeaseClock } from "./testing/fake-lease-clock.ts";

function lease(leaseMs = 8_000, graceMs = 60_000) {
  const clock = new FakeLeaseClock();
  const l = new AgentLease({ leaseMs, graceMs, clock });
  const changes: Array<[LeaseState, LeaseState, number]> = [];
  l.on("changed", (state, before, silentMs) => changes.push([state, before, silentMs]));
  return { clock, lease: l, changes };
}

describe("the node agent's lease", () => {
  it("is held for one lease at start, lapses without a renewal, and is fenced after the grace", () => {
    const { clock, lease: l, changes } = lease();
    expect(l.state).toBe("held");
    clock.advance(7_999);
    expect(l.held).toBe(true);
    clock.advance(1);
    expect(l.state).toBe("lapsed");
    clock.advance(59_999);
    expect(l.state).toBe("lapsed");
    clock.advance(1);
    expect(l.state).toBe("fenced");
    expect(changes).toEqual([
      ["lapsed", "held", 8_000],
      ["fenced", "lapsed", 68_000],
    ]);
  });

  it("stays held while any server renews it within the lease", () => {
    const { clock, lease: l, changes } = lease();
    for (let i = 0; i < 100; i++) {
      clock.advance(1_000);
      l.renew(30_000);
    }
    clock.advance(7_999);
    expect(l.held).toBe(true);
    expect(changes).toEqual([]);
    // One timer at a time, however many renewals came.
    expect(clock.pending).toBe(1);
  });

  it("runs for the shorter of the server's word and its own lease", () => {
    const { clock, lease: l } = lease(8_000);
    l.renew(2_000);
    clock.advance(2_000);
    expect(l.state).toBe("lapsed");
    l.renew(60_000);
    clock.advance(7_999);
    expect(l.state).toBe("held");
    clock.advance(1);
    expect(l.state).toBe("lapsed");
  });

  it("is held again at a renewal, lapsed or fenced, and the grace starts over at the next lapse", () => {
    const { clock, lease: l, changes } = lease(8_000, 60_000);
    clock.advance(8_000 + 60_000);
    expect(l.state).toBe("fenced");
    l.renew(30_000);
    expect(l.state).toBe("held");
    clock.advance(8_000);
    expect(l.state).toBe("lapsed");
    clock.advance(1_000);
    l.renew(30_000);
    expect(l.state).toBe("held");
    clock.advance(8_000 + 59_999);
    expect(l.state).toBe("lapsed");
    expect(changes.map(([state, before]) => `${before}→${state}`)).toEqual([
      "held→lapsed",
      "lapsed→fenced",
      "fenced→held",
      "held→lapsed",
      "lapsed→held",
      "held→lapsed",
    ]);
  });

  it("stops its clock when closed, and takes no renewal after", () => {
    const { clock, lease: l, changes } = lease();
    l.close();
    l.close();
    expect(clock.pending).toBe(0);
    clock.advance(100_000);
    l.renew(30_000);
    expect(l.state).toBe("held");
    expect(changes).toEqual([]);
  });
});
