import { describe, expect, it } from "vitest";
import { TokenBucket } from "./token-bucket.ts";

describe("TokenBucket", () => {
  it("lets a whole burst through at once, then answers how long until the next token", () => {
    const bucket = new TokenBucket({ perMinute: 60, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(1000);
    expect(bucket.take(400)).toBe(600);
  });

  it("gives tokens back at its rate, never above the burst", () => {
    const bucket = new TokenBucket({ perMinute: 60, burst: 2 }, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.take(1000)).toBe(0);
    expect(bucket.take(1000)).toBe(1000);
    expect(bucket.isFull(60_000)).toBe(true);
    expect([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)]).toEqual([0, 0, 1000]);
  });

  it("is full again once idle long enough, so that a limiter may forget it", () => {
    const bucket = new TokenBucket({ perMinute: 6, burst: 2 }, 0);
    bucket.take(0);
    expect(bucket.isFull(9_999)).toBe(false);
    expect(bucket.isFull(10_000)).toBe(true);
  });
});
