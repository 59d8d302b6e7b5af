import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, within } from "../helpers/deadline.ts";
import { rawSocket } from "../helpers/raw-engine.ts";
import { emitRaw } from "../helpers/slow-client.ts";
import {
  call,
  ok,
  type RawClient,
  startTestServer,
  type TestServer,
  TOKENS,
} from "../helpers/test-server.ts";

/** The log lines of one connection's handling of `event` that say it is over (answered or failed). */
function outcomes(server: TestServer, connection: string, event: string): { msg: string; code?: string }[] {
  return server
    .logs()
    .split("\n")
    .filter((line) => line.includes(connection) && line.includes(event))
    .map((line) => JSON.parse(line) as { connection?: string; event?: string; msg: string; code?: string })
    .filter((e) => e.connection === connection && e.event === event)
    .filter((e) => e.msg === "handled" || e.msg === "request failed");
}

/** Whether berth has handled `connection`'s leaving (its disconnect listeners have all run by this line). */
function disconnected(server: TestServer, connection: string): boolean {
  return server
    .logs()
    .split("\n")
    .filter((line) => line.includes(connection) && line.includes("client disconnected"))
    .some((line) => (JSON.parse(line) as { connection?: string }).connection === connection);
}

describe("nothing a connection started outlives it", () => {
  let server: TestServer;
  let bob: RawClient;
  let aliceId: string;
  let bobId: string;

  beforeAll(async () => {
    server = await startTestServer({ BERTH_MAX_REQUESTS_IN_FLIGHT: "200" });
    const alice = await server.connectRaw("alice");
    bob = await server.connectRaw("bob");
    const code = {
      files: {
        "index.js": await readFile(new URL("../fixtures/workloads/channel.js", import.meta.url), "utf8"),
      },
    };
    [aliceId, bobId] = await Promise.all([
      ok(alice, "container:create", { name: "teardown", code }).then((c) => c.id),
      ok(bob, "container:create", { name: "teardown", code }).then((c) => c.id),
    ]);
    alice.disconnect();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("closes a log follow that the engine opened after its connection had left, and keeps bob's", async () => {
    await ok(bob, "container:follow_logs", { id: bobId, tail: 0 });
    expect(server.berth.activeSubscriptions).toBe(1);
    for (let i = 0; i < 5; i++) {
      const gone = await server.connectRaw("alice");
      const connection = gone.id!;
      // The follow waits on the engine. Events are handled in order, so once the list (answered without
      // the engine) comes back the follow has started; the DISCONNECT then reaches berth before the engine answers.
      emitRaw(gone, "container:follow_logs", { id: aliceId, tail: 0 }, () => {});
      await ok(gone, "container:list", {});
      gone.disconnect();
      // Done when berth has both answered the follow and seen the connection leave: with a store that
      // answers the list more slowly than the engine answers the follow, the follow can succeed first and
      // be given back only when the DISCONNECT arrives.
      await eventually(10_000, "berth is done with the follow and the connection", () =>
        outcomes(server, connection, "container:follow_logs").length === 1 && disconnected(server, connection)
          ? true
          : server
              .logs()
              .split("\n")
              .filter((l) => l.includes(connection))
              .join("\n"),
      );
      expect(server.berth.activeSubscriptions).toBe(1);
    }
    await ok(bob, "container:unfollow_logs", { id: bobId });
    expect(server.berth.activeSubscriptions).toBe(0);
  });

  it("cancels a connection's pending channel calls when it disconnects, and leaves bob's waiting", async () => {
    const inFlight = (id: string) => {
      const status = server.berth.channel.status(id);
      return status.inFlight ?? -1;
    };
    const gone = await server.connectRaw("alice");
    for (let i = 0; i < 100; i++) {
      emitRaw(gone, "container:request", { id: aliceId, data: { never: true }, timeoutMs: 60_000 }, () => {});
    }
    // Bob's call waits 8 s in his workload: long enough that, on a loaded machine too, it is still waiting
    // when alice's calls are gone, so that it shows that her disconnect left it alone.
    const bobs = call(bob, "container:request", { id: bobId, data: { delayMs: 8_000, value: "bob" } });
    await eventually(5_000, "alice's 100 calls wait in the channel", () => inFlight(aliceId) >= 100);
    await eventually(5_000, "bob's call waits in the channel", () => inFlight(bobId) >= 1);
    gone.disconnect();
    await eventually(5_000, "alice's calls are gone from the channel", () =>
      inFlight(aliceId) === 0 ? true : `${inFlight(aliceId)} in flight`,
    );
    expect(inFlight(bobId)).toBeGreaterThanOrEqual(1);
    expect(await bobs).toEqual({ ok: true, data: "bob" });
  });

  it("closes the engine connection of a client that leaves the namespace but keeps the connection open", async () => {
    const leaver = await rawSocket(server.url);
    const stayer = await rawSocket(server.url);
    leaver.ws.send(`40${JSON.stringify({ token: TOKENS.alice })}`);
    stayer.ws.send(`40${JSON.stringify({ token: TOKENS.bob })}`);
    await eventually(5_000, "both connect", () =>
      [leaver, stayer].every((raw) => raw.messages.some((m) => m.startsWith("40{"))),
    );
    // A namespace DISCONNECT: the socket is gone, and with it the connection's place in its owner's count.
    leaver.ws.send("41");
    await within(5_000, "berth closes the engine connection left without a namespace", leaver.closed);
    // bob's connection, which stayed in the namespace, is still served.
    stayer.ws.send('421["container:list",{}]');
    await eventually(5_000, "bob's connection answers", () =>
      stayer.messages.some((m) => m.startsWith("431")),
    );
    expect(stayer.ws.readyState).toBe(WebSocket.OPEN);
    stayer.ws.close();
  });
});
