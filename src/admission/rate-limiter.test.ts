import { describe, expect, it } from "vitest";
import type { RateLimits } from "#protocol";
import { RateLimitedError } from "./admission-errors.ts";
import { RateLimiter } from "./rate-limiter.ts";

const alice = { owner: "alice", admin: false };
const bob = { owner: "bob", admin: false };
const admin = { owner: "admin", admin: true };

const LIMITS: RateLimits = {
  create: { perMinute: 6, burst: 2 },
  lifecycle: { perMinute: 60, burst: 3 },
  update: { perMinute: 0, burst: 1 },
};

function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function refusal(fn: () => void): RateLimitedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RateLimitedError) return err;
    throw err;
  }
  throw new Error("expected RATE_LIMITED");
}

describe("RateLimiter", () => {
  it("answers RATE_LIMITED with retryAfterMs once an owner's burst is spent", () => {
    const limiter = new RateLimiter(LIMITS, fakeClock());
    limiter.take(alice, "create");
    limiter.take(alice, "create");
    const err = refusal(() => limiter.take(alice, "create"));
    expect(err).toMatchObject({
      code: "RATE_LIMITED",
      category: "system",
      retryable: true,
      details: { limit: "create", retryAfterMs: 10_000 },
    });
  });

  it("lets the request through after retryAfterMs has passed", () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(LIMITS, clock);
    limiter.take(alice, "create");
    limiter.take(alice, "create");
    const { retryAfterMs } = refusal(() => limiter.take(alice, "create"));
    clock.advance(retryAfterMs - 1);
    refusal(() => limiter.take(alice, "create"));
    clock.advance(1);
    expect(() => limiter.take(alice, "create")).not.toThrow();
  });

  it("keeps owners apart: alice over her rate does not limit bob", () => {
    const limiter = new RateLimiter(LIMITS, fakeClock());
    limiter.take(alice, "create");
    limiter.take(alice, "create");
    refusal(() => limiter.take(alice, "create"));
    expect(() => limiter.take(bob, "create")).not.toThrow();
    expect(() => limiter.take(bob, "create")).not.toThrow();
  });

  it("keeps kinds apart: spent creates leave lifecycle operations alone", () => {
    const limiter = new RateLimiter(LIMITS, fakeClock());
    limiter.take(alice, "create");
    limiter.take(alice, "create");
    refusal(() => limiter.take(alice, "create"));
    for (let i = 0; i < 3; i++) limiter.take(alice, "lifecycle");
    expect(refusal(() => limiter.take(alice, "lifecycle")).details).toEqual({
      limit: "lifecycle",
      retryAfterMs: 1000,
    });
  });

  it("does not limit the admin, nor a kind whose rate is 0", () => {
    const limiter = new RateLimiter(LIMITS, fakeClock());
    for (let i = 0; i < 100; i++) {
      limiter.take(admin, "create");
      limiter.take(alice, "update");
    }
    expect(limiter.size).toBe(0);
  });

  it("forgets the buckets of owners who went idle, so memory stays bounded", () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(LIMITS, clock);
    for (let i = 0; i < 1000; i++) limiter.take({ owner: `owner-${i}`, admin: false }, "create");
    expect(limiter.size).toBe(1000);
    // 6 a minute with a burst of 2: one token back after 10 s, so every bucket is full again after a minute.
    clock.advance(60_000);
    limiter.take(alice, "create");
    expect(limiter.size).toBe(1);
  });
});
