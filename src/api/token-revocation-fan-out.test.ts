import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { Server } from "socket.io";
import { io as connectClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { REDIS_TESTS_RUN, type RedisServer, startRedisServer } from "../../test/helpers/redis-server.ts";
import type { TokenStore } from "../auth/token-store.ts";
import { RedisUrl } from "../config/redis-url.ts";
import { RedisFanOut } from "../fan-out/redis-fan-out.ts";
import { keepTelemetryLocal } from "./local-telemetry.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";
import { TokenRevocation } from "./token-revocation.ts";

/** A token store whose every credential is revoked once it says `changed`. */
class RevokingStore extends EventEmitter {
  isCurrent(): boolean {
    return false;
  }
}

async function revokedConnectionHears(
  adapter: NonNullable<ConstructorParameters<typeof Server>[1]>["adapter"],
) {
  const http = createServer();
  const io = new Server(http, {
    adapter,
    transports: ["websocket"],
    connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: false },
  });
  io.use((socket, next) => {
    socket.data = { owner: "alice", admin: false, tokenDigest: Buffer.alloc(32) };
    next();
  });
  const store = new RevokingStore();
  const revocation = new TokenRevocation(
    io as never,
    store as unknown as TokenStore,
    pino({ level: "silent" }),
  );
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = connectClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
    transports: ["websocket"],
    reconnection: false,
  });
  try {
    await within(5_000, "connect", new Promise((r) => client.once("connect", () => r(undefined))));
    let revoked = false;
    client.on("session:revoked", () => {
      revoked = true;
    });
    const disconnected = new Promise((r) => client.once("disconnect", r));
    store.emit("changed", { revoked: ["alice"], added: [] });
    await within(5_000, "disconnect", disconnected);
    return revoked;
  } finally {
    client.disconnect();
    revocation.close();
    io.engine.close();
    await new Promise((r) => http.close(r));
  }
}

describe("TokenRevocation", () => {
  it("tells a revoked connection session:revoked before closing it (single host)", async () => {
    expect(await revokedConnectionHears(RecoveryAdapter)).toBe(true);
  });

  describe.skipIf(!REDIS_TESTS_RUN)("with fan-out through Redis", () => {
    let redis: RedisServer;
    let fanOut: RedisFanOut;
    beforeAll(async () => {
      redis = await startRedisServer();
      fanOut = new RedisFanOut(RedisUrl.parse(redis.url) as RedisUrl, pino({ level: "silent" }));
      await fanOut.open();
    });
    afterAll(async () => {
      await fanOut?.close();
      await redis?.close();
    });

    // Without the fix: socket.emit goes through the cluster adapter (connection-state recovery
    // stores every emit), which waits for Redis's XADD before writing to the socket; the
    // disconnect(true) that follows synchronously has removed the socket by then.
    it("tells a revoked connection session:revoked before closing it", async () => {
      expect(await revokedConnectionHears(keepTelemetryLocal(fanOut.adapter))).toBe(true);
    });
  });
});
