import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { LANE_PATH, LANE_TOKEN_TTL_MS } from "../agent-link/channel-lane.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection } from "../node-agents/agent-connection.ts";
import { ChannelLaneAcceptor } from "./channel-lane-acceptor.ts";

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An acceptor on a real HTTP server, on a clock of the test's own, and an agent connection that only counts its lanes. */
async function acceptor() {
  const http = createServer();
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  closers.push(() => new Promise((r) => http.close(r)));
  closers.push(() => http.closeAllConnections());
  const clock = { now: 1_000_000 };
  const log = createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });
  const lanes = new ChannelLaneAcceptor(http, { maxPayloadBytes: 1024, log, now: () => clock.now });
  closers.push(() => lanes.close());
  const attached: WebSocket[] = [];
  const agent = {
    nodeId: "n3abcdefghijklmnopqrstuvw",
    isClosed: false,
    attachLane: (ws: WebSocket) => attached.push(ws),
  } as unknown as AgentConnection;
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}${LANE_PATH}`;
  const open = (token: string) =>
    new Promise<number | "open">((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      closers.push(() => ws.terminate());
      ws.on("open", () => resolve("open"));
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => {});
    });
  return { lanes, agent, attached, clock, open };
}

describe("ChannelLaneAcceptor", () => {
  it("refuses an offer's token once it has waited longer than LANE_TOKEN_TTL_MS", async () => {
    const a = await acceptor();
    const { token } = a.lanes.offer(a.agent);
    a.clock.now += LANE_TOKEN_TTL_MS;
    expect(await a.open(token)).toBe(401);
    expect(a.attached).toHaveLength(0);
  });

  it("keeps one offer per connection: a newer one takes the older's place", async () => {
    const a = await acceptor();
    const first = a.lanes.offer(a.agent);
    const second = a.lanes.offer(a.agent);
    expect(a.lanes.offers).toBe(1);
    expect(await a.open(first.token)).toBe(401);
    expect(await a.open(second.token)).toBe("open");
    expect(a.attached).toHaveLength(1);
    expect(a.lanes.offers).toBe(0);
  });

  it("takes no lane once closed", async () => {
    const a = await acceptor();
    const { token } = a.lanes.offer(a.agent);
    a.lanes.close();
    // Not this acceptor's any more: the HTTP server answers no upgrade at all.
    const answer = await Promise.race([
      a.open(token),
      new Promise((r) => setTimeout(() => r("no answer"), 300)),
    ]);
    expect(answer).not.toBe("open");
    expect(a.attached).toHaveLength(0);
  });
});
