import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, ok, type RawClient, startTestServer, type TestServer } from "../helpers/test-server.ts";

describe("per-connection caps", () => {
  let server: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  let aliceId: string;
  let bobId: string;

  beforeAll(async () => {
    server = await startTestServer({ BERTH_MAX_SUBSCRIPTIONS: "2", BERTH_MAX_REQUESTS_IN_FLIGHT: "3" });
    [alice, bob] = await Promise.all([server.connectRaw("alice"), server.connectRaw("bob")]);
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
    const aliceAgain = await server.connectRaw("alice");
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
      ok(alice, "container:request", { id: aliceId, data: { delayMs: 4_000, value } }),
    );
    let slowEnded = false;
    const ended = () => {
      slowEnded = true;
    };
    void Promise.race(slow).then(ended, ended); // their outcome is checked below
    const over = await call(alice, "container:request", { id: aliceId, data: { echo: "over" } });
    expect(over).toMatchObject({
      ok: false,
      error: { code: "CHANNEL_BUSY", retryable: true, details: { limit: 3 } },
    });
    // At once: answered while the three ahead of it (4 s each) are still in flight, not queued behind them.
    expect(slowEnded).toBe(false);
    expect(await ok(bob, "container:request", { id: bobId, data: { echo: "bob" } })).toBe("bob");
    const aliceAgain = await server.connectRaw("alice");
    expect(await ok(aliceAgain, "container:request", { id: aliceId, data: { echo: "other" } })).toBe("other");
    expect(await Promise.all(slow)).toEqual([1, 2, 3]);
    expect(await ok(alice, "container:request", { id: aliceId, data: { echo: "after" } })).toBe("after");
    aliceAgain.disconnect();
  });
});
