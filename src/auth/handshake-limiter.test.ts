import { describe, expect, it } from "vitest";
import { addressKey, HandshakeLimiter } from "./handshake-limiter.ts";

describe("HandshakeLimiter", () => {
  it("allows a burst of perMinute handshakes per address, then refills at perMinute a minute", () => {
    let now = 0;
    const limiter = new HandshakeLimiter({ perMinute: 6, now: () => now });
    for (let i = 0; i < 6; i++) expect(limiter.allow("10.0.0.1")).toBe(true);
    expect(limiter.allow("10.0.0.1")).toBe(false);
    // Another address has its own bucket.
    expect(limiter.allow("10.0.0.2")).toBe(true);
    now += 10_000; // one handshake's worth
    expect(limiter.allow("10.0.0.1")).toBe(true);
    expect(limiter.allow("10.0.0.1")).toBe(false);
    now += 10 * 60_000; // never more than the burst
    for (let i = 0; i < 6; i++) expect(limiter.allow("10.0.0.1")).toBe(true);
    expect(limiter.allow("10.0.0.1")).toBe(false);
  });

  it("refuses while a flood keeps coming (refusals do not refill the bucket)", () => {
    let now = 0;
    const limiter = new HandshakeLimiter({ perMinute: 60, now: () => now });
    let allowed = 0;
    for (let i = 0; i < 10_000; i++) {
      now += 10; // 100 handshakes a second for 100 s
      if (limiter.allow("10.0.0.1")) allowed++;
    }
    // The burst, plus one a second.
    expect(allowed).toBeGreaterThanOrEqual(158);
    expect(allowed).toBeLessThanOrEqual(161);
  });

  it("remembers a bounded number of addresses, dropping full buckets first", () => {
    let now = 0;
    const limiter = new HandshakeLimiter({ perMinute: 2, maxAddresses: 100, now: () => now });
    limiter.allow("10.0.0.1");
    limiter.allow("10.0.0.1");
    for (let i = 0; i < 1000; i++) limiter.allow(`10.1.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
    now += 60_000;
    for (let i = 0; i < 1000; i++) limiter.allow(`10.2.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
  });

  it("reports when an address runs dry and when it is let in again, not each refusal", () => {
    let now = 0;
    const reports: unknown[] = [];
    const limiter = new HandshakeLimiter({
      perMinute: 1,
      now: () => now,
      onLimit: (...args) => reports.push(args),
    });
    for (let i = 0; i < 100; i++) limiter.allow("10.0.0.1");
    expect(reports).toEqual([["10.0.0.1", "limited", 0]]);
    now += 60_000;
    limiter.allow("10.0.0.1");
    expect(reports).toEqual([
      ["10.0.0.1", "limited", 0],
      ["10.0.0.1", "released", 99],
    ]);
  });

  it("does nothing when switched off", () => {
    const limiter = new HandshakeLimiter({ perMinute: 0 });
    for (let i = 0; i < 1000; i++) expect(limiter.allow("10.0.0.1")).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it("counts IPv6 per /64 and IPv4-mapped addresses as IPv4", () => {
    expect(addressKey("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(addressKey("2001:db8:0:1:aaaa::1")).toBe("2001:db8:0:1::/64");
    expect(addressKey("2001:0db8:0000:0001:ffff:ffff:ffff:ffff")).toBe("2001:db8:0:1::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    const limiter = new HandshakeLimiter({ perMinute: 1 });
    expect(limiter.allow("2001:db8::1")).toBe(true);
    expect(limiter.allow("2001:db8::2")).toBe(false);
  });
});
