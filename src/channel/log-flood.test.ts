import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

const RECONNECTS = 500;
const BAD_FRAMES_EACH = 20; // at the limit: each connection stays up until it goes itself

describe("a workload that keeps reconnecting and sending bad frames", () => {
  let h: ChannelHarness;

  beforeEach(async () => {
    h = await openHarness({ badFrameLimit: BAD_FRAMES_EACH, badFrameWindowMs: 10_000 });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it("cannot flood the system log: each kind of event is logged once, then counted", async () => {
    for (let i = 0; i < RECONNECTS; i++) {
      const w = await RawWorkload.hello(h.path);
      for (let f = 0; f < BAD_FRAMES_EACH; f++) w.sendRaw("not json\n");
      // Each bad frame is answered: once all are, berth has counted them all.
      for (let f = 0; f < BAD_FRAMES_EACH; f++) await w.next("error");
      await w.destroy();
    }
    await h.hub.closeAll(); // writes the counts of the interval in progress

    const lines = h.logs.filter((l) => l.containerId === TEST_ID);
    expect(lines.length).toBeLessThanOrEqual(8);
    const first = (msg: string) => lines.filter((l) => l.msg === msg);
    const repeated = (msg: string) => lines.find((l) => l.msg === `${msg} (repeated)`)?.repeated;
    expect(first("workload connected")).toHaveLength(1);
    expect(first("dropped bad frame")).toHaveLength(1);
    expect(first("workload disconnected")).toHaveLength(1);
    expect(repeated("workload connected")).toBe(RECONNECTS - 1);
    expect(repeated("dropped bad frame")).toBe(RECONNECTS * BAD_FRAMES_EACH - 1);
    expect(repeated("workload disconnected")).toBe(RECONNECTS - 1);
  }, 60_000);

  it("logs refused handshakes once, then counts them", async () => {
    for (let i = 0; i < 200; i++) {
      const w = await RawWorkload.connect(h.path);
      w.send({ type: "hello", protocol: 99 });
      await w.closed;
    }
    await h.hub.closeAll();
    const lines = h.logs.filter((l) => l.containerId === TEST_ID && String(l.msg).startsWith("refused"));
    expect(lines).toMatchObject([
      { msg: "refused workload handshake" },
      { msg: "refused workload handshake (repeated)", repeated: 199 },
    ]);
  });
});
