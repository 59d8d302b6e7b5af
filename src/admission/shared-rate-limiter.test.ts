import { describe, expect, it } from "vitest";
import type { RateLimits } from "#protocol";
import type { SharedRateBuckets } from "../cluster/shared-rate-buckets.ts";
import { SharedRateLimiter } from "./shared-rate-limiter.ts";

const LIMITS: RateLimits = {
  create: { perMinute: 30, burst: 10 },
  lifecycle: { perMinute: 0, burst: 30 },
  update: { perMinute: 12, burst: 5 },
};

/** Buckets that answer what the test says, and remember what they were asked. */
function fakeBuckets(answer: number): SharedRateBuckets & { asked: unknown[][] } {
  const asked: unknown[][] = [];
  return {
    asked,
    take: async (...args) => {
      asked.push(args);
      return answer;
    },
    close: async () => {},
  };
}

describe("SharedRateLimiter", () => {
  it("takes the owner's token of the kind from the shared buckets, at the configured rate", async () => {
    const buckets = fakeBuckets(0);
    await new SharedRateLimiter(LIMITS, buckets).take({ owner: "alice", admin: false }, "create");
    expect(buckets.asked).toEqual([["alice", "create", { perMinute: 30, burst: 10 }]]);
  });

  it("answers RATE_LIMITED with when to retry once the owner's bucket is empty", async () => {
    const limiter = new SharedRateLimiter(LIMITS, fakeBuckets(1234.5));
    await expect(limiter.take({ owner: "alice", admin: false }, "update")).rejects.toMatchObject({
      code: "RATE_LIMITED",
      retryable: true,
      details: { limit: "update", retryAfterMs: 1235 },
    });
  });

  it("never asks for the admin, nor for a kind whose rate is off", async () => {
    const buckets = fakeBuckets(60_000);
    const limiter = new SharedRateLimiter(LIMITS, buckets);
    await limiter.take({ owner: "admin", admin: true }, "create");
    await limiter.take({ owner: "alice", admin: false }, "lifecycle");
    expect(buckets.asked).toEqual([]);
  });
});
