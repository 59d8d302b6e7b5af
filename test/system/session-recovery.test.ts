import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { eventually, within } from "../helpers/deadline.ts";
import { nextStatus } from "../helpers/events.ts";
import { ok, type RawClient, TOKENS, useTestServer } from "../helpers/test-server.ts";

/** The session id and last offset a socket.io client presents when it reconnects (kept privately by the client). */
function sessionOf(client: RawClient): { pid: string; offset: string } {
  const { _pid, _lastOffset } = client as unknown as { _pid?: string; _lastOffset?: string };
  if (!_pid || !_lastOffset) throw new Error("the client has no recoverable session yet");
  return { pid: _pid, offset: _lastOffset };
}

/** A reconnect that presents `auth` as is, recording every raw engine packet it receives. */
async function reconnectWith(
  url: string,
  auth: Record<string, unknown>,
): Promise<{ client: RawClient; packets: string[]; error?: Error & { data?: { code?: string } } }> {
  const client: RawClient = io(url, { auth, transports: ["websocket"], reconnection: false });
  const packets: string[] = [];
  client.io.on("open", () => {
    client.io.engine.on("packet", (p: { type: string; data?: unknown }) => {
      if (p.type === "message") packets.push(String(p.data));
    });
  });
  const error = await new Promise<(Error & { data?: { code?: string } }) | undefined>((resolve) => {
    client.once("connect", () => resolve(undefined));
    client.once("connect_error", resolve);
  });
  return { client, packets, ...(error ? { error } : {}) };
}

describe("connection-state recovery", () => {
  const server = useTestServer();

  it("restores a session only for the token it was made with: another owner's token or none starts fresh", async () => {
    const alice = await server.connectRaw("alice");
    const admin = await server.connectRaw("admin");
    const aliceId = alice.id;
    // A push gives alice's client an offset to resume from.
    const created = nextStatus(alice, (e) => e.to === "created");
    const info = await ok(alice, "container:create", { name: "recover-me", start: false });
    await within(10_000, "alice's status push", created);
    const session = sessionOf(alice);

    // Alice's transport drops (a recoverable disconnect); while she is away her container is deleted.
    alice.io.engine.close();
    const deleted = nextStatus(admin, (e) => e.id === info.id && e.to === "removing");
    await ok(admin, "container:delete", { id: info.id });
    await within(10_000, "the delete's push", deleted);

    // Bob presents alice's session id and offset with his own token: a fresh bob session, none of alice's packets.
    const asBob = await reconnectWith(server.url, { token: TOKENS.bob, ...session });
    expect(asBob.error).toBeUndefined();
    expect(asBob.client.id).not.toBe(aliceId);
    expect(asBob.packets.join("\n")).not.toContain(info.id);
    asBob.client.disconnect();

    // Without a token: refused, and again none of alice's missed packets reach the wire.
    for (const auth of [{ ...session }, { token: "not-a-token-at-all", ...session }]) {
      const anonymous = await reconnectWith(server.url, auth);
      expect(anonymous.error?.data?.code).toBe("UNAUTHORIZED");
      expect(anonymous.packets.join("\n")).not.toContain(info.id);
      anonymous.client.disconnect();
    }

    // Alice herself, with her token, gets her session back (its id) and the push she missed. (The client's own
    // `recovered` flag stays false here: it compares with a session id it keeps itself, which this new client lacks.)
    const back = await reconnectWith(server.url, { token: TOKENS.alice, ...session });
    expect(back.error).toBeUndefined();
    expect(back.client.id).toBe(aliceId);
    expect(back.packets.join("\n")).toContain(info.id);
    back.client.disconnect();
  });

  it("starts a fresh session for a session id it never held (a client back after a berth restart), at once", async () => {
    // socket.io's in-memory adapter answers null, not a promise, for an id it does not know.
    const back = await within(
      5_000,
      "the handshake's answer",
      reconnectWith(server.url, { token: TOKENS.alice, pid: "never-issued-by-this-berth", offset: "0-0" }),
    );
    expect(back.error).toBeUndefined();
    expect(back.client.connected).toBe(true);
    expect(await ok(back.client, "container:list", {})).toMatchObject({ items: expect.any(Array) });
    back.client.disconnect();
  });

  it("restores no session of a connection that ended for good after it was recovered once", async () => {
    const alice = await server.connectRaw("alice");
    const aliceId = alice.id ?? "";
    const created = nextStatus(alice, (e) => e.to === "created" && e.name === "ended-for-good");
    const info = await ok(alice, "container:create", { name: "ended-for-good", start: false });
    await within(10_000, "alice's status push", created);
    const session = sessionOf(alice);
    alice.io.engine.close(); // a recoverable drop: berth keeps the session

    const back = await reconnectWith(server.url, { token: TOKENS.alice, ...session });
    expect(back.client.id).toBe(aliceId);
    // Signing out: the client's own disconnect, after which Socket.IO keeps no session (and berth must keep none).
    back.client.disconnect();
    await eventually(10_000, "berth seeing alice sign out", () =>
      server
        .logs()
        .split("\n")
        .some((line) => line.includes(aliceId) && line.includes("client namespace disconnect")),
    );

    const again = await reconnectWith(server.url, { token: TOKENS.alice, ...session });
    expect(again.error).toBeUndefined();
    expect(again.client.id).not.toBe(aliceId);
    again.client.disconnect();
    await ok(await server.connectRaw("alice"), "container:delete", { id: info.id });
  });
});
