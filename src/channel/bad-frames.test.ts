import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

describe("bad frames from a workload", () => {
  let h: ChannelHarness;
  let w: RawWorkload;

  beforeEach(async () => {
    h = await openHarness({ maxFrameBytes: 1024, badFrameLimit: 20, badFrameWindowMs: 10_000 });
    w = await RawWorkload.hello(h.path);
  });
  afterEach(async () => {
    await w.destroy();
    await h.cleanup();
  });

  it.each([
    ["invalid JSON", '{"type":"message",\n', "BAD_FRAME"],
    ["a frame that is not an object", "[1,2,3]\n", "BAD_FRAME"],
    ["an unknown type", '{"type":"launch","data":1}\n', "UNKNOWN_TYPE"],
    ["a second hello", '{"type":"hello","protocol":1}\n', "BAD_FRAME"],
    ["an over-size line", `{"type":"message","data":"${"x".repeat(2000)}"}\n`, "FRAME_TOO_LARGE"],
    ["a response to no request", '{"type":"response","id":"no-such","data":1}\n', "UNKNOWN_REQUEST"],
  ])("answers %s with an error frame, counts it, and keeps working", async (_what, line, code) => {
    w.sendRaw(line);
    expect(await w.next("error")).toMatchObject({ type: "error", code });
    expect(h.hub.status(TEST_ID)).toMatchObject({ connected: true, badFrames: 1 });
    w.serve((data) => data);
    await expect(h.hub.request(TEST_ID, "after")).resolves.toBe("after");
  });

  it("never buffers more than the frame limit of a line that has no end", async () => {
    const chunk = "y".repeat(4096);
    for (let i = 0; i < 256; i++) w.sendRaw(chunk); // 1 MiB, no newline
    w.sendRaw('\n{"type":"message","data":"next"}\n');
    const message = new Promise((resolve) => h.hub.once("message", (_id, data) => resolve(data)));
    expect(await w.next("error")).toMatchObject({ code: "FRAME_TOO_LARGE" });
    expect(await message).toBe("next");
    const logged = h.logs.find((l) => l.msg === "dropped bad frame");
    expect(logged).toMatchObject({ code: "FRAME_TOO_LARGE", bytes: 256 * 4096 });
  });

  it("logs the kind and size of a bad frame, never its content", async () => {
    w.sendRaw('{"type":"mystery","data":"hunter2-secret-value"}\n');
    await w.next("error");
    const text = JSON.stringify(h.logs);
    expect(text).toContain("dropped bad frame");
    expect(text).not.toContain("hunter2-secret-value");
  });

  it("disconnects a workload that keeps sending garbage", async () => {
    const disconnected = new Promise((resolve) =>
      h.hub.once("disconnected", (_id, reason) => resolve(reason)),
    );
    const pending = h.hub.request(TEST_ID, 1).catch((e: unknown) => e);
    for (let i = 0; i < 25; i++) w.sendRaw("garbage\n");
    expect(await disconnected).toBe("too_many_bad_frames");
    await w.closed;
    const errors = w.frames.filter((f) => f.type === "error");
    expect(errors).toHaveLength(21);
    expect(errors.at(-1)).toMatchObject({ code: "TOO_MANY_BAD_FRAMES" });
    expect(await pending).toMatchObject({
      code: "CHANNEL_DISCONNECTED",
      details: { reason: "too_many_bad_frames" },
    });
    expect(h.hub.status(TEST_ID).connected).toBe(false);
  });
});
