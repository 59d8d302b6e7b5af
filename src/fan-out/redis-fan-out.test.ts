import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { pino } from "pino";
import { createClient } from "redis";
import { Server } from "socket.io";
import { io as connectClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, within } from "../../test/helpers/deadline.ts";
import { REDIS_TESTS_RUN, type RedisServer, startRedisServer } from "../../test/helpers/redis-server.ts";
import { RedisUrl } from "../config/redis-url.ts";
import { RedisFanOut } from "./redis-fan-out.ts";

/** A logger whose lines a test reads back. */
function recordingLog(): { log: pino.Logger; lines: () => Array<{ level: number; msg: string }> } {
  const out = new PassThrough();
  const lines: Array<{ level: number; msg: string }> = [];
  out.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { log: pino({ level: "debug" }, out), lines: () => lines };
}

// With a real redis-server (Debian's, which scripts/setup.mjs --with-redis installs).
describe.skipIf(!REDIS_TESTS_RUN)("RedisFanOut", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 60_000);
  afterAll(async () => {
    await redis?.close();
  });

  /** The connections Redis has now, the asking one included. */
  async function connectedClients(): Promise<number> {
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      return (await admin.clientList()).length;
    } finally {
      await admin.close();
    }
  }

  it("lets go of every connection it made once closed (safe to call twice)", async () => {
    const before = await connectedClients();
    const { log } = recordingLog();
    const fanOut = new RedisFanOut(RedisUrl.parse(redis.url) as RedisUrl, log);
    await fanOut.open();
    const io = new Server({ adapter: fanOut.adapter, connectionStateRecovery: {} });
    // The publisher, the stream reader and the subscriber.
    await eventually(
      15_000,
      "three connections of the fan-out",
      async () => (await connectedClients()) === before + 3,
    );
    // berth closes the Socket.IO server's engine only (fastify owns the HTTP server): the adapters are the fan-out's to close.
    await fanOut.close();
    await fanOut.close();
    expect(io.of("/").adapter).toBeDefined();
    await eventually(
      15_000,
      "the fan-out's connections gone",
      async () => (await connectedClients()) === before,
    );
    expect(fanOut.state).toBe("closed");
  });

  it("starts without Redis, and fans out once Redis comes (its reader and subscriber connect late)", async () => {
    await redis.stop();
    const servers: Array<{ fanOut: RedisFanOut; io: Server; close(): Promise<void> }> = [];
    try {
      for (let i = 0; i < 2; i++) {
        const { log } = recordingLog();
        const fanOut = new RedisFanOut(RedisUrl.parse(redis.url) as RedisUrl, log);
        await fanOut.open(); // gives up waiting after a few seconds
        expect(fanOut.state).toBe("down");
        const http = createServer();
        const io = new Server(http, { adapter: fanOut.adapter, transports: ["websocket"] });
        await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
        servers.push({
          fanOut,
          io,
          close: async () => {
            await io.close();
            await fanOut.close();
          },
        });
      }
      await redis.start();
      await eventually(10_000, "both fan-outs up", () => servers.every((s) => s.fanOut.state === "up"));
      const [first, second] = servers as [(typeof servers)[0], (typeof servers)[0]];
      const port = (first.io.httpServer.address() as AddressInfo).port;
      const client = connectClient(`http://127.0.0.1:${port}`, {
        transports: ["websocket"],
        reconnection: false,
      });
      try {
        await within(
          15_000,
          "the client's connection",
          new Promise((r) => client.once("connect", () => r(undefined))),
        );
        // Emitted on the other server until one arrives: the reader may still be connecting.
        const heard = new Promise((resolve) => client.on("news", resolve));
        await eventually(10_000, "a broadcast from the other server", async () => {
          second.io.emit("news", "from the other server");
          return within(500, "news", heard).then(
            () => true,
            () => "not yet",
          );
        });
      } finally {
        client.disconnect();
      }
    } finally {
      for (const server of servers) await server.close();
    }
  }, 90_000); // two opens that wait 5 s each for a Redis that is not there, then the guards above

  it("says once that Redis is unreachable however often it retries, and says when it is back", async () => {
    const { log, lines } = recordingLog();
    const fanOut = new RedisFanOut(RedisUrl.parse(redis.url) as RedisUrl, log);
    await fanOut.open();
    try {
      expect(fanOut.state).toBe("up");
      await redis.stop();
      await eventually(15_000, "the fan-out down", () => fanOut.state === "down");
      // node-redis retries with a back-off up to 2 s, and reports each failed try: a few of them, logged once.
      await eventually(
        10_000,
        "a few failed tries",
        () => lines().filter((l) => l.msg === "Redis still unreachable").length >= 2,
      );
      expect(lines().filter((l) => l.level === 40 && l.msg.startsWith("Redis unreachable"))).toHaveLength(1);
      await redis.start();
      await eventually(10_000, "the fan-out up again", () => fanOut.state === "up");
      expect(lines().map((l) => l.msg)).toContain("Redis is back: pushes reach every API server again");
    } finally {
      await fanOut.close();
    }
  });
});
