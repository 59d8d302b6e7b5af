import { readFile } from "node:fs/promises";
import type { Socket as NetSocket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerDroppedEvent, ContainerMessageEvent } from "../../src/api/contract.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { type Client, call, ok, startTestServer, type TestServer, TOKENS } from "../helpers/test-server.ts";

const floodCode = async () => ({
  files: { "index.js": await readFile(new URL("../fixtures/workloads/flood.js", import.meta.url), "utf8") },
});

/** The TCP socket under a socket.io-client's websocket: pausing it makes a client that does not read. */
function tcpOf(client: Client): NetSocket {
  const ws = (client.io.engine as unknown as { transport: { ws?: { _socket?: NetSocket } } }).transport.ws;
  if (!ws?._socket) throw new Error("the client has no websocket");
  return ws._socket;
}

const MiB = 1024 * 1024;

/** Emits without awaiting the answer (a client that does not read never gets it). */
function emitRaw(client: Client, event: string, ...args: unknown[]): void {
  (client as unknown as { emit(e: string, ...a: unknown[]): void }).emit(event, ...args);
}

/** p50 of `n` round trips of `once`, in ms. */
async function roundTrips(n: number, once: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await once();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(n / 2)]!;
}

describe("a client that does not read", () => {
  // The defaults: telemetry is dropped above 1 MiB buffered for a connection.
  let server: TestServer;
  let alice: Client;
  let id: string;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await server.connect("alice");
    id = (await ok(alice, "container:create", { name: "flood", code: await floodCode() })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("makes berth drop its messages instead of holding them, and is told how many it missed once it reads again", async () => {
    const reader = await server.connect("alice");
    const bob = await server.connect("bob");
    await ok(reader, "container:subscribe", { id });
    const received: ContainerMessageEvent[] = [];
    reader.on("container:message", (e) => received.push(e));
    const dropped = new Promise<ContainerDroppedEvent>((resolve) =>
      reader.once("container:dropped", resolve),
    );

    const before = {
      aliceMs: await roundTrips(20, () => ok(alice, "container:request", { id, data: { ping: 1 } })),
      bobMs: await roundTrips(20, () => ok(bob, "container:list", {})),
    };
    const rssBefore = process.memoryUsage().rss;

    tcpOf(reader).pause();
    // 20,000 messages of 1 KiB a second: without a bound, berth held about 60 MiB more each second.
    await ok(alice, "container:request", { id, data: { messages: { perSecond: 20_000, bytes: 1024 } } });
    let maxBuffered = 0;
    let maxRss = 0;
    const started = Date.now();
    while (Date.now() - started < 4_000) {
      await new Promise((r) => setTimeout(r, 100));
      maxBuffered = Math.max(maxBuffered, server.berth.clientBufferedBytes(reader.id!) ?? 0);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
    const during = {
      aliceMs: await roundTrips(20, () => ok(alice, "container:request", { id, data: { ping: 1 } })),
      bobMs: await roundTrips(20, () => ok(bob, "container:list", {})),
    };
    const { sent } = (await ok(alice, "container:request", { id, data: { stop: true } })) as { sent: number };

    // What berth holds for the connection stays at its bound (1 MiB, plus the message that crossed it).
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThan(MiB + 64 * 1024);
    // The process as a whole: generous, for the garbage of 80,000 messages and everything else in this process.
    expect(maxRss - rssBefore).toBeLessThan(150 * MiB);
    // Nothing of the flood is kept for connection-state recovery.
    expect(server.berth.recoveryPackets).toBeLessThan(100);
    // Other connections' round trips still answer, and promptly.
    expect(during.aliceMs).toBeLessThan(Math.max(50, 20 * before.aliceMs));
    expect(during.bobMs).toBeLessThan(Math.max(50, 20 * before.bobMs));

    tcpOf(reader).resume();
    const notice = await within(20_000, "container:dropped", dropped);
    expect(notice).toMatchObject({ id, stream: "messages" });
    expect(notice.count).toBeGreaterThan(0);
    // Every message was either delivered or counted.
    expect(received.length + notice.count).toBe(sent);
    expect(received.map((e) => (e.data as { n: number }).n)).toEqual(
      [...received.map((e) => (e.data as { n: number }).n)].sort((a, b) => a - b),
    );
    reader.disconnect();
    bob.disconnect();
  }, 60_000);

  it("drops a followed log stream too, and says which stream it was", async () => {
    const follower = await server.connect("alice");
    await ok(follower, "container:follow_logs", { id, tail: 0 });
    const dropped = new Promise<ContainerDroppedEvent>((resolve) =>
      follower.once("container:dropped", resolve),
    );
    tcpOf(follower).pause();
    await ok(alice, "container:request", { id, data: { logs: { perSecond: 20_000 } } });
    await eventually(20_000, "the follower falls behind", () => {
      const bytes = server.berth.clientBufferedBytes(follower.id!) ?? 0;
      return bytes > 512 * 1024 || `${bytes} bytes buffered`;
    });
    // The flood goes on for a second more: the bound must hold over time, not only where it is crossed.
    let maxBuffered = 0;
    for (const end = Date.now() + 1_000; Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      maxBuffered = Math.max(maxBuffered, server.berth.clientBufferedBytes(follower.id!) ?? 0);
    }
    expect(maxBuffered).toBeLessThan(MiB + 64 * 1024);
    await ok(alice, "container:request", { id, data: { stop: true } });
    tcpOf(follower).resume();
    expect(await within(20_000, "container:dropped", dropped)).toMatchObject({ id, stream: "logs" });
    follower.disconnect();
  }, 60_000);
});

describe("a client that stays over its bound", () => {
  let server: TestServer;
  let alice: Client;
  let id: string;

  beforeAll(async () => {
    server = await startTestServer({
      BERTH_CLIENT_BUFFER_BYTES: String(256 * 1024),
      BERTH_CLIENT_BUFFER_MAX_BYTES: String(2 * MiB),
      BERTH_CLIENT_BUFFER_GRACE_MS: "1500",
    });
    alice = await server.connect("alice");
    id = (await ok(alice, "container:create", { name: "echo", code: await floodCode() })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is disconnected after the grace period, with the reason in the system log; others are not", async () => {
    const stuck = await server.connect("alice");
    const bob = await server.connect("bob");
    const stuckId = stuck.id!;
    tcpOf(stuck).pause();
    // Answers are never dropped: ask for 64 KiB ones until berth holds more than the bound for it.
    const data = { pad: "y".repeat(64 * 1024) };
    await eventually(
      30_000,
      "berth holds over 2 MiB for the stuck client",
      () => {
        const bytes = server.berth.clientBufferedBytes(stuckId) ?? 0;
        if (bytes > 2 * MiB) return true;
        emitRaw(stuck, "container:request", { id, data }, () => {});
        return `${bytes} bytes`;
      },
      20,
    );
    const over = Date.now();
    // Below twice the bound, so it is the grace period that ends it.
    expect(server.berth.clientBufferedBytes(stuckId)).toBeLessThan(4 * MiB);
    await eventually(
      10_000,
      "the stuck client is disconnected",
      () => server.berth.clientBufferedBytes(stuckId) === undefined,
    );
    expect(Date.now() - over).toBeGreaterThanOrEqual(1_400);
    const line = server
      .logs()
      .split("\n")
      .find((l) => l.includes("disconnected a client that does not read") && l.includes(stuckId));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({
      cause: "grace",
      owner: "alice",
      maxBufferBytes: 2 * MiB,
      graceMs: 1500,
    });
    // alice's other connection and bob are still served.
    expect(await ok(alice, "container:request", { id, data: "still here" })).toBe("still here");
    expect(await ok(bob, "container:list", {})).toMatchObject({ items: [] });
    expect(bob.connected && alice.connected).toBe(true);
    stuck.disconnect();
    bob.disconnect();
  }, 60_000);

  it("is disconnected at once when it reaches twice the bound", async () => {
    const stuck = await server.connect("alice");
    const stuckId = stuck.id!;
    tcpOf(stuck).pause();
    const data = { pad: "z".repeat(512 * 1024) };
    for (let i = 0; i < 40; i++) emitRaw(stuck, "container:request", { id, data }, () => {});
    await eventually(
      20_000,
      "the stuck client is disconnected",
      () => server.berth.clientBufferedBytes(stuckId) === undefined,
    );
    const line = server
      .logs()
      .split("\n")
      .find((l) => l.includes("disconnected a client that does not read") && l.includes(stuckId));
    expect(JSON.parse(line!)).toMatchObject({ cause: "ceiling" });
    stuck.disconnect();
  }, 60_000);
});

describe("connection-state recovery", () => {
  let server: TestServer;
  let alice: Client;
  let bob: Client;
  let floodId: string;
  let otherId: string;
  let bobsId: string;

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    const code = await floodCode();
    [floodId, otherId, bobsId] = await Promise.all([
      ok(alice, "container:create", { name: "flood", code }).then((c) => c.id),
      ok(alice, "container:create", { name: "other", code }).then((c) => c.id),
      ok(bob, "container:create", { name: "bobs", code }).then((c) => c.id),
    ]);
  });

  /** A client that does not reconnect by itself, so that the test says when it comes back. */
  async function recoverable(token: string): Promise<Client> {
    const { io } = await import("socket.io-client");
    const client: Client = io(server.url, {
      auth: { token },
      transports: ["websocket"],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    return client;
  }

  /** Drops the client's transport (as a network would; berth keeps the session) and waits until berth has seen it go. */
  async function drop(client: Client): Promise<void> {
    const id = client.id!;
    client.io.engine.close();
    await eventually(
      10_000,
      "berth sees the client gone",
      () => server.berth.clientBufferedBytes(id) === undefined,
    );
  }
  afterAll(async () => {
    await server?.close();
  });

  it("replays status changes and activity to a client that comes back, but not the messages it missed", async () => {
    const client = await recoverable(TOKENS.alice);
    const bobsClient = await recoverable(TOKENS.bob);
    await ok(client, "container:subscribe", { id: floodId });
    const messages: ContainerMessageEvent[] = [];
    client.on("container:message", (e) => messages.push(e));
    // A pushed event first, so that each client holds a recovery offset.
    const stopped = new Promise((r) => client.once("container:status_changed", r));
    const bobStopped = new Promise((r) => bobsClient.once("container:status_changed", r));
    await Promise.all([
      ok(alice, "container:stop", { id: otherId }),
      ok(bob, "container:stop", { id: bobsId }),
    ]);
    await Promise.all([stopped, bobStopped]);

    await Promise.all([drop(client), drop(bobsClient)]);
    // alice's own connection sees the messages go out meanwhile.
    await ok(alice, "container:subscribe", { id: floodId });
    let seen = 0;
    const fifty = new Promise<void>((resolve) =>
      alice.on("container:message", () => {
        if (++seen === 50) resolve();
      }),
    );
    await ok(alice, "container:request", {
      id: floodId,
      data: { messages: { perSecond: 2_000, bytes: 16 } },
    });
    await within(10_000, "50 messages while the client is away", fifty);
    await ok(alice, "container:request", { id: floodId, data: { stop: true } });
    await Promise.all([
      ok(alice, "container:start", { id: otherId }),
      ok(bob, "container:start", { id: bobsId }),
    ]);

    const replayed: string[] = [];
    client.onAny((event: string) => replayed.push(event));
    const bobReplayed: unknown[] = [];
    bobsClient.onAny((...args: unknown[]) => bobReplayed.push(args));
    client.connect();
    bobsClient.connect();
    await Promise.all([
      new Promise<void>((resolve) => client.once("connect", resolve)),
      new Promise<void>((resolve) => bobsClient.once("connect", resolve)),
    ]);
    expect(client.recovered).toBe(true);
    expect(bobsClient.recovered).toBe(true);
    await eventually(10_000, "the status change is replayed", () =>
      replayed.includes("container:status_changed"),
    );
    expect(replayed).toContain("activity_log");
    expect(replayed).not.toContain("container:message");
    expect(messages).toHaveLength(0);
    // bob's session gets his own container's changes back, and nothing of alice's.
    await eventually(10_000, "bob's status change is replayed", () =>
      JSON.stringify(bobReplayed).includes(bobsId),
    );
    expect(JSON.stringify(bobReplayed)).not.toContain(otherId);
    expect(JSON.stringify(bobReplayed)).not.toContain(floodId);
    // The subscription itself came back with the session: new messages arrive again.
    const next = new Promise<ContainerMessageEvent>((r) => client.once("container:message", r));
    await ok(alice, "container:request", { id: floodId, data: { messages: { perSecond: 100, bytes: 16 } } });
    expect((await within(10_000, "a message after the reconnect", next)).id).toBe(floodId);
    await ok(alice, "container:request", { id: floodId, data: { stop: true } });
    client.disconnect();
    bobsClient.disconnect();
  }, 60_000);
});

describe("per-connection caps", () => {
  let server: TestServer;
  let alice: Client;
  let bob: Client;
  let aliceId: string;
  let bobId: string;

  beforeAll(async () => {
    server = await startTestServer({ BERTH_MAX_SUBSCRIPTIONS: "2", BERTH_MAX_REQUESTS_IN_FLIGHT: "3" });
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    const code = {
      files: {
        "index.js": await readFile(new URL("../fixtures/workloads/channel.js", import.meta.url), "utf8"),
      },
    };
    [aliceId, bobId] = await Promise.all([
      ok(alice, "container:create", { name: "capped", code }).then((c) => c.id),
      ok(bob, "container:create", { name: "capped", code }).then((c) => c.id),
    ]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("refuses a connection's subscription over its cap with TOO_MANY_SUBSCRIPTIONS, and no one else's", async () => {
    await ok(alice, "container:subscribe", { id: aliceId });
    await ok(alice, "container:follow_logs", { id: aliceId, tail: 0 });
    const refused = await call(alice, "container:watch_stats", { id: aliceId });
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: "TOO_MANY_SUBSCRIPTIONS",
        category: "validation",
        retryable: false,
        details: { limit: 2 },
      },
    });
    // What it holds already may be asked for again.
    await ok(alice, "container:subscribe", { id: aliceId });
    // bob, and alice's other connection, each have a cap of their own.
    await ok(bob, "container:subscribe", { id: bobId });
    await ok(bob, "container:follow_logs", { id: bobId, tail: 0 });
    const aliceAgain = await server.connect("alice");
    await ok(aliceAgain, "container:watch_stats", { id: aliceId });
    // Ending one frees its place.
    await ok(alice, "container:unsubscribe", { id: aliceId });
    await ok(alice, "container:watch_stats", { id: aliceId });
    expect(await call(alice, "container:subscribe", { id: aliceId })).toMatchObject({
      ok: false,
      error: { code: "TOO_MANY_SUBSCRIPTIONS" },
    });
    aliceAgain.disconnect();
  });

  it("answers CHANNEL_BUSY at once to a request over the connection's cap in flight, and serves bob meanwhile", async () => {
    const slow = [1, 2, 3].map((value) =>
      ok(alice, "container:request", { id: aliceId, data: { delayMs: 2_000, value } }),
    );
    const started = Date.now();
    const over = await call(alice, "container:request", { id: aliceId, data: { echo: "over" } });
    expect(over).toMatchObject({
      ok: false,
      error: { code: "CHANNEL_BUSY", retryable: true, details: { limit: 3 } },
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await ok(bob, "container:request", { id: bobId, data: { echo: "bob" } })).toBe("bob");
    const aliceAgain = await server.connect("alice");
    expect(await ok(aliceAgain, "container:request", { id: aliceId, data: { echo: "other" } })).toBe("other");
    expect(await Promise.all(slow)).toEqual([1, 2, 3]);
    expect(await ok(alice, "container:request", { id: aliceId, data: { echo: "after" } })).toBe("after");
    aliceAgain.disconnect();
  });
});
