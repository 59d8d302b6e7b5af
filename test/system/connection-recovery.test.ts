import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerMessageEvent } from "#protocol";
import { eventually, within } from "../helpers/deadline.ts";
import { floodCode } from "../helpers/slow-client.ts";
import { ok, type RawClient, startTestServer, type TestServer, TOKENS } from "../helpers/test-server.ts";

describe("connection-state recovery", () => {
  let server: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  let floodId: string;
  let otherId: string;
  let bobsId: string;

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob] = await Promise.all([server.connectRaw("alice"), server.connectRaw("bob")]);
    const code = await floodCode();
    [floodId, otherId, bobsId] = await Promise.all([
      ok(alice, "container:create", { name: "flood", code }).then((c) => c.id),
      ok(alice, "container:create", { name: "other", code }).then((c) => c.id),
      ok(bob, "container:create", { name: "bobs", code }).then((c) => c.id),
    ]);
  });

  /** A client that does not reconnect by itself, so that the test says when it comes back. */
  async function recoverable(token: string): Promise<RawClient> {
    const { io } = await import("socket.io-client");
    const client: RawClient = io(server.url, {
      auth: { token },
      transports: ["websocket"],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    return client;
  }

  /** Drops the client's transport (as a network would; berth keeps the session) and waits until berth has seen it go. */
  async function drop(client: RawClient): Promise<void> {
    const id = client.id!;
    client.io.engine.close();
    await eventually(
      10_000,
      "berth sees the client gone",
      () => server.berth.clientBufferedBytes(id) === undefined,
    );
  }
  afterAll(async () => {
    await server?.close();
  });

  it("replays status changes and activity to a client that comes back, but not the messages it missed", async () => {
    const client = await recoverable(TOKENS.alice);
    const bobsClient = await recoverable(TOKENS.bob);
    await ok(client, "container:subscribe", { id: floodId });
    const messages: ContainerMessageEvent[] = [];
    client.on("container:message", (e) => messages.push(e));
    // A pushed event first, so that each client holds a recovery offset.
    const stopped = new Promise((r) => client.once("container:status_changed", r));
    const bobStopped = new Promise((r) => bobsClient.once("container:status_changed", r));
    await Promise.all([
      ok(alice, "container:stop", { id: otherId }),
      ok(bob, "container:stop", { id: bobsId }),
    ]);
    await Promise.all([stopped, bobStopped]);

    await Promise.all([drop(client), drop(bobsClient)]);
    // alice's own connection sees the messages go out meanwhile.
    await ok(alice, "container:subscribe", { id: floodId });
    let seen = 0;
    const fifty = new Promise<void>((resolve) =>
      alice.on("container:message", () => {
        if (++seen === 50) resolve();
      }),
    );
    await ok(alice, "container:request", {
      id: floodId,
      data: { messages: { perSecond: 2_000, bytes: 16 } },
    });
    await within(10_000, "50 messages while the client is away", fifty);
    await ok(alice, "container:request", { id: floodId, data: { stop: true } });
    await Promise.all([
      ok(alice, "container:start", { id: otherId }),
      ok(bob, "container:start", { id: bobsId }),
    ]);

    const replayed: string[] = [];
    client.onAny((event: string) => replayed.push(event));
    const bobReplayed: unknown[] = [];
    bobsClient.onAny((...args: unknown[]) => bobReplayed.push(args));
    client.connect();
    bobsClient.connect();
    await Promise.all([
      new Promise<void>((resolve) => client.once("connect", resolve)),
      new Promise<void>((resolve) => bobsClient.once("connect", resolve)),
    ]);
    expect(client.recovered).toBe(true);
    expect(bobsClient.recovered).toBe(true);
    await eventually(10_000, "the status change is replayed", () =>
      replayed.includes("container:status_changed"),
    );
    expect(replayed).toContain("activity_log");
    expect(replayed).not.toContain("container:message");
    expect(messages).toHaveLength(0);
    // bob's session gets his own container's changes back, and nothing of alice's.
    await eventually(10_000, "bob's status change is replayed", () =>
      JSON.stringify(bobReplayed).includes(bobsId),
    );
    expect(JSON.stringify(bobReplayed)).not.toContain(otherId);
    expect(JSON.stringify(bobReplayed)).not.toContain(floodId);
    // The subscription itself came back with the session: new messages arrive again.
    const next = new Promise<ContainerMessageEvent>((r) => client.once("container:message", r));
    await ok(alice, "container:request", { id: floodId, data: { messages: { perSecond: 100, bytes: 16 } } });
    expect((await within(10_000, "a message after the reconnect", next)).id).toBe(floodId);
    await ok(alice, "container:request", { id: floodId, data: { stop: true } });
    client.disconnect();
    bobsClient.disconnect();
  }, 60_000);
});
