import { describe, expect, it } from "vitest";
import type { Clock } from "./clock.ts";
import { RetryPolicy } from "./retry-policy.ts";

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe("RetryPolicy", () => {
  it("retries what is retryable with growing, jittered delays, then succeeds", async () => {
    const clock = fakeClock();
    const policy = new RetryPolicy({
      isRetryable: () => true,
      clock,
      random: () => 1,
      baseDelayMs: 100,
      maxAttempts: 5,
    });
    let calls = 0;
    const result = await policy.run(async () => {
      if (++calls < 4) throw new Error("transient");
      return "done";
    });
    expect(result).toBe("done");
    expect(clock.slept).toEqual([100, 200, 400]);
  });

  it("never retries what cannot succeed", async () => {
    const policy = new RetryPolicy({ isRetryable: () => false, clock: fakeClock() });
    let calls = 0;
    await expect(
      policy.run(async () => {
        calls++;
        throw new Error("404");
      }),
    ).rejects.toThrow("404");
    expect(calls).toBe(1);
  });

  it("gives up after its attempts and after its total time, with the last error", async () => {
    const clock = fakeClock();
    const byAttempts = new RetryPolicy({ isRetryable: () => true, clock, maxAttempts: 3, random: () => 0 });
    let calls = 0;
    await expect(byAttempts.run(async () => Promise.reject(new Error(`e${++calls}`)))).rejects.toThrow("e3");

    const byTime = new RetryPolicy({
      isRetryable: () => true,
      clock: fakeClock(),
      maxAttempts: 100,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      maxTotalMs: 2500,
      random: () => 1,
    });
    calls = 0;
    await expect(byTime.run(async () => Promise.reject(new Error(`t${++calls}`)))).rejects.toThrow("t3");
  });

  it("keeps every delay within [0, cap]", () => {
    const policy = new RetryPolicy({ isRetryable: () => true, baseDelayMs: 100, maxDelayMs: 1000 });
    for (let attempt = 1; attempt < 20; attempt++) {
      const d = policy.delayFor(attempt);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** (attempt - 1)));
    }
  });
});
