import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket } from "socket.io";
import { type Socket as ClientSocket, io as connectClient } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";
import { forgetWhenEndedForGood } from "./session-end.ts";
import { guardSessionRecovery } from "./session-recovery-guard.ts";

const connected = (c: ClientSocket) =>
  within(5_000, "connect", new Promise((r) => c.once("connect", () => r(undefined))));

const stateOf = (c: ClientSocket) => c as unknown as { _pid: string; _lastOffset: string };

describe("a session in single-host mode", () => {
  // The in-memory adapter keeps a session after it is recovered (until its two minutes are over): a
  // connection recovered once and then ended for good could come back with its pid and be restored.
  it("is not restored after its connection, recovered once, ended for good", async () => {
    const http = createServer();
    const io = new Server(http, {
      adapter: RecoveryAdapter,
      transports: ["websocket"],
      connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: false },
    });
    guardSessionRecovery(io.of("/") as never, () => true);
    const sockets: Socket[] = [];
    const adapter = io.of("/").adapter as RecoveryAdapter;
    io.on("connection", (socket) => {
      sockets.push(socket);
      if (!socket.recovered) socket.join("owner:alice");
      // As SocketIOEventHandler has it alone.
      forgetWhenEndedForGood(socket as never, (pid) => adapter.forgetSession(pid));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const clients: ClientSocket[] = [];
    const client = (auth?: object) => {
      const c = connectClient(url, {
        transports: ["websocket"],
        reconnection: false,
        ...(auth ? { auth } : {}),
      });
      clients.push(c);
      return c;
    };
    try {
      const first = client();
      await connected(first);
      const news = new Promise((r) => first.once("news", r));
      io.to("owner:alice").emit("news" as never, 1 as never);
      await within(5_000, "news", news);
      const { _pid: pid, _lastOffset: offset } = stateOf(first);
      const gone = new Promise((r) => sockets[0]?.once("disconnect", r));
      sockets[0]?.conn.close(); // the transport drops: a session is kept
      await within(5_000, "the first end", gone);

      const second = client({ pid, offset });
      await connected(second);
      expect(sockets[1]?.recovered).toBe(true);
      const ended = new Promise((r) => second.once("disconnect", r));
      sockets[1]?.disconnect(true); // ended for good (a buffer bound, a revoked token)
      await within(5_000, "the end for good", ended);

      const third = client({ pid, offset });
      await connected(third);
      expect(sockets[2]?.recovered).toBe(false);
    } finally {
      for (const c of clients) c.disconnect();
      io.engine.close();
      await new Promise((r) => http.close(r));
    }
  });
});
