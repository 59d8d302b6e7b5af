import { describe, expect, it } from "vitest";
import { LocalContainerLocks } from "./container-locks.ts";

describe("LocalContainerLocks (single-host mode)", () => {
  it("runs the operation at once, with a signal that never aborts, and hands on what it gives", async () => {
    const locks = new LocalContainerLocks();
    let signal: AbortSignal | undefined;
    expect(
      await locks.run("c1", async (lost) => {
        signal = lost;
        return 42;
      }),
    ).toBe(42);
    expect(signal?.aborted).toBe(false);
    await expect(
      locks.run("c1", async () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    await locks.close();
    await locks.close();
  });
});
