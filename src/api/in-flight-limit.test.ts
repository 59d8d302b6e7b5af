import { describe, expect, it } from "vitest";
import { ReadsInFlightError } from "./connection-limit-errors.ts";
import { InFlightLimit } from "./in-flight-limit.ts";

describe("InFlightLimit", () => {
  it("answers CHANNEL_BUSY at once over the cap, and frees a place when a call settles either way", async () => {
    const limit = new InFlightLimit(2);
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const first = limit.run(() => held.then(() => "first"));
    const second = limit.run(() => Promise.reject(new Error("boom")));
    await expect(limit.run(async () => "third")).rejects.toMatchObject({
      code: "CHANNEL_BUSY",
      details: { limit: 2 },
    });
    await expect(second).rejects.toThrow("boom");
    await expect(limit.run(async () => "after a failure")).resolves.toBe("after a failure");
    expect(limit.inFlight).toBe(1);
    release();
    await expect(first).resolves.toBe("first");
    expect(limit.inFlight).toBe(0);
  });

  it("does not count at all with a cap of 0", async () => {
    const limit = new InFlightLimit(0);
    const calls = Array.from({ length: 5000 }, (_, i) => limit.run(async () => i));
    expect(await Promise.all(calls)).toHaveLength(5000);
  });

  it("refuses with the error it was given (RATE_LIMITED for a connection's large reads)", async () => {
    const limit = new InFlightLimit(1, (max) => new ReadsInFlightError(max));
    const held = limit.run(() => new Promise<void>(() => {}));
    await expect(limit.run(async () => "second")).rejects.toMatchObject({
      code: "RATE_LIMITED",
      details: { limit: "reads_in_flight", max: 1 },
    });
    expect(limit.inFlight).toBe(1);
    void held;
  });
});
