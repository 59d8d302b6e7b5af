import { request } from "node:http";
import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { type RawClient, TOKENS, useTestServer } from "../helpers/test-server.ts";

type ConnectError = Error & { data?: { code?: string; details?: unknown }; description?: unknown };

/** Connects from `localAddress` (any of 127.0.0.0/8 reaches a server on 127.0.0.1); resolves with the client or the error. */
function connectFrom(
  url: string,
  token: string,
  localAddress = "127.0.0.1",
): Promise<RawClient | ConnectError> {
  const client: RawClient = io(url, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    localAddress,
  } as Parameters<typeof io>[1]);
  return new Promise((resolve) => {
    client.once("connect", () => resolve(client));
    client.once("connect_error", (err: ConnectError) => {
      client.close();
      resolve(err);
    });
  });
}

const isClient = (x: RawClient | ConnectError): x is RawClient => !(x instanceof Error);

describe("connections per owner (BERTH_MAX_CONNECTIONS_PER_OWNER)", () => {
  const server = useTestServer({ BERTH_MAX_CONNECTIONS_PER_OWNER: "3" });

  it("refuses an owner's connection over the cap with TOO_MANY_CONNECTIONS, and does not affect another owner", async () => {
    const alice = await Promise.all([1, 2, 3, 4, 5].map(() => connectFrom(server.url, TOKENS.alice)));
    // Handshakes at once cannot all slip past the check.
    expect(alice.filter(isClient)).toHaveLength(3);
    for (const refused of alice.filter((x) => !isClient(x))) {
      expect(refused).toMatchObject({
        data: { code: "TOO_MANY_CONNECTIONS", category: "auth", retryable: true, details: { limit: 3 } },
      });
    }
    // Bob has a cap of his own, and the admin has none.
    const others = await Promise.all([
      ...[1, 2, 3].map(() => connectFrom(server.url, TOKENS.bob)),
      ...[1, 2, 3, 4].map(() => connectFrom(server.url, TOKENS.admin)),
    ]);
    expect(others.every(isClient)).toBe(true);

    // A closed connection frees its slot.
    const [first] = alice.filter(isClient);
    first?.disconnect();
    await eventually(5_000, "alice connects again once one of hers closed", async () => {
      const again = await connectFrom(server.url, TOKENS.alice);
      if (!isClient(again)) return again.data?.code ?? again.message;
      again.disconnect();
      return true;
    });
    for (const c of [...alice, ...others]) if (isClient(c)) c.disconnect();
  });
});

describe("handshakes per remote address (BERTH_HANDSHAKES_PER_MINUTE)", () => {
  const server = useTestServer({ BERTH_HANDSHAKES_PER_MINUTE: "5" });

  it("refuses a flood of handshakes from one address before authentication, while another address connects", async () => {
    const flood: Array<RawClient | ConnectError> = [];
    for (let i = 0; i < 8; i++) flood.push(await connectFrom(server.url, "not-a-valid-token", "127.0.0.2"));
    // The first five reach the token check; the rest are refused before it, at the HTTP upgrade.
    expect(flood.slice(0, 5).map((e) => (isClient(e) ? "connected" : e.data?.code))).toEqual(
      Array(5).fill("UNAUTHORIZED"),
    );
    for (const e of flood.slice(5)) {
      expect(isClient(e)).toBe(false);
      expect((e as ConnectError).data).toBeUndefined();
      expect((e as ConnectError).message).toBe("websocket error");
    }
    // A valid token does not help from a flooding address…
    expect(isClient(await connectFrom(server.url, TOKENS.alice, "127.0.0.2"))).toBe(false);
    // …and the flood costs nobody else: alice and bob connect from another address.
    const [alice, bob] = await Promise.all([
      connectFrom(server.url, TOKENS.alice, "127.0.0.1"),
      connectFrom(server.url, TOKENS.bob, "127.0.0.1"),
    ]);
    expect(isClient(alice) && isClient(bob)).toBe(true);
    for (const c of [alice, bob]) if (isClient(c)) c.disconnect();
    // Logged once for the flood, not once per refused handshake.
    const lines = server
      .logs()
      .split("\n")
      .filter((l) => l.includes("refusing handshakes: too many from this address"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"address":"127.0.0.2"');
  });

  it("shares one budget of tries per address with /metrics: guesses there leave fewer handshakes", async () => {
    // The other test's flood came from 127.0.0.2: this one is 127.0.0.3's.
    const from = "127.0.0.3";
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push(await scrapeFrom(server.url, `guess-${i}-0123456789`, from));
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
    expect(isClient(await connectFrom(server.url, TOKENS.alice, from))).toBe(false);
    // Out of budget, the admin's token is refused like any other: a guesser learns nothing of its guesses.
    expect(await scrapeFrom(server.url, TOKENS.admin, from)).toBe(429);
  });
});

/** GET /metrics from `localAddress` with a bearer token; resolves with the status code. */
function scrapeFrom(url: string, token: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/metrics`,
      { localAddress, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
