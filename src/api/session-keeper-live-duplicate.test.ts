import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { createClient } from "redis";
import { Server, type Socket } from "socket.io";
import { type Socket as ClientSocket, io as connectClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, within } from "../../test/helpers/deadline.ts";
import { REDIS_TESTS_RUN, type RedisServer, startRedisServer } from "../../test/helpers/redis-server.ts";
import { RedisUrl } from "../config/redis-url.ts";
import { RedisFanOut } from "../fan-out/redis-fan-out.ts";
import type { BerthServer } from "./berth-server.ts";
import { keepTelemetryLocal } from "./local-telemetry.ts";
import { SessionKeeper } from "./session-keeper.ts";
import { guardSessionRecovery } from "./session-recovery-guard.ts";

const connected = (c: ClientSocket) =>
  within(15_000, "connect", new Promise((r) => c.once("connect", () => r(undefined))));

describe.skipIf(!REDIS_TESTS_RUN)("SessionKeeper (fan-out)", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.close();
  });

  // A client whose transport died without the server noticing yet (a phone changing
  // networks: the server learns of it at its ping timeout, up to 45 s later) reconnects at once, with its
  // pid, to the same server: the session SessionKeeper keeps for the live connection is restored onto the
  // same socket id. When the old socket's end is finally seen, its clean-up removes that id from every
  // room and from the namespace: the recovered connection stays open and hears no push again.
  it("keeps a session recovered while its old connection still lingers on the same server in its rooms", async () => {
    const server = await apiServer();
    const { io, sockets: serverSockets, url } = server;
    const first = connectClient(url, { transports: ["websocket"], reconnection: false });
    let second: ClientSocket | undefined;
    try {
      await connected(first);
      const news = new Promise((r) => first.once("news", r));
      io.to("owner:alice").emit("news" as never, 1 as never); // gives the client an offset
      await within(5_000, "first news", news);
      const { _pid: pid, _lastOffset: offset } = first as unknown as { _pid: string; _lastOffset: string };
      const firstId = first.id;

      // The same client, back on a new transport; the server has not noticed the old one's death yet.
      second = connectClient(url, { transports: ["websocket"], reconnection: false, auth: { pid, offset } });
      await connected(second);
      // Restored on the server (the client's own `recovered` compares with a pid of its own, which it has not).
      expect(second.id).toBe(firstId);
      expect(serverSockets[1]?.recovered).toBe(true);

      const before = new Promise((r) => second?.once("news", r));
      io.to("owner:alice").emit("news" as never, "before" as never);
      expect(await within(3_000, "news before the old socket ends", before)).toBe("before");

      // The server notices the old transport's end (its ping timeout).
      const old = serverSockets[0];
      if (!old) throw new Error("no first socket");
      // (berth has ended it already, as the new one came: then this changes nothing.)
      const oldGone = old.disconnected ? Promise.resolve() : new Promise((r) => old.once("disconnect", r));
      old.conn.close();
      await within(3_000, "the old socket's end", oldGone);

      expect(second.connected).toBe(true);
      const heard = new Promise((r) => second?.once("news", r));
      io.to("owner:alice").emit("news" as never, 2 as never);
      expect(await within(3_000, "news on the recovered connection", heard)).toBe(2);
    } finally {
      first.disconnect();
      second?.disconnect();
      await server.close();
    }
  });
  // Socket.IO keeps no session for a connection that ends for good (the server's
  // disconnect(true): a client over its buffer bound; the client's own disconnect(): signing out), and
  // single-host berth restores none. With fan-out the copy SessionKeeper wrote while it was connected stays
  // in Redis for two minutes, and a reconnect with its pid restores it, with every push since.
  it("restores no session of a connection the server ended for good", async () => {
    const server = await apiServer();
    const { io, sockets: serverSockets, url } = server;
    const first = connectClient(url, { transports: ["websocket"], reconnection: false });
    let second: ClientSocket | undefined;
    try {
      await connected(first);
      const news = new Promise((r) => first.once("news", r));
      io.to("owner:alice").emit("news" as never, 1 as never);
      await within(5_000, "first news", news);
      const { _pid: pid, _lastOffset: offset } = first as unknown as { _pid: string; _lastOffset: string };
      const firstId = first.id;
      const gone = new Promise((r) => first.once("disconnect", r));
      serverSockets[0]?.disconnect(true);
      await within(5_000, "the server's disconnect", gone);

      second = connectClient(url, { transports: ["websocket"], reconnection: false, auth: { pid, offset } });
      await connected(second);
      expect(serverSockets[1]?.recovered).toBe(false);
      expect(second.id).not.toBe(firstId);
    } finally {
      first.disconnect();
      second?.disconnect();
      await server.close();
    }
  });

  /** An API server as berth has it (guard letting every token restore, keeper), on a fan-out of its own. */
  async function apiServer(keepEveryMs?: number) {
    const own = new RedisFanOut(RedisUrl.parse(redis.url) as RedisUrl, pino({ level: "silent" }));
    await own.open();
    const http = createServer();
    const io = new Server(http, {
      adapter: keepTelemetryLocal(own.adapter),
      transports: ["websocket"],
      connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: false },
    });
    guardSessionRecovery(io.of("/") as never, () => true, own);
    const keeper = new SessionKeeper(io as unknown as BerthServer, own, keepEveryMs);
    const sockets: Socket[] = [];
    io.on("connection", (socket) => {
      sockets.push(socket);
      if (!socket.recovered) socket.join("owner:alice");
      keeper.keep(socket as never);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    return {
      io,
      sockets,
      url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
      async close() {
        keeper.close();
        io.engine.close();
        await new Promise((r) => http.close(r));
        await own.close();
      },
    };
  }

  // The same, across servers: the session restored on B while its old socket still lingers on A. A's end of
  // it (here for good, which also deletes the session in Redis) leaves B's connection in its rooms — rooms
  // are per server — and B writes the session again at its next refresh.
  it("keeps a session recovered on another server while its old connection lingers on the first in its rooms", async () => {
    const a = await apiServer();
    const b = await apiServer(200);
    const first = connectClient(a.url, { transports: ["websocket"], reconnection: false });
    let second: ClientSocket | undefined;
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await connected(first);
      const news = new Promise((r) => first.once("news", r));
      a.io.to("owner:alice").emit("news" as never, 1 as never);
      await within(5_000, "first news", news);
      const { _pid: pid, _lastOffset: offset } = first as unknown as { _pid: string; _lastOffset: string };
      const firstId = first.id;

      second = connectClient(b.url, {
        transports: ["websocket"],
        reconnection: false,
        auth: { pid, offset },
      });
      await connected(second);
      expect(second.id).toBe(firstId);
      expect(b.sockets[0]?.recovered).toBe(true);
      const old = a.sockets[0];
      if (!old) throw new Error("no socket on A");
      expect(old.connected).toBe(true); // B cannot see A's sockets: it lingers there

      old.disconnect(true);
      const fromA = new Promise((r) => second?.once("news", r));
      a.io.to("owner:alice").emit("news" as never, "from A" as never);
      expect(await within(3_000, "A's push on B's connection", fromA)).toBe("from A");
      const fromB = new Promise((r) => second?.once("news", r));
      b.io.to("owner:alice").emit("news" as never, "from B" as never);
      expect(await within(3_000, "B's push on B's connection", fromB)).toBe("from B");
      await eventually(
        5_000,
        "B's session written again",
        async () => (await admin.exists(`sio:session:${pid}`)) === 1,
      );
    } finally {
      await admin.close();
      first.disconnect();
      second?.disconnect();
      await a.close();
      await b.close();
    }
  });
});
