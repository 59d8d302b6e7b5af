import { pino } from "pino";
import { createClient } from "redis";
import { Server } from "socket.io";
import type { Adapter } from "socket.io-adapter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/helpers/deadline.ts";
import { REDIS_TESTS_RUN, type RedisServer, startRedisServer } from "../../test/helpers/redis-server.ts";
import { RedisUrl } from "../config/redis-url.ts";
import { RedisFanOut } from "./redis-fan-out.ts";

const DATA = { owner: "alice", admin: false };

// With a real redis-server (Debian's, which scripts/setup.mjs --with-redis installs).
describe.skipIf(!REDIS_TESTS_RUN)("RedisFanOut's sessions", () => {
  let redis: RedisServer;
  let fanOut: RedisFanOut;
  let io: Server;
  let adapter: Adapter;
  let admin: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startRedisServer();
    fanOut = new RedisFanOut(RedisUrl.parse(redis.url) as RedisUrl, pino({ level: "silent" }));
    await fanOut.open();
    io = new Server({
      adapter: fanOut.adapter,
      connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
    });
    adapter = io.of("/").adapter;
    admin = createClient({ url: redis.url });
    await admin.connect();
  }, 60_000);
  afterAll(async () => {
    await admin?.close();
    // The Socket.IO server has no HTTP server, so no engine to close; its adapter is the fan-out's to close.
    await fanOut?.close();
    await redis?.close();
  });

  /** A session kept for `pid`, and an offset in the stream that a look-up accepts. */
  async function keptSession(pid: string): Promise<string> {
    adapter.persistSession({ sid: `sid-of-${pid}`, pid, rooms: ["owner:alice"], data: DATA });
    await eventually(
      15_000,
      "the session in Redis",
      async () => (await admin.exists(`sio:session:${pid}`)) === 1,
    );
    io.to("owner:alice").emit("news", 1);
    let offset: string | undefined;
    await eventually(15_000, "a push in the stream", async () => {
      offset = (await admin.xRevRange("socket.io", "+", "-", { COUNT: 1 }))[0]?.id;
      return offset !== undefined;
    });
    return offset as string;
  }

  it("gives a refused session back with the lifetime it had left, not a fresh two minutes", async () => {
    const offset = await keptSession("pid-returned");
    const expiredAt = Date.now();
    await admin.pExpire("sio:session:pid-returned", 30_000); // as if written 90 s ago
    const session = await adapter.restoreSession("pid-returned", offset);
    expect(session?.data).toEqual(DATA);
    expect(await admin.exists("sio:session:pid-returned")).toBe(0); // the look-up consumed it

    fanOut.returnSession(session as NonNullable<typeof session>);
    await eventually(
      15_000,
      "the session back",
      async () => (await admin.exists("sio:session:pid-returned")) === 1,
    );
    const left = await admin.pTTL("sio:session:pid-returned");
    const elapsed = Date.now() - expiredAt;
    expect(left).toBeLessThanOrEqual(30_000);
    // What passed since, and no more, is gone from it (measured here, so a slow machine is no failure). The
    // look-up's own round trip may count twice: its lifetime is read at its end, its age counted from its start.
    expect(left).toBeGreaterThanOrEqual(30_000 - 2 * elapsed);
    // And the session as it was: a later look-up restores it.
    expect((await adapter.restoreSession("pid-returned", offset))?.rooms).toEqual(["owner:alice"]);
  });

  it("gives back nothing it did not look up itself", async () => {
    fanOut.returnSession({
      sid: "sid-x",
      pid: "pid-never-looked-up",
      rooms: [],
      data: DATA,
      missedPackets: [],
    });
    await keptSession("pid-after"); // a later command on the same connection: the write would be in by then
    expect(await admin.exists("sio:session:pid-never-looked-up")).toBe(0);
  });

  it("forgets a session: nobody recovers it", async () => {
    const offset = await keptSession("pid-forgotten");
    fanOut.forget("pid-forgotten");
    await eventually(
      15_000,
      "the session gone",
      async () => (await admin.exists("sio:session:pid-forgotten")) === 0,
    );
    await expect(adapter.restoreSession("pid-forgotten", offset)).rejects.toBeDefined();
  });
});
