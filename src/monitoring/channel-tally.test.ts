import { describe, expect, it } from "vitest";
import type { ChannelObserver, ContainerTraffic } from "../channel/channel-observer.ts";
import { ChannelTally } from "./channel-tally.ts";

describe("ChannelTally", () => {
  it("adds up each container's bytes and refused frames, and passes every report on", () => {
    const seen: string[] = [];
    const inner: ChannelObserver = {
      forContainer: (id): ContainerTraffic => ({
        requestEnded: () => seen.push(`${id} ended`),
        received: (bytes) => seen.push(`${id} received ${bytes}`),
        sent: (bytes) => seen.push(`${id} sent ${bytes}`),
        frameRefused: (code) => seen.push(`${id} refused ${code}`),
        held: (ms, started) => seen.push(`${id} held ${ms}${started ? "" : " more"}`),
      }),
      forget: (id) => seen.push(`${id} forgotten`),
    };
    const tally = new ChannelTally(inner);
    const a = tally.forContainer("a");
    a.received(100);
    a.received(50);
    a.frameRefused("BAD_FRAME");
    a.sent(10);
    a.requestEnded(0.1, undefined);
    a.held(40, true);
    a.held(5, false);
    a.held(30, true);
    tally.forContainer("b").received(7);
    expect(tally.totals("a")).toEqual({ receivedBytes: 150, refusedFrames: 1, holds: 2, heldMs: 75 });
    expect(tally.totals("b")).toEqual({ receivedBytes: 7, refusedFrames: 0, holds: 0, heldMs: 0 });
    tally.forget("a");
    expect(tally.totals("a")).toBeUndefined();
    expect(seen).toEqual([
      "a received 100",
      "a received 50",
      "a refused BAD_FRAME",
      "a sent 10",
      "a ended",
      "a held 40",
      "a held 5 more",
      "a held 30",
      "b received 7",
      "a forgotten",
    ]);
  });

  it("counts without metrics", () => {
    const tally = new ChannelTally();
    tally.forContainer("a").received(3);
    expect(tally.totals("a")).toEqual({ receivedBytes: 3, refusedFrames: 0, holds: 0, heldMs: 0 });
  });
});
