import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BerthError } from "../errors/berth-error.ts";
import { ENCODE_ABOVE_CHARS } from "./frame-writer.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";
import { type Frame, RawWorkload } from "./testing/raw-workload.ts";

describe("requests, messages and pings", () => {
  let h: ChannelHarness;
  let workload: RawWorkload | undefined;

  beforeEach(async () => {
    h = await openHarness();
  });
  afterEach(async () => {
    await workload?.destroy();
    workload = undefined;
    await h.cleanup();
  });

  async function connected(): Promise<RawWorkload> {
    workload = await RawWorkload.hello(h.path);
    return workload;
  }

  it("answers a request with the workload's response", async () => {
    const w = await connected();
    w.serve((data) => ({ echo: data }));
    await expect(h.hub.request(TEST_ID, { n: 1, s: "ü✓" })).resolves.toEqual({ echo: { n: 1, s: "ü✓" } });
  });

  it("carries large frames with multi-byte text intact, on both sides of the encode threshold", async () => {
    const w = await connected();
    w.serve((data) => ({ echo: data }));
    // Written as strings below ENCODE_ABOVE_CHARS and as Buffers above: the bytes must not differ.
    for (const chars of [ENCODE_ABOVE_CHARS - 64, ENCODE_ABOVE_CHARS, 24_000]) {
      const text = "ü✓𝄞a".repeat(Math.ceil(chars / 5)).slice(0, chars);
      await expect(h.hub.request(TEST_ID, { text })).resolves.toEqual({ echo: { text } });
    }
  });

  it("resolves 1,000 requests in flight answered in reverse order", async () => {
    const w = await connected();
    const all = Promise.all(Array.from({ length: 1000 }, (_, i) => h.hub.request(TEST_ID, i)));
    const requests: Frame[] = [];
    for (let i = 0; i < 1000; i++) requests.push(await w.next("request"));
    for (const r of requests.reverse()) w.send({ type: "response", id: r.id, data: (r.data as number) * 2 });
    const answers = await all;
    expect(answers).toEqual(Array.from({ length: 1000 }, (_, i) => i * 2));
    expect(h.hub.status(TEST_ID).inFlight).toBe(0);
  });

  it("fails with WORKLOAD_ERROR carrying the workload's message and code", async () => {
    const w = await connected();
    const pending = h.hub.request(TEST_ID, "x");
    const r = await w.next("request");
    w.send({ type: "response", id: r.id, error: { message: "no such thing", code: "E_NOPE" } });
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({
      code: "WORKLOAD_ERROR",
      details: { message: "no such thing", code: "E_NOPE" },
    });
  });

  it("fails send, request and ping at once with CHANNEL_NOT_CONNECTED when no workload is connected", async () => {
    await expect(h.hub.send(TEST_ID, 1)).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
    await expect(h.hub.request(TEST_ID, 1)).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
    await expect(h.hub.ping(TEST_ID)).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
    await expect(h.hub.request("C_UNKNOWN", 1)).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
  });

  it("treats a connection that has not said hello as not connected", async () => {
    workload = await RawWorkload.connect(h.path);
    await expect(h.hub.request(TEST_ID, 1)).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
  });

  it("fails pending requests at once with CHANNEL_DISCONNECTED when the workload dies", async () => {
    const w = await connected();
    const pending = [h.hub.request(TEST_ID, 1), h.hub.request(TEST_ID, 2), h.hub.ping(TEST_ID)];
    await w.next("request");
    const started = performance.now();
    await w.destroy();
    for (const p of pending) await expect(p).rejects.toMatchObject({ code: "CHANNEL_DISCONNECTED" });
    // The code says it was the disconnect; the bound says none of them waited for a timeout (the ping's is
    // the shortest, 5 s), with room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(h.hub.status(TEST_ID)).toMatchObject({ connected: false });
  });

  it("fails with CHANNEL_TIMEOUT when the workload never answers", async () => {
    const w = await connected();
    const started = performance.now();
    const failed = h.hub.request(TEST_ID, 1, { timeoutMs: 150 }).catch((e: unknown) => e);
    // Not failed early, read on the request's own clock: a timer starts from the event loop's cached time,
    // which on a loaded machine lags performance.now() by however long the current turn has run, so a
    // wall-clock lower bound would be flaky. A 149 ms timer set now, from the same or an earlier cached
    // time, must have fired before the 150 ms request fails.
    let earlierTimerFired = false;
    setTimeout(() => {
      earlierTimerFired = true;
    }, 149);
    const err = await failed;
    expect(earlierTimerFired).toBe(true);
    expect(err).toMatchObject({ code: "CHANNEL_TIMEOUT", details: { timeoutMs: 150 } });
    // Nowhere near the 30 s default timeout, with room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000);
    // The late answer is dropped quietly: it is not the workload's fault.
    const r = await w.next("request");
    w.send({ type: "response", id: r.id, data: "late" });
    w.serve(() => "ok");
    await expect(h.hub.request(TEST_ID, 2)).resolves.toBe("ok");
    expect(h.hub.status(TEST_ID).badFrames).toBe(0);
  });

  it("caps a request's timeout at maxRequestTimeoutMs", async () => {
    await h.cleanup();
    h = await openHarness({ maxRequestTimeoutMs: 100 });
    await connected();
    const started = performance.now();
    await expect(h.hub.request(TEST_ID, 1, { timeoutMs: 60_000 })).rejects.toMatchObject({
      code: "CHANNEL_TIMEOUT",
      details: { timeoutMs: 100 },
    });
    // Capped: nowhere near the 60 s asked for, with room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("fails a request with the signal's reason when it is aborted", async () => {
    await connected();
    const controller = new AbortController();
    const pending = h.hub.request(TEST_ID, 1, { signal: controller.signal });
    const reason = new Error("client went away");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(h.hub.status(TEST_ID).inFlight).toBe(0);
    await expect(h.hub.request(TEST_ID, 1, { signal: controller.signal })).rejects.toBe(reason);
  });

  it("refuses data that has no JSON form with VALIDATION_FAILED", async () => {
    await connected();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(h.hub.request(TEST_ID, cyclic)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(h.hub.send(TEST_ID, 10n)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("delivers messages both ways", async () => {
    const w = await connected();
    await h.hub.send(TEST_ID, { hi: "workload" });
    expect(await w.next("message")).toEqual({ type: "message", data: { hi: "workload" } });
    const received = new Promise<[string, unknown, number]>((resolve) =>
      h.hub.once("message", (id, data, ts) => resolve([id, data, ts])),
    );
    w.send({ type: "message", data: [1, "two"] });
    const [id, data, ts] = await received;
    expect(id).toBe(TEST_ID);
    expect(data).toEqual([1, "two"]);
    expect(Math.abs(ts - Date.now())).toBeLessThan(5_000);
  });

  it("keeps reading frames when a message listener throws", async () => {
    const w = await connected();
    h.hub.on("message", () => {
      throw new Error("listener bug");
    });
    w.send({ type: "message", data: 1 });
    w.serve(() => "still fine");
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("still fine");
    expect(h.logs.some((l) => l.msg === "channel event listener threw")).toBe(true);
  });

  it("measures the round trip of a ping and answers the workload's pings", async () => {
    const w = await connected();
    w.serve(() => null);
    const rtt = await h.hub.ping(TEST_ID);
    expect(rtt).toBeGreaterThan(0);
    expect(h.hub.status(TEST_ID).rttMs).toBe(rtt);
    w.send({ type: "ping", id: "w1" });
    expect(await w.next("pong")).toEqual({ type: "pong", id: "w1" });
  });

  it("fails a ping with CHANNEL_TIMEOUT when no pong comes", async () => {
    await connected();
    await expect(h.hub.ping(TEST_ID, 50)).rejects.toMatchObject({ code: "CHANNEL_TIMEOUT" });
  });
});
