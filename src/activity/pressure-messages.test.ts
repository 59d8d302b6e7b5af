import { describe, expect, it } from "vitest";
import { describePressure } from "./pressure-messages.ts";

const bob = { owner: "bob", id: "c-1", name: "spinner" };

describe("describePressure", () => {
  it("tells CPU throttling with the limit, the share of periods and the window", () => {
    const draft = describePressure(
      {
        kind: "cpu_throttled",
        containerKey: "c-1",
        cpus: 0.5,
        throttledPercent: 92,
        throttledMs: 13_800,
        windowMs: 30_000,
      },
      bob,
    );
    expect(draft).toMatchObject({
      owner: "bob",
      containerId: "c-1",
      containerName: "spinner",
      level: "warning",
      action: "container.cpu_throttled",
      message:
        "'spinner' is using all the CPU it may: held to its limit of 0.5 cores, throttled in 92% of periods over the last 30 s",
      details: { cpus: 0.5, throttledPercent: 92, throttledMs: 13_800, windowMs: 30_000 },
    });
  });

  it("tells a process limit reached with the limit and the refused count", () => {
    const draft = describePressure(
      { kind: "pids_limit", containerKey: "c-1", limit: 128, current: 127, refused: 3140, windowMs: 10_000 },
      bob,
    );
    expect(draft.action).toBe("container.pids_limit_reached");
    expect(draft.message).toBe(
      "'spinner' reached its limit of 128 processes (127 running); 3,140 new processes were refused over the last 10 s",
    );
  });

  it("tells a channel held back to its budget with the holds, the time held and the budget", () => {
    const MiB = 1024 * 1024;
    const draft = describePressure(
      {
        kind: "channel_flooded",
        containerKey: "c-1",
        bytes: 2.5 * MiB,
        windowMs: 10_000,
        bytesPerSecond: 0.25 * MiB,
        limitBytesPerSecond: MiB,
        refusedFrames: 0,
        holds: 1200,
        heldMs: 8_420,
        messageRate: 5000,
        messageBytesRate: 8 * MiB,
      },
      bob,
    );
    expect(draft.action).toBe("container.channel_flooded");
    expect(draft.message).toBe(
      "'spinner' flooded its channel: sent 2.5 MiB in 10 s (256 KiB/s; the output limit is 1 MiB/s); berth held it back 1,200 times (8.4 s in all) to its budget of 5,000 frames and 8 MiB a second sent unasked",
    );
    expect(draft.details).toMatchObject({ holds: 1200, heldMs: 8_420, messageRate: 5000 });
  });

  it("tells an output hold with what was written, the rate, the limit and the hold", () => {
    const MiB = 1024 * 1024;
    const draft = describePressure(
      {
        kind: "output_rate_limited",
        containerKey: "c-1",
        bytes: 48 * MiB,
        windowMs: 10_000,
        bytesPerSecond: 4.8 * MiB,
        limitBytesPerSecond: MiB,
        heldCpus: 0.05,
        holdMs: 30_000,
      },
      bob,
    );
    expect(draft.action).toBe("container.output_rate_limited");
    expect(draft.message).toBe(
      "'spinner' output rate-limited: wrote 48 MiB in 10 s (4.8 MiB/s; limit 1 MiB/s); held to 0.05 CPU for 30 s",
    );
  });

  it("tells output over the limit of a workload whose own CPU limit is already below the hold's", () => {
    const MiB = 1024 * 1024;
    const draft = describePressure(
      {
        kind: "output_rate_limited",
        containerKey: "c-1",
        bytes: 48 * MiB,
        windowMs: 10_000,
        bytesPerSecond: 4.8 * MiB,
        limitBytesPerSecond: MiB,
        heldCpus: 0.02,
        holdMs: 0,
      },
      bob,
    );
    expect(draft.message).toBe(
      "'spinner' output rate-limited: wrote 48 MiB in 10 s (4.8 MiB/s; limit 1 MiB/s); not held back: its own limit of 0.02 CPU is already that low",
    );
  });
});
