import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

describe("backpressure and limits on what berth sends", () => {
  let h: ChannelHarness;
  let w: RawWorkload;

  beforeEach(async () => {
    h = await openHarness({ maxFrameBytes: 16 * 1024, maxQueuedBytes: 64 * 1024 });
    w = await RawWorkload.hello(h.path);
  });
  afterEach(async () => {
    await w.destroy();
    await h.cleanup();
  });

  it("fails with CHANNEL_BUSY once a workload that never reads has a full queue", async () => {
    w.socket.pause(); // the workload stops reading: the kernel buffers fill, then berth's queue
    const data = "z".repeat(8 * 1024);
    const sends: Array<Promise<unknown>> = [];
    let busy: unknown;
    for (let i = 0; i < 10_000 && busy === undefined; i++) {
      const sent = h.hub.send(TEST_ID, data);
      sends.push(sent.catch((e: unknown) => e));
      busy = await Promise.race([
        sent.then(
          () => undefined,
          (e: unknown) => e,
        ),
        new Promise((r) => setImmediate(r)),
      ]);
    }
    // Refused at the bound once the workload has stalled, or at four times it while it still seemed to read.
    expect(busy).toMatchObject({ code: "CHANNEL_BUSY" });
    expect([64 * 1024, 256 * 1024]).toContain(
      (busy as { details: { limitBytes: number } }).details.limitBytes,
    );
    await expect(h.hub.request(TEST_ID, data)).rejects.toMatchObject({ code: "CHANNEL_BUSY" });
    // Sends still queued fail when the connection goes, rather than hang.
    await h.hub.close(TEST_ID);
    const outcomes = await Promise.all(sends);
    expect(outcomes.filter((o) => o === undefined).length).toBeGreaterThan(0);
    const failed = outcomes.filter((o) => o !== undefined);
    expect(failed.length).toBeGreaterThan(1);
    for (const err of failed)
      expect(err).toMatchObject({ code: expect.stringMatching(/^CHANNEL_(BUSY|DISCONNECTED)$/) });
  });

  it("fails with FRAME_TOO_LARGE when the serialized frame exceeds the limit", async () => {
    await expect(h.hub.send(TEST_ID, "x".repeat(16 * 1024))).rejects.toMatchObject({
      code: "FRAME_TOO_LARGE",
    });
    // 2-byte characters: the limit is in bytes, not characters.
    await expect(h.hub.request(TEST_ID, "é".repeat(8200))).rejects.toMatchObject({
      code: "FRAME_TOO_LARGE",
      details: { limitBytes: 16 * 1024 },
    });
    w.serve((d) => (d as string).length);
    await expect(h.hub.request(TEST_ID, "é".repeat(8000))).resolves.toBe(8000);
  });
});
