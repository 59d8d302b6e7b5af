import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "../../../src/channel/testing/channel-harness.ts";
import { RawWorkload } from "../../../src/channel/testing/raw-workload.ts";
import { type BerthWorkloadError, connect, type WorkloadClient } from "../lib/index.mjs";

const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20 };

describe("@berth/workload against berth's channel", () => {
  let h: ChannelHarness;
  const clients: WorkloadClient[] = [];

  beforeEach(async () => {
    h = await openHarness({ maxFrameBytes: 4096 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await h.cleanup();
  });

  function client(options: Parameters<typeof connect>[0] = {}): WorkloadClient {
    const c = connect({ socketPath: h.path, reconnect: fastReconnect, ...options });
    clients.push(c);
    return c;
  }

  it("says hello with its meta and answers requests from a plain handler", async () => {
    const c = client({ meta: { app: "echo" } });
    c.onRequest((data) => ({ echo: data }));
    const welcome = await c.ready;
    expect(welcome).toEqual({ id: TEST_ID, protocol: 1, maxFrameBytes: 4096 });
    expect(c.connected).toBe(true);
    expect(h.hub.status(TEST_ID)).toMatchObject({ connected: true, meta: { app: "echo" } });
    await expect(h.hub.request(TEST_ID, [1, "ü"])).resolves.toEqual({ echo: [1, "ü"] });
  });

  it("answers large frames with multi-byte text intact (written as a Buffer above 16 Ki characters)", async () => {
    const big = await openHarness({ maxFrameBytes: 256 * 1024 });
    const c = connect({ socketPath: big.path, reconnect: fastReconnect });
    try {
      c.onRequest((data) => ({ echo: data }));
      await c.ready;
      for (const chars of [16_000, 16_384, 60_000]) {
        const text = "ü✓𝄞a".repeat(Math.ceil(chars / 5)).slice(0, chars);
        await expect(big.hub.request(TEST_ID, text)).resolves.toEqual({ echo: text });
      }
    } finally {
      await c.close();
      await big.cleanup();
    }
  });

  it("answers many requests in flight from an async handler, in the order they finish", async () => {
    const c = client();
    c.onRequest(async (n: number) => {
      await new Promise((resolve) => setTimeout(resolve, (n % 5) * 2));
      return n * n;
    });
    await c.ready;
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => h.hub.request(TEST_ID, i)));
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => i * i));
  });

  it("turns a handler's error into WORKLOAD_ERROR with its message and code", async () => {
    const c = client();
    c.onRequest(async (kind: string) => {
      if (kind === "coded") throw Object.assign(new Error("no such key"), { code: "E_NOKEY" });
      if (kind === "plain") throw new Error("plain failure");
      throw "a thrown string";
    });
    await c.ready;
    await expect(h.hub.request(TEST_ID, "coded")).rejects.toMatchObject({
      code: "WORKLOAD_ERROR",
      details: { message: "no such key", code: "E_NOKEY" },
    });
    await expect(h.hub.request(TEST_ID, "plain")).rejects.toMatchObject({
      details: { message: "plain failure" },
    });
    await expect(h.hub.request(TEST_ID, "other")).rejects.toMatchObject({
      details: { message: "a thrown string" },
    });
  });

  it("answers with an error when there is no handler, or the answer is too large or not JSON", async () => {
    const c = client();
    await c.ready;
    await expect(h.hub.request(TEST_ID, 1)).rejects.toMatchObject({ details: { code: "NO_HANDLER" } });
    c.onRequest((kind) => (kind === "big" ? "x".repeat(5000) : kind === "bigint" ? 1n : undefined));
    await expect(h.hub.request(TEST_ID, "big")).rejects.toMatchObject({
      details: { code: "FRAME_TOO_LARGE" },
    });
    await expect(h.hub.request(TEST_ID, "bigint")).rejects.toMatchObject({
      details: { code: "UNSERIALIZABLE" },
    });
    await expect(h.hub.request(TEST_ID, "nothing")).resolves.toBeNull();
  });

  it("carries messages both ways and reports a failing message handler without dropping the connection", async () => {
    const errors: unknown[] = [];
    const c = client({ onError: (err) => errors.push(err) });
    const received: unknown[] = [];
    c.onMessage((data) => {
      received.push(data);
      if (data === "boom") throw new Error("handler bug");
    });
    await c.ready;
    const fromWorkload = new Promise((resolve) => h.hub.once("message", (_id, data) => resolve(data)));
    expect(c.send({ up: true })).toBe(true);
    expect(await fromWorkload).toEqual({ up: true });
    await h.hub.send(TEST_ID, "boom");
    await h.hub.send(TEST_ID, { down: true });
    c.onRequest(() => "alive");
    await expect(h.hub.request(TEST_ID, null)).resolves.toBe("alive");
    expect(received).toEqual(["boom", { down: true }]);
    expect(errors).toMatchObject([{ message: "handler bug" }]);
  });

  it("answers berth's pings and measures its own", async () => {
    const c = client();
    await c.ready;
    expect(await h.hub.ping(TEST_ID)).toBeGreaterThan(0);
    expect(await c.ping()).toBeGreaterThan(0);
  });

  it("reconnects when berth closes the socket and opens it again", async () => {
    const c = client();
    c.onRequest(() => "answer");
    await c.ready;
    const disconnected = new Promise<BerthWorkloadError>((resolve) => c.once("disconnect", resolve));
    await h.hub.close(TEST_ID);
    expect((await disconnected).code).toBe("DISCONNECTED");
    expect(c.connected).toBe(false);
    expect(c.send("lost")).toBe(false);
    const welcomedAgain = new Promise((resolve) => c.once("welcome", resolve));
    await h.hub.open(TEST_ID, { uid: 0, gid: 0 });
    await welcomedAgain;
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("answer");
  });

  it("waits for a socket that is not there yet", async () => {
    await h.hub.close(TEST_ID);
    const c = client();
    c.onRequest(() => "late but here");
    await h.hub.open(TEST_ID, { uid: 0, gid: 0 });
    await c.ready;
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("late but here");
  });

  it("stops for good, without reconnecting, when another connection replaces it", async () => {
    const reported: unknown[] = [];
    const c = client({ onError: (err) => reported.push(err) });
    await c.ready;
    const closed = new Promise<BerthWorkloadError | undefined>((resolve) => c.once("close", resolve));
    const intruder = await RawWorkload.hello(h.path);
    expect((await closed)?.code).toBe("REPLACED");
    expect(reported).toMatchObject([{ code: "REPLACED" }]);
    expect(c.connected).toBe(false);
    intruder.serve(() => "intruder");
    await expect(h.hub.request(TEST_ID, 1)).resolves.toBe("intruder");
    await intruder.destroy();
  });

  it("closes idempotently and rejects ready when closed before a welcome", async () => {
    await h.hub.close(TEST_ID);
    const c = client();
    const ready = c.ready.catch((e: unknown) => e);
    await Promise.all([c.close(), c.close()]);
    expect(await ready).toMatchObject({ code: "CLOSED" });
    await h.hub.open(TEST_ID, { uid: 0, gid: 0 });
    await expect(h.hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
  });

  it("refuses to start without BERTH_SOCKET", () => {
    const saved = process.env.BERTH_SOCKET;
    delete process.env.BERTH_SOCKET;
    try {
      expect(() => connect()).toThrow(expect.objectContaining({ code: "NO_SOCKET" }));
    } finally {
      if (saved !== undefined) process.env.BERTH_SOCKET = saved;
    }
  });
});
