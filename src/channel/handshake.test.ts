import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DisconnectReason, HelloInfo } from "./channel-types.ts";
import { PROTOCOL_VERSION } from "./protocol.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { RawWorkload } from "./testing/raw-workload.ts";

describe("handshake", () => {
  let h: ChannelHarness;
  const workloads: RawWorkload[] = [];

  beforeEach(async () => {
    h = await openHarness({ helloTimeoutMs: 200 });
  });
  afterEach(async () => {
    await Promise.all(workloads.splice(0).map((w) => w.destroy()));
    await h.cleanup();
  });

  async function connect(): Promise<RawWorkload> {
    const w = await RawWorkload.connect(h.path);
    workloads.push(w);
    return w;
  }

  function nextBadHello(): Promise<[string, string, string]> {
    return new Promise((resolve) =>
      h.hub.once("bad_hello", (id, reason, message) => resolve([id, reason, message])),
    );
  }

  it("welcomes a good hello with the protocol, the container id and the frame limit", async () => {
    const connectedEvent = new Promise<[string, HelloInfo]>((resolve) =>
      h.hub.once("connected", (id, info) => resolve([id, info])),
    );
    const w = await connect();
    w.send({ type: "hello", protocol: 1, meta: { sdk: "test", version: "1.0" } });
    expect(await w.next()).toEqual({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      id: TEST_ID,
      maxFrameBytes: 64 * 1024,
    });
    const [id, info] = await connectedEvent;
    expect(id).toBe(TEST_ID);
    expect(info).toMatchObject({ protocol: 1, meta: { sdk: "test", version: "1.0" } });
    expect(h.hub.status(TEST_ID)).toMatchObject({
      connected: true,
      protocol: 1,
      connectedAt: info.connectedAt,
    });
  });

  it.each([
    ["a wrong protocol version", { type: "hello", protocol: 2 }, "protocol_mismatch", "PROTOCOL_MISMATCH"],
    ["a message before hello", { type: "message", data: 1 }, "invalid_hello", "BAD_HELLO"],
    ["a hello without a protocol", { type: "hello" }, "invalid_hello", "BAD_HELLO"],
    ["a first frame that is not JSON", "not json", "invalid_hello", "BAD_HELLO"],
  ])("refuses %s with an error frame, closes, and emits bad_hello", async (_what, first, reason, code) => {
    const badHello = nextBadHello();
    const w = await connect();
    if (typeof first === "string") w.sendRaw(`${first}\n`);
    else w.send(first);
    expect(await w.next()).toMatchObject({ type: "error", code });
    await w.closed;
    expect((await badHello).slice(0, 2)).toEqual([TEST_ID, reason]);
    expect(h.hub.lastBadHello(TEST_ID)).toMatchObject({ reason });
    expect(h.hub.status(TEST_ID).connected).toBe(false);
  });

  it("refuses a workload that says nothing within the hello timeout", async () => {
    const badHello = nextBadHello();
    const w = await connect();
    expect(await w.next()).toMatchObject({ type: "error", code: "HELLO_TIMEOUT" });
    await w.closed;
    expect((await badHello)[1]).toBe("hello_timeout");
  });

  it("forgets the last bad hello once a good one arrives", async () => {
    const bad = await connect();
    bad.send({ type: "hello", protocol: 99 });
    await bad.closed;
    expect(h.hub.lastBadHello(TEST_ID)?.reason).toBe("protocol_mismatch");
    workloads.push(await RawWorkload.hello(h.path));
    expect(h.hub.lastBadHello(TEST_ID)).toBeUndefined();
  });

  it("lets a second connection replace the first, which is told so and closed", async () => {
    const events: Array<[string, string]> = [];
    h.hub.on("disconnected", (_id, reason: DisconnectReason) => events.push(["disconnected", reason]));
    h.hub.on("connected", () => events.push(["connected", ""]));
    const first = await RawWorkload.hello(h.path);
    workloads.push(first);
    const pending = h.hub.request(TEST_ID, "for the first").catch((e: unknown) => e);
    const second = await RawWorkload.hello(h.path);
    workloads.push(second);
    expect(await first.next("error")).toMatchObject({ code: "REPLACED" });
    await first.closed;
    expect(await pending).toMatchObject({ code: "CHANNEL_DISCONNECTED", details: { reason: "replaced" } });
    expect(events).toEqual([
      ["connected", ""],
      ["disconnected", "replaced"],
      ["connected", ""],
    ]);
    second.serve(() => "second");
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("second");
  });

  it("keeps the live connection while a newer one has not said hello", async () => {
    const live = await RawWorkload.hello(h.path);
    workloads.push(live);
    live.serve(() => "live");
    const badHello = nextBadHello();
    const intruder = await connect();
    intruder.send({ type: "hello", protocol: 7 });
    await intruder.closed;
    await badHello;
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("live");
    expect(h.hub.status(TEST_ID).connected).toBe(true);
  });

  it("resolves waitForHello at once when a workload is connected, and only for a newer hello when fresh", async () => {
    const first = await RawWorkload.hello(h.path);
    workloads.push(first);
    const now = await h.hub.waitForHello(TEST_ID);
    expect(now.protocol).toBe(1);
    const fresh = h.hub.waitForHello(TEST_ID, { fresh: true });
    let settled = false;
    void fresh.then(() => {
      settled = true;
    });
    first.serve(() => null);
    await h.hub.ping(TEST_ID); // a full round trip: a hello already there would have resolved it by now
    expect(settled).toBe(false);
    workloads.push(await RawWorkload.hello(h.path, { n: 2 }));
    expect((await fresh).meta).toEqual({ n: 2 });
  });

  it("rejects waitForHello when its signal aborts or the channel closes", async () => {
    const controller = new AbortController();
    const aborted = h.hub.waitForHello(TEST_ID, { signal: controller.signal });
    controller.abort(new Error("ready timeout"));
    await expect(aborted).rejects.toThrow("ready timeout");
    const closing = h.hub.waitForHello(TEST_ID).catch((e: unknown) => e);
    await h.hub.close(TEST_ID);
    expect(await closing).toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
    await expect(h.hub.waitForHello(TEST_ID)).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
  });
});
