import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/helpers/deadline.ts";
import { connect } from "../src/connect.ts";

type Refusal = { code: string; category: string; retryable: boolean } | undefined;

/**
 * A stand-in for berth's handshake: the first connection is let in and
 * answers `server:info`; every later one gets `refuse()`'s refusal (none:
 * let in). `drop()` disconnects everyone, as berth does when it shuts down.
 */
async function fakeBerth(refuse: () => Refusal) {
  const http = createServer();
  const io = new Server(http);
  let handshakes = 0;
  io.use((_socket, next) => {
    const refusal = handshakes++ === 0 ? undefined : refuse();
    if (!refusal) return next();
    next(Object.assign(new Error(`refused: ${refusal.code}`), { data: refusal }));
  });
  io.on("connection", (socket) => {
    socket.on("server:info", (_p: unknown, ack: (r: unknown) => void) =>
      ack({ ok: true, data: { version: "0", limits: {}, images: {}, quota: null, rates: null } }),
    );
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    get handshakes() {
      return handshakes;
    },
    drop: () => io.disconnectSockets(true),
    close: () => new Promise<void>((r) => io.close(() => r())),
  };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The error the client closed with, once it has. */
function closedWith(client: Awaited<ReturnType<typeof connect>>): Promise<unknown> {
  return new Promise((resolve) => {
    const off = client.on("connection", (state) => {
      if (state !== "closed") return;
      off();
      resolve(client.call("server:info", {}).catch((err: unknown) => err));
    });
  });
}

describe("reconnecting after berth refuses", () => {
  it("closes with berth's own code for a refusal that is not a refused token, not SESSION_REVOKED", async () => {
    const berth = await fakeBerth(() => ({
      code: "VALIDATION_FAILED",
      category: "validation",
      retryable: false,
    }));
    closers.push(berth.close);
    const client = await connect(berth.url, { token: "t" });
    closers.push(() => client.close());
    const closed = closedWith(client);
    berth.drop();
    expect(await closed).toMatchObject({ code: "VALIDATION_FAILED", retryable: false });
  });

  it("still closes with SESSION_REVOKED when berth refuses the token", async () => {
    const berth = await fakeBerth(() => ({ code: "UNAUTHORIZED", category: "auth", retryable: false }));
    closers.push(berth.close);
    const client = await connect(berth.url, { token: "t" });
    closers.push(() => client.close());
    const closed = closedWith(client);
    berth.drop();
    expect(await closed).toMatchObject({ code: "SESSION_REVOKED" });
  });

  it("stops asking again after refusedRetryLimitMs of TOO_MANY_CONNECTIONS, closing with it", async () => {
    const berth = await fakeBerth(() => ({
      code: "TOO_MANY_CONNECTIONS",
      category: "quota",
      retryable: true,
    }));
    closers.push(berth.close);
    const client = await connect(berth.url, { token: "t", refusedRetryLimitMs: 1_500 });
    closers.push(() => client.close());
    const closed = closedWith(client);
    berth.drop();
    expect(await closed).toMatchObject({ code: "TOO_MANY_CONNECTIONS", retryable: true });
    expect(berth.handshakes).toBeGreaterThan(2);
  });

  it("goes on asking while berth refuses for a reason that passes, and is connected again once it lets it in", async () => {
    let refusing = true;
    const berth = await fakeBerth(() =>
      refusing ? { code: "TOO_MANY_CONNECTIONS", category: "quota", retryable: true } : undefined,
    );
    closers.push(berth.close);
    const client = await connect(berth.url, { token: "t" });
    closers.push(() => client.close());
    const connected = new Promise<void>((resolve) =>
      client.on("connection", (state) => {
        if (state === "connected") resolve();
      }),
    );
    berth.drop();
    await eventually(15_000, "two refused handshakes after the drop", () => berth.handshakes >= 3);
    refusing = false;
    await connected;
    expect(client.state).toBe("connected");
  });
});
