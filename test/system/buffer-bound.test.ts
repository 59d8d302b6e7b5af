import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { emitRaw, floodCode, MiB, tcpOf } from "../helpers/slow-client.ts";
import { ok, type RawClient, startTestServer, type TestServer } from "../helpers/test-server.ts";

describe("a client that stays over its bound", () => {
  let server: TestServer;
  let alice: RawClient;
  let id: string;

  beforeAll(async () => {
    server = await startTestServer({
      BERTH_CLIENT_BUFFER_BYTES: String(256 * 1024),
      BERTH_CLIENT_BUFFER_MAX_BYTES: String(2 * MiB),
      BERTH_CLIENT_BUFFER_GRACE_MS: "1500",
    });
    alice = await server.connectRaw("alice");
    id = (await ok(alice, "container:create", { name: "echo", code: await floodCode() })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is disconnected after the grace period, with the reason in the system log; others are not", async () => {
    const stuck = await server.connectRaw("alice");
    const bob = await server.connectRaw("bob");
    const stuckId = stuck.id!;
    tcpOf(stuck).pause();
    // Answers are never dropped: ask for 64 KiB ones until berth holds more than the bound for it.
    const data = { pad: "y".repeat(64 * 1024) };
    // When berth was last seen under the bound: it went over (and its grace began) after that, however
    // late this loop, on a loaded machine, sees it.
    let under = Date.now();
    await eventually(
      30_000,
      "berth holds over 2 MiB for the stuck client",
      () => {
        const now = Date.now();
        const bytes = server.berth.clientBufferedBytes(stuckId) ?? 0;
        if (bytes > 2 * MiB) return true;
        under = now;
        emitRaw(stuck, "container:request", { id, data }, () => {});
        return `${bytes} bytes`;
      },
      20,
    );
    // Below twice the bound, so it is the grace period that ends it.
    expect(server.berth.clientBufferedBytes(stuckId)).toBeLessThan(4 * MiB);
    await eventually(
      10_000,
      "the stuck client is disconnected",
      () => server.berth.clientBufferedBytes(stuckId) === undefined,
    );
    // The 1.5 s grace, less a little for the timer's millisecond clock.
    expect(Date.now() - under).toBeGreaterThanOrEqual(1_450);
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
});

describe("a client that reaches twice its bound", () => {
  let server: TestServer;
  let alice: RawClient;
  let id: string;

  beforeAll(async () => {
    server = await startTestServer({
      BERTH_CLIENT_BUFFER_BYTES: String(256 * 1024),
      BERTH_CLIENT_BUFFER_MAX_BYTES: String(2 * MiB),
      // A grace far longer than the answers take to pile up, on a loaded machine too: only the ceiling can
      // end this connection within the test.
      BERTH_CLIENT_BUFFER_GRACE_MS: "60000",
    });
    alice = await server.connectRaw("alice");
    id = (await ok(alice, "container:create", { name: "echo", code: await floodCode() })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is disconnected at once when it reaches twice the bound", async () => {
    const stuck = await server.connectRaw("alice");
    const stuckId = stuck.id!;
    tcpOf(stuck).pause();
    const data = { pad: "z".repeat(512 * 1024) };
    for (let i = 0; i < 40; i++) emitRaw(stuck, "container:request", { id, data }, () => {});
    await eventually(
      30_000,
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
