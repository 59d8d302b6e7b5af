import { afterEach, describe, expect, it } from "vitest";
import type { ContainerTraffic } from "./channel-observer.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

/** The holds the hub reported for the test container. */
function holdCounter() {
  const seen = { holds: 0, heldMs: 0 };
  const traffic: ContainerTraffic = {
    requestEnded: () => {},
    received: () => {},
    sent: () => {},
    frameRefused: () => {},
    held: (ms, started) => {
      if (started) seen.holds++;
      seen.heldMs += ms;
    },
  };
  return { seen, observer: { forContainer: () => traffic, forget: () => {} } };
}

/** Collects the messages the hub passes on until `count` have come. */
function messages(h: ChannelHarness, count: number): Promise<unknown[]> {
  const got: unknown[] = [];
  return new Promise((resolve) => {
    h.hub.on("message", (id, data) => {
      if (id !== TEST_ID) return;
      got.push(data);
      if (got.length === count) resolve(got);
    });
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("what a workload sends unasked, paced", () => {
  let h: ChannelHarness | undefined;
  let w: RawWorkload | undefined;
  afterEach(async () => {
    await w?.destroy();
    await h?.cleanup();
    w = undefined;
    h = undefined;
  });

  it("holds a workload over its budget of frames, and passes on every message, in order", async () => {
    const { seen, observer } = holdCounter();
    h = await openHarness({ messageRate: 200, observer });
    w = await RawWorkload.hello(h.path);
    const at: number[] = [];
    h.hub.on("message", () => at.push(performance.now()));
    const all = messages(h, 600);
    // In writes of 50, a turn of the event loop apart, so that berth reads them in many chunks (a
    // chunk read is handled whole: the budget is kept across chunks). A second's worth goes through at
    // once; the 400 after it are 2 s of budget. (Not a few ms apart: on a loaded machine such sleeps
    // stretch, the writes trickle in at about the budget's pace, and berth has little left to hold.)
    for (let i = 0; i < 600; i += 50) {
      w.sendRaw(
        range(50)
          .map((j) => `{"type":"message","data":${i + j}}\n`)
          .join(""),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await all).toEqual(range(600));
    expect(seen.holds).toBeGreaterThan(0);
    // A lower bound only (a busy machine can only make it later): held near the budget, not at once.
    expect(at.at(-1)! - at[0]!).toBeGreaterThan(1000);
    expect(seen.heldMs).toBeGreaterThan(1000);
  });

  it("keeps one budget per channel: a workload that reconnects does not get a fresh burst", async () => {
    const { seen, observer } = holdCounter();
    h = await openHarness({ messageRate: 100, observer });
    w = await RawWorkload.hello(h.path);
    const first = messages(h, 100);
    w.sendRaw(
      range(100)
        .map((i) => `{"type":"message","data":${i}}\n`)
        .join(""),
    );
    await first;
    expect(seen.holds).toBe(0);
    await w.destroy();
    w = await RawWorkload.hello(h.path);
    const second = messages(h, 50);
    w.sendRaw(
      range(50)
        .map((i) => `{"type":"message","data":${i}}\n`)
        .join(""),
    );
    await second;
    expect(seen.holds).toBe(1);
  });

  it("holds on bytes too", async () => {
    const { seen, observer } = holdCounter();
    h = await openHarness({ messageBytesRate: 32 * 1024, observer });
    w = await RawWorkload.hello(h.path);
    const all = messages(h, 100);
    const pad = "x".repeat(1000);
    w.sendRaw(
      range(100)
        .map((i) => `{"type":"message","data":[${i},"${pad}"]}\n`)
        .join(""),
    );
    expect(((await all) as Array<[number, string]>).map(([i]) => i)).toEqual(range(100));
    expect(seen.holds).toBeGreaterThan(0);
  });

  it("never charges answers to berth's requests: a budget of 1 frame a second holds none of 500", async () => {
    const { seen, observer } = holdCounter();
    h = await openHarness({ messageRate: 1, messageBytesRate: 1, observer });
    w = await RawWorkload.hello(h.path);
    w.serve((data) => data);
    const hub = h.hub;
    const answers = await Promise.all(range(500).map((i) => hub.request(TEST_ID, { i })));
    expect(answers).toEqual(range(500).map((i) => ({ i })));
    expect(await hub.ping(TEST_ID)).toBeGreaterThanOrEqual(0);
    expect(seen.holds).toBe(0);
  });

  it("charges a pong to no ping of berth's as sent unasked", async () => {
    const { seen, observer } = holdCounter();
    h = await openHarness({ messageRate: 10, heartbeatIntervalMs: 0, observer });
    w = await RawWorkload.hello(h.path);
    w.sendRaw(
      range(20)
        .map((i) => `{"type":"pong","id":"x${i}"}\n`)
        .join(""),
    );
    // Five pings alone are within the budget; after the twenty stray pongs, they are not.
    w.sendRaw(
      range(5)
        .map((i) => `{"type":"ping","id":"p${i}"}\n`)
        .join(""),
    );
    for (let i = 0; i < 5; i++) await w.next("pong");
    expect(seen.holds).toBeGreaterThan(0);
  });

  it("reads a flood a slice at a time without losing or reordering a frame (no budget)", async () => {
    h = await openHarness({ readSliceBytes: 4096 });
    w = await RawWorkload.hello(h.path);
    const n = 20_000;
    const all = messages(h, n);
    // About 1.2 MB in one write: hundreds of slices, frames split across their edges.
    w.sendRaw(
      range(n)
        .map((i) => `{"type":"message","data":${i},"pad":"${"p".repeat(i % 97)}"}\n`)
        .join(""),
    );
    expect(await all).toEqual(range(n));
  });

  it("answers a held workload's requests once its messages before them are through", async () => {
    h = await openHarness({ messageRate: 100 });
    w = await RawWorkload.hello(h.path);
    w.serve((data) => data);
    const all = messages(h, 250);
    w.sendRaw(
      range(250)
        .map((i) => `{"type":"message","data":${i}}\n`)
        .join(""),
    );
    expect(await h.hub.request(TEST_ID, "still here")).toBe("still here");
    expect(await all).toEqual(range(250));
  });

  it("closes a held channel at once", async () => {
    h = await openHarness({ messageRate: 1 });
    w = await RawWorkload.hello(h.path);
    const hub = h.hub;
    const first = messages(h, 5);
    // Held for about 10 s after the first frames: closing must not wait for that.
    w.sendRaw(
      range(10)
        .map((i) => `{"type":"message","data":${i}}\n`)
        .join(""),
    );
    await first;
    const started = Date.now();
    await hub.close(TEST_ID);
    await w.closed;
    // Not the 10 s the rest is held for; the margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
