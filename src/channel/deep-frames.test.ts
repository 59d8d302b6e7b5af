import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

const MiB = 1024 * 1024;

/** JSON text of arrays nested `levels` deep. */
const deep = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
/** As deep as a 1 MiB frame allows: about half a million levels. */
const DEEPEST = Math.floor((MiB - 64) / 2);

describe("frames nested too deep", () => {
  let h: ChannelHarness;
  let w: RawWorkload;
  let messages: unknown[];

  beforeEach(async () => {
    h = await openHarness({ maxFrameBytes: MiB, badFrameLimit: 20, badFrameWindowMs: 10_000 });
    w = await RawWorkload.hello(h.path);
    messages = [];
    h.hub.on("message", (_id, data) => messages.push(data));
  });
  afterEach(async () => {
    await w.destroy();
    await h.cleanup();
  });

  it("drops a message nested half a million deep as a bad frame, and passes the next one on", async () => {
    w.sendRaw(`{"type":"message","data":${deep(DEEPEST)}}\n`);
    expect(await w.next("error")).toMatchObject({
      code: "BAD_FRAME",
      message: expect.stringMatching(/64 levels/),
    });
    const next = new Promise((resolve) => h.hub.once("message", (_id, data) => resolve(data)));
    w.send({ type: "message", data: "after" });
    expect(await next).toBe("after");
    expect(messages).toEqual(["after"]);
    expect(h.hub.status(TEST_ID)).toMatchObject({ connected: true, badFrames: 1 });
    expect(h.logs.find((l) => l.msg === "dropped bad frame")).toMatchObject({ code: "BAD_FRAME" });
  });

  it("passes on data exactly 64 levels deep, and drops 65", async () => {
    w.sendRaw(`{"type":"message","data":${deep(65)}}\n`);
    expect(await w.next("error")).toMatchObject({ code: "BAD_FRAME" });
    const next = new Promise((resolve) => h.hub.once("message", (_id, data) => resolve(data)));
    w.sendRaw(`{"type":"message","data":${deep(64)}}\n`);
    const data = await next;
    expect(JSON.stringify(data)).toBe(deep(64));
    expect(messages).toHaveLength(1);
  });

  it("fails a request at once when its answer is too deep, and answers the next one", async () => {
    const pending = h.hub.request(TEST_ID, "q").catch((e: unknown) => e);
    const request = await w.next("request");
    w.sendRaw(`{"type":"response","id":${JSON.stringify(request.id)},"data":${deep(DEEPEST)}}\n`);
    expect(await pending).toMatchObject({ code: "WORKLOAD_ERROR", details: { code: "BAD_FRAME" } });
    expect(await w.next("error")).toMatchObject({ code: "BAD_FRAME", id: request.id });
    w.serve((data) => data);
    await expect(h.hub.request(TEST_ID, "after")).resolves.toBe("after");
  });

  it("refuses a hello whose meta is too deep", async () => {
    const other = await RawWorkload.connect(h.path);
    other.sendRaw(`{"type":"hello","protocol":1,"meta":${deep(1000)}}\n`);
    expect(await other.next("error")).toMatchObject({ code: "BAD_HELLO" });
    await other.closed;
  });
});
