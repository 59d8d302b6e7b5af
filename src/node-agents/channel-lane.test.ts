import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { io, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { AGENTS_NAMESPACE } from "../agent-link/agent-link-contract.ts";
import { LANE_PATH } from "../agent-link/channel-lane.ts";
import { ChannelDisconnectedError } from "../channel/channel-errors.ts";
import { ChannelLane } from "./channel-lane.ts";
import { RemoteChannels } from "./remote-channels.ts";
import {
  type AgentsTestServer,
  startAgentsTestServer,
  TEST_CREDENTIAL,
  TEST_NODE,
} from "./testing/agents-test-server.ts";
import { type Closers, connectedBed, ID } from "./testing/remote-channels-bed.ts";

const closers: Closers = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("the channel lane, with a real node agent", () => {
  it("is opened by every agent let in, and carries requests, messages and the channel's pushes", async () => {
    const b = await connectedBed(closers);
    const agent = () => b.server.registry.agentFor(TEST_NODE.nodeId);
    await expect.poll(() => agent()?.hasLane).toBe(true);
    b.workload.serve((data) => ({ echo: data }));
    await expect(b.channels.request(ID, { n: 1 })).resolves.toEqual({ echo: { n: 1 } });
    await b.channels.send(ID, { down: 1 });
    expect(await b.workload.next("message")).toEqual({ type: "message", data: { down: 1 } });
    b.workload.send({ type: "message", data: { up: 2 } });
    await expect.poll(() => b.events.filter(([e]) => e === "message")).toHaveLength(1);
    expect(agent()?.open.calls).toBe(0);
    // A workload gone: the agent's push of it, on the lane, reaches the API side.
    await b.workload.destroy();
    await expect.poll(() => b.channels.status(ID).connected).toBe(false);
  });

  it("is closed with its link: a request waiting on it fails at once as the channel's, not a timeout", async () => {
    const b = await connectedBed(closers);
    await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)?.hasLane).toBe(true);
    const pending = b.channels.request(ID, "never answered", { timeoutMs: 30_000 });
    await b.workload.next("request");
    b.agent.close();
    await expect(pending).rejects.toBeInstanceOf(ChannelDisconnectedError);
  });

  it("is not needed: with no lane offered, the link carries the channel as before", async () => {
    const b = await connectedBed(closers, { channelLanes: false });
    b.workload.serve(() => "over the link");
    await expect(b.channels.request(ID, "x")).resolves.toBe("over the link");
    expect(b.server.registry.agentFor(TEST_NODE.nodeId)?.hasLane).toBe(false);
  });
});

/** A node agent of this test's own, speaking the link and the lane by hand. */
async function handAgent(server: AgentsTestServer): Promise<{ link: Socket; offers: string[] }> {
  const link = io(new URL(AGENTS_NAMESPACE, server.url).href, {
    transports: ["websocket"],
    reconnection: false,
    auth: { credential: TEST_CREDENTIAL, ...TEST_NODE },
  });
  closers.push(() => link.disconnect());
  const offers: string[] = [];
  link.on("lane", (offer: { token: string }) => offers.push(offer.token));
  await expect.poll(() => offers.length).toBe(1);
  return { link, offers };
}

/** Opens LANE_PATH with `authorization`; resolves with the open lane, or the HTTP status it was refused with. */
async function openLane(server: AgentsTestServer, authorization?: string): Promise<WebSocket | number> {
  const ws = new WebSocket(new URL(LANE_PATH, server.url.replace("http:", "ws:")), {
    headers: authorization === undefined ? {} : { authorization },
  });
  closers.push(() => ws.terminate());
  const refused = new Promise<number>((resolve) =>
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
  );
  ws.on("error", () => {});
  return Promise.race([once(ws, "open").then(() => ws), refused]);
}

/** A server, a hand agent let in on it, and the lane it was offered, open. */
async function handLane() {
  const server = await startAgentsTestServer({ logLevel: "warn" });
  closers.push(server.close);
  const { link, offers } = await handAgent(server);
  const lane = (await openLane(server, `Bearer ${offers[0]}`)) as WebSocket;
  const agent = () => server.registry.agentFor(TEST_NODE.nodeId);
  await expect.poll(() => agent()?.hasLane).toBe(true);
  return { server, link, offers, lane, agent };
}

describe("the channel lane's way in", () => {
  it("opens only with a token this server offered, once", async () => {
    const server = await startAgentsTestServer({ logLevel: "warn" });
    closers.push(server.close);
    const { offers } = await handAgent(server);
    const token = offers[0] as string;
    expect(await openLane(server)).toBe(401);
    expect(await openLane(server, `Bearer ${"A".repeat(43)}`)).toBe(401);
    expect(await openLane(server, `Bearer ${TEST_CREDENTIAL}`)).toBe(401);
    expect(await openLane(server, token)).toBe(401); // not as a bearer token
    expect(await openLane(server, `Bearer ${token}`)).toBeInstanceOf(WebSocket);
    await expect.poll(() => server.registry.agentFor(TEST_NODE.nodeId)?.hasLane).toBe(true);
    // Used once: gone.
    expect(await openLane(server, `Bearer ${token}`)).toBe(401);
    expect(server.logs()).toContain("refused a channel lane");
    expect(server.logs()).not.toContain(token);
  });

  it("takes an upgrade whose target is no path (absolute-form, unparsable) without a throw, and goes on", async () => {
    const server = await startAgentsTestServer({ logLevel: "warn" });
    closers.push(server.close);
    const { port } = new URL(server.url);
    for (const target of ["http://[", `http://berth${LANE_PATH}`, "*"]) {
      const socket = connect(Number(port), "127.0.0.1").resume();
      closers.push(() => socket.destroy());
      await once(socket, "connect");
      socket.write(
        `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      // Answered or dropped, by engine.io's or the lane's refusal: never an uncaught exception (vitest fails on one).
      await once(socket, "close");
    }
    // And the server still lets an agent in, with its lane.
    await handAgent(server);
  });

  it("is offered only to a connection that is still open", async () => {
    const server = await startAgentsTestServer({ logLevel: "warn" });
    closers.push(server.close);
    const { link, offers } = await handAgent(server);
    link.disconnect();
    await expect.poll(() => server.registry.agentFor(TEST_NODE.nodeId)).toBeUndefined();
    expect(await openLane(server, `Bearer ${offers[0]}`)).toBe(401);
  });

  it("carries calls out and answers back, and closes on a malformed frame; a new one is offered", async () => {
    const { server, offers, lane, agent } = await handLane();
    const channels = new RemoteChannels({
      registry: server.registry,
      nodeOf: async () => TEST_NODE.nodeId,
      placementFreshMs: 0,
      maxFrameBytes: 4096,
      maxRequestTimeoutMs: 30_000,
      log: server.log,
    });
    closers.push(() => channels.closeAll());
    const frames: unknown[] = [];
    lane.on("message", (data) => {
      const frame = JSON.parse(String(data));
      frames.push(frame);
      if (frame[0] === "c") lane.send(JSON.stringify(["a", frame[1].id, { ok: true, value: "by hand" }]));
    });
    await expect(channels.request(ID, { n: 1 })).resolves.toBe("by hand");
    expect(frames).toEqual([
      ["c", { kind: "channel", id: expect.any(String), op: "request", args: [ID, { n: 1 }, 30_000] }],
    ]);
    lane.send("not a frame");
    await expect.poll(() => agent()?.hasLane).toBe(false);
    expect(server.logs()).toContain("a malformed frame");
    await expect.poll(() => offers.length, { timeout: 5_000 }).toBe(2);
  });

  it("fails the calls on a lane the agent closed as lost, and the link takes the next", async () => {
    const { link, lane, agent } = await handLane();
    const calls: unknown[] = [];
    lane.on("message", (data) => calls.push(JSON.parse(String(data))));
    link.on("call", (_call: unknown, ack: (a: unknown) => void) => ack({ ok: true, value: null }));
    const owner = { uid: 100_123, gid: 100_123 };
    const pending = agent()?.channel("open", [ID, owner], {
      lost: (reason) => new Error(`lost: ${reason}`),
      timedOut: () => new Error("timed out"),
    });
    await expect.poll(() => calls.length).toBe(1);
    lane.close();
    await expect(pending).rejects.toThrow(/lost: the channel lane closed/);
    await expect(
      agent()?.channel("open", [ID, owner], {
        lost: () => new Error("lost"),
        timedOut: () => new Error("t"),
      }),
    ).resolves.toBeNull();
  });

  it("fails the calls on a lane as its link's end says when both close (an agent that died), in either order", async () => {
    const { link, lane, agent } = await handLane();
    const calls: unknown[] = [];
    lane.on("message", (data) => calls.push(data));
    const pending = agent()?.channel("open", [ID, { uid: 100_123, gid: 100_123 }], {
      lost: (reason) => new Error(`lost: ${reason}`),
      timedOut: () => new Error("timed out"),
    });
    await expect.poll(() => calls.length).toBe(1);
    // The lane's end is heard first, the link's just after.
    lane.terminate();
    await expect.poll(() => agent()?.hasLane).toBe(false);
    link.disconnect();
    const err = (await pending?.catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^lost: /);
    expect(err.message).not.toMatch(/channel lane/);
  });

  it("holds what the lane brings until the link says the agent's pushes moved there, then takes it in order", async () => {
    const { link, lane, agent } = await handLane();
    const heard: string[] = [];
    agent()?.onChannelPush((push) => heard.push(push.kind));
    lane.send(JSON.stringify(["p", { kind: "channel-snapshot", channels: [] }]));
    // A push still on its way on the link, sent before the agent's word: taken first.
    link.emit("push", { kind: "channel-event", containerId: ID, event: { type: "message", data: 1, ts: 1 } });
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual(["channel-event"]);
    link.emit("push", { kind: "channel-pushes-on-lane" });
    await expect.poll(() => heard).toEqual(["channel-event", "channel-snapshot"]);
    // From then on, the lane's pushes are taken as they come.
    lane.send(JSON.stringify(["p", { kind: "channel-snapshot", channels: [] }]));
    await expect.poll(() => heard).toHaveLength(3);
  });

  it("is closed when the agent reads nothing of what waits for it, and the link takes the calls again", async () => {
    const { server, lane, agent } = await handLane();
    // An agent that stops reading its lane (its link answers on: its pings are the link's).
    (lane as unknown as { _socket: { pause(): void } })._socket.pause();
    const failures = { lost: () => new Error("lost"), timedOut: () => new Error("timed out") };
    const sent: Array<Promise<unknown>> = [];
    const big = "x".repeat(512 * 1024);
    for (let i = 0; i < 64 && agent()?.hasLane; i++) {
      sent.push(
        agent()!
          .channel("send", [ID, big], failures)
          .catch((err: Error) => err.message),
      );
      await new Promise((r) => setImmediate(r));
    }
    await expect.poll(() => agent()?.hasLane).toBe(false);
    expect(server.logs()).toContain("it read nothing of what waits for it");
    await Promise.all(sent);
  });
});

describe("ChannelLane's heartbeat", () => {
  it("drops a lane that does not answer its pings (a flow a NAT forgot), and says so once", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    closers.push(() => new Promise((r) => wss.close(r)));
    await once(wss, "listening");
    const accepted = once(wss, "connection");
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
      autoPong: false,
    });
    closers.push(() => client.terminate());
    const [ws] = (await accepted) as [WebSocket];
    const closed: string[] = [];
    const server = await startAgentsTestServer({ logLevel: "warn" });
    closers.push(server.close);
    new ChannelLane(
      ws,
      { answer: () => {}, push: () => {}, closed: (_lane, reason) => closed.push(reason) },
      server.log,
      { maxBufferedBytes: 1024 * 1024, pingMs: 50 },
    );
    await expect.poll(() => closed).toEqual(["the channel lane stopped answering"]);
  });
});
