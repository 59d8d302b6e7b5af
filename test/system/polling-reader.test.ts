import { connect, type Socket as NetSocket } from "node:net";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerMessageEvent } from "#protocol";
import { eventually, within } from "../helpers/deadline.ts";
import { floodCode } from "../helpers/slow-client.ts";
import { ok, type RawClient, startTestServer, type TestServer, TOKENS } from "../helpers/test-server.ts";

const KiB = 1024;

/** A raw Engine.IO v4 polling client: each exchange is one plain HTTP request. */
class RawPolling {
  readonly #url: string;
  sid = "";

  constructor(url: string) {
    this.#url = url;
  }

  #path(): string {
    return `/socket.io/?EIO=4&transport=polling${this.sid ? `&sid=${this.sid}` : ""}`;
  }

  async open(): Promise<void> {
    const text = await (await fetch(`${this.#url}${this.#path()}`)).text();
    this.sid = (JSON.parse(text.slice(1)) as { sid: string }).sid;
  }

  async post(body: string): Promise<void> {
    const res = await fetch(`${this.#url}${this.#path()}`, { method: "POST", body });
    if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
    await res.text();
  }

  /** A GET that is read (what a normal client does). */
  async poll(): Promise<string> {
    return (await fetch(`${this.#url}${this.#path()}`)).text();
  }

  /** A GET on a fresh TCP connection whose answer is never read. */
  unreadPoll(): NetSocket {
    const { port } = new URL(this.#url);
    const tcp = connect(Number(port), "127.0.0.1");
    tcp.on("error", () => {});
    tcp.pause();
    tcp.write(`GET ${this.#path()} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    return tcp;
  }

  /**
   * A GET on a fresh TCP connection of which only the first chunk is read (so the client knows it was answered);
   * with the status it was answered with (400 once berth no longer knows the connection).
   */
  async glancedPoll(): Promise<{ tcp: NetSocket; status: number }> {
    const tcp = this.unreadPoll();
    const status = await new Promise<number>((resolve) => {
      tcp.once("data", (chunk: Buffer) => {
        tcp.pause();
        resolve(Number(chunk.subarray(9, 12).toString()));
      });
      tcp.once("close", () => resolve(0));
      tcp.resume();
    });
    return { tcp, status };
  }
}

/**
 * Reads what a paused TCP connection was sent: until a whole HTTP response came (berth's refusals of a
 * poll for a connection that is gone are chunked), or the connection ended
 * (one that berth reset is over already: its unread bytes were dropped on both sides).
 */
function readOut(tcp: NetSocket): Promise<number> {
  return new Promise((resolve) => {
    if (tcp.destroyed) return resolve(0);
    let received = Buffer.alloc(0);
    const done = () => resolve(received.length);
    tcp.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const head = received.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(received.subarray(0, Math.max(0, head)).toString());
      if (head === -1) return;
      const whole = length
        ? received.length >= head + 4 + Number(length[1])
        : received.subarray(-5).toString() === "0\r\n\r\n"; // chunked: the last chunk
      if (whole) done();
    });
    tcp.on("close", done);
    tcp.resume();
  });
}

describe("a polling client that does not read", () => {
  // Small bounds, so that a flood crosses them within a second.
  let server: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  let aliceId: string;
  let bobId: string;

  beforeAll(async () => {
    server = await startTestServer({
      BERTH_CLIENT_BUFFER_BYTES: String(64 * KiB),
      BERTH_CLIENT_BUFFER_MAX_BYTES: String(256 * KiB),
      BERTH_CLIENT_BUFFER_GRACE_MS: "1000",
    });
    alice = await server.connectRaw("alice");
    bob = io(server.url, { auth: { token: TOKENS.bob }, transports: ["polling"], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      bob.once("connect", resolve);
      bob.once("connect_error", reject);
    });
    const code = await floodCode();
    [aliceId, bobId] = await Promise.all([
      ok(alice, "container:create", { name: "flood", code }).then((c) => c.id),
      ok(bob, "container:create", { name: "flood", code }).then((c) => c.id),
    ]);
  });
  afterAll(async () => {
    bob?.disconnect();
    await server?.close();
  });

  it("counts the poll responses it leaves unread, so that berth sends it no more than its bound; bob on polling is served", async () => {
    const rogue = new RawPolling(server.url);
    await rogue.open();
    await rogue.post(`40${JSON.stringify({ token: TOKENS.alice })}`);
    // The CONNECT's answer, maybe with a push to alice already behind it in the same response (one
    // engine.io payload holds several packets, separated by a record separator).
    let connected: string | undefined;
    for (let i = 0; i < 5 && connected === undefined; i++)
      connected = (await rogue.poll()).split("\x1e").find((packet) => packet.startsWith("40"));
    if (connected === undefined) throw new Error("no answer to the CONNECT");
    const socketId = (JSON.parse(connected.slice(2)) as { sid: string }).sid;
    await rogue.post(`420["container:subscribe",{"id":"${aliceId}"}]`);
    expect(await rogue.poll()).toContain('"subscribed":true');

    const bobGot: ContainerMessageEvent[] = [];
    bob.on("container:message", (e) => bobGot.push(e));
    const bobDropped: unknown[] = [];
    bob.on("container:dropped", (e) => bobDropped.push(e));
    let bobMaxHeld = 0;
    const watchBob = setInterval(() => {
      bobMaxHeld = Math.max(bobMaxHeld, server.berth.clientBufferedBytes(bob.id!) ?? 0);
    }, 20);
    await ok(bob, "container:subscribe", { id: bobId });
    await ok(bob, "container:request", { id: bobId, data: { messages: { perSecond: 100, bytes: 100 } } });
    // 2 MiB a second at alice's rogue connection, which asks on a fresh TCP connection every 50 ms and reads none.
    await ok(alice, "container:request", {
      id: aliceId,
      data: { messages: { perSecond: 2_000, bytes: KiB } },
    });
    const unread: NetSocket[] = [];
    const started = Date.now();
    while (Date.now() - started < 3_000) {
      unread.push(rogue.unreadPoll());
      await new Promise((r) => setTimeout(r, 50));
    }
    await ok(alice, "container:request", { id: aliceId, data: { stop: true } });
    await ok(bob, "container:request", { id: bobId, data: { stop: true } });

    // Everything berth wrote to the rogue's connections, read out now: within the bound (64 KiB before telemetry
    // is dropped, 512 KiB at most), not the megabytes the workload sent it (1.3 MiB here without the bound).
    const sizes = await within(10_000, "the unread polls are read out", Promise.all(unread.map(readOut)));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(512 * KiB);
    // berth no longer holds the connection: cut for not reading (or for asking again over an unanswered poll).
    await eventually(5_000, "berth let the rogue connection go", () =>
      server.berth.clientBufferedBytes(socketId) === undefined
        ? true
        : `${server.berth.clientBufferedBytes(socketId)} held`,
    );
    for (const tcp of unread) tcp.destroy();

    // bob, on polling too but reading, got his messages — none dropped, his reused poll connection counted for
    // one response at most — and is still served.
    clearInterval(watchBob);
    expect(bobGot.length).toBeGreaterThan(50);
    expect(bobDropped).toEqual([]);
    expect(bobMaxHeld).toBeLessThan(16 * KiB);
    expect(bob.connected).toBe(true);
    await ok(bob, "container:list", {});
  }, 30_000);

  it("cuts a polling client that reads only the start of each answer once what it left unread stays over the bound", async () => {
    const rogue = new RawPolling(server.url);
    await rogue.open();
    await rogue.post(`40${JSON.stringify({ token: TOKENS.alice })}`);
    const socketId = (JSON.parse((await rogue.poll()).slice(2)) as { sid: string }).sid;
    // Answers are not telemetry: they are never dropped, so what the rogue leaves unread can only be cut.
    const pad = "x".repeat(100 * KiB);
    const glanced: NetSocket[] = [];
    let cut = false;
    for (let i = 0; i < 40 && !cut; i++) {
      await rogue
        .post(`42${i}["container:request",{"id":"${aliceId}","data":{"pad":"${pad}"}}]`)
        .catch(() => {
          cut = true;
        });
      const poll = await rogue.glancedPoll();
      if (poll.status === 200) glanced.push(poll.tcp);
      else poll.tcp.destroy();
      cut ||= server.berth.clientBufferedBytes(socketId) === undefined;
    }
    expect(cut).toBe(true);
    expect(server.logs()).toContain("disconnected a client that does not read");
    // Its poll connections were reset: the kernel holds nothing more of what it did not read. (A paused socket does
    // not notice a reset; reading again, it does at once, where a connection kept open would just deliver the rest.)
    await within(
      5_000,
      "the rogue's poll connections are reset",
      Promise.all(
        glanced.map(
          (tcp) =>
            new Promise<void>((resolve) => {
              if (tcp.destroyed) return resolve();
              tcp.once("close", () => resolve());
              tcp.resume();
            }),
        ),
      ),
    );
    // bob is still served.
    await ok(bob, "container:list", {});
  }, 30_000);
});
