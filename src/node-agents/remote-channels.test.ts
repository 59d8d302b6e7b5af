import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import {
  ChannelDisconnectedError,
  ChannelNotConnectedError,
  ChannelTimeoutError,
  WorkloadError,
} from "../channel/channel-errors.ts";
import { socketPathFor } from "../channel/socket-path.ts";
import { RawWorkload } from "../channel/testing/raw-workload.ts";
import { TEST_NODE } from "./testing/agents-test-server.ts";
import {
  API_MAX_FRAME_BYTES,
  bed as bedOf,
  type Closers,
  connectedBed as connectedBedOf,
  ID,
  OTHER_ID,
  OTHER_NODE,
  OWNER,
} from "./testing/remote-channels-bed.ts";

const closers: Closers = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
const bed = () => bedOf(closers);
const connectedBed = () => connectedBedOf(closers);

describe("RemoteChannels, a workload's channel through its node's agent", () => {
  let b: Awaited<ReturnType<typeof connectedBed>>;
  beforeEach(async () => {
    b = await connectedBed();
  });

  it("opens the socket on the agent's node, and hears the workload's hello there", async () => {
    expect(b.hub.openIds).toEqual([ID]);
    expect(b.hello).toMatchObject({ protocol: 1, meta: { app: "probe" } });
    await expect.poll(() => b.channels.status(ID)).toMatchObject({ connected: true, meta: { app: "probe" } });
    expect(b.events).toContainEqual(["connected", ID, expect.objectContaining({ protocol: 1 })]);
    expect(b.channels.connectedCount).toBe(1);
    // Connected now: a wait that is not fresh answers at once, from the pushed status.
    await expect(b.channels.waitForHello(ID)).resolves.toMatchObject({ meta: { app: "probe" } });
  });

  it("round-trips a request and a ping", async () => {
    b.workload.serve((data) => ({ echo: data }));
    await expect(b.channels.request(ID, { sum: [1, 2] })).resolves.toEqual({ echo: { sum: [1, 2] } });
    expect(await b.channels.ping(ID)).toBeGreaterThanOrEqual(0);
    expect(b.channels.inFlightCount).toBe(0);
  });

  it("carries messages both ways, emitted as the local hub emits them", async () => {
    await b.channels.send(ID, { down: 1 });
    expect(await b.workload.next("message")).toEqual({ type: "message", data: { down: 1 } });
    b.workload.send({ type: "message", data: { up: 2 } });
    await expect
      .poll(() => b.events.filter(([e]) => e === "message"))
      .toEqual([["message", ID, { up: 2 }, expect.any(Number)]]);
  });

  it("fails a request the workload does not answer in time with CHANNEL_TIMEOUT, and its own error as WORKLOAD_ERROR", async () => {
    const late = b.channels.request(ID, "slow", { timeoutMs: 100 });
    await expect(late).rejects.toBeInstanceOf(ChannelTimeoutError);
    await expect(late).rejects.toMatchObject({ code: "CHANNEL_TIMEOUT", details: { timeoutMs: 100 } });
    expect(await b.workload.next("request")).toMatchObject({ data: "slow" });
    const request = b.channels.request(ID, "bad");
    const frame = await b.workload.next("request");
    b.workload.send({ type: "response", id: frame.id, error: { message: "no such op", code: "E_OP" } });
    await expect(request).rejects.toBeInstanceOf(WorkloadError);
    await expect(request).rejects.toMatchObject({ details: { message: "no such op", code: "E_OP" } });
  });

  it("when the agent's connection ends: pending requests fail at once, the channel is disconnected", async () => {
    await expect.poll(() => b.channels.status(ID).connected).toBe(true);
    const pending = b.channels.request(ID, "never answered", { timeoutMs: 30_000 });
    await b.workload.next("request");
    const started = Date.now();
    b.agent.close();
    await expect(pending).rejects.toBeInstanceOf(ChannelDisconnectedError);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(() => b.channels.status(ID).connected).toBe(false);
    expect(b.events).toContainEqual(["disconnected", ID, "agent_lost"]);
    // No agent for the node: as a workload that is not connected, locally.
    const next = b.channels.request(ID, "x");
    await expect(next).rejects.toBeInstanceOf(ChannelNotConnectedError);
    await expect(next).rejects.toMatchObject({
      code: "CHANNEL_NOT_CONNECTED",
      retryable: new ChannelNotConnectedError().retryable,
    });
  });

  it("when its node is called down: a request waiting on its agent fails at once, and a live agent comes back", async () => {
    const pending = b.channels.request(ID, "never answered", { timeoutMs: 30_000 });
    await b.workload.next("request");
    expect(b.server.registry.dropNode(TEST_NODE.nodeId, "Swarm calls its node down")).toBe(true);
    await expect(pending).rejects.toBeInstanceOf(ChannelDisconnectedError);
    expect(b.server.registry.dropNode(TEST_NODE.nodeId, "again")).toBe(false);
    // The agent was alive (only its node's Swarm link was cut, say): it dials again, and is taken.
    await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
    b.workload.serve(() => "back");
    await expect.poll(() => b.channels.request(ID, "x").catch((err: Error) => err.name)).toBe("back");
  });

  it("is told how the agent's channels stand when the agent connects again (a snapshot, no new hello)", async () => {
    b.agent.close();
    await expect.poll(() => b.channels.status(ID).connected).toBe(false);
    b.startAgent();
    await expect.poll(() => b.channels.status(ID).connected).toBe(true);
    expect(b.events.filter(([e]) => e === "connected")).toHaveLength(2);
    b.workload.serve(() => "again");
    await expect(b.channels.request(ID, "x")).resolves.toBe("again");
  });

  it("ends a wait for a hello under way when this server stops using the channels (shutdown)", async () => {
    const waiting = b.channels.waitForHello(ID, { fresh: true });
    waiting.catch(() => undefined);
    await b.channels.closeAll();
    await expect(waiting).rejects.toBeDefined();
    // The node's channel stays open: it serves the workload and the other servers.
    expect(b.hub.openIds).toEqual([ID]);
  });

  it("ignores, and logs, a push for a container not placed on the pushing agent's node", async () => {
    b.placements.set(ID, OTHER_NODE);
    b.workload.send({ type: "message", data: "not for this node" });
    await expect.poll(() => b.server.logs()).toContain("not placed on the agent's node");
    b.placements.set(ID, TEST_NODE.nodeId);
    // The socket keeps order: once this one is heard, the one before it was dropped, not late.
    b.workload.send({ type: "message", data: "placed" });
    await expect.poll(() => b.events.filter(([e]) => e === "message").length).toBe(1);
    expect(b.events.filter(([e]) => e === "message")).toEqual([
      ["message", ID, "placed", expect.any(Number)],
    ]);
  });

  it("takes no message or answer from the agent over the API server's frame limit", async () => {
    const big = "x".repeat(API_MAX_FRAME_BYTES + 1);
    b.workload.send({ type: "message", data: big });
    b.workload.send({ type: "message", data: "small" });
    await expect.poll(() => b.events.filter(([e]) => e === "message").length).toBe(1);
    expect(b.events.filter(([e]) => e === "message")).toEqual([["message", ID, "small", expect.any(Number)]]);
    expect(b.server.logs()).toContain("over the frame limit");
    b.workload.serve(() => big);
    await expect(b.channels.request(ID, "x")).rejects.toMatchObject({ code: "FRAME_TOO_LARGE" });
  });

  it("reaches only what the agent was asked to open, on the node of the placement", async () => {
    b.placements.set(OTHER_ID, TEST_NODE.nodeId);
    await expect(b.channels.send(OTHER_ID, "x")).rejects.toBeInstanceOf(ChannelNotConnectedError);
    await expect(b.channels.waitForHello(OTHER_ID)).rejects.toBeInstanceOf(ChannelNotConnectedError);
    expect(b.hub.openIds).toEqual([ID]);
    // Placed on a node with no agent: not connected, and nothing asked of this node's agent.
    b.placements.set(OTHER_ID, OTHER_NODE);
    await expect(b.channels.request(OTHER_ID, "x")).rejects.toBeInstanceOf(ChannelNotConnectedError);
  });

  it("closes the socket on the agent's node", async () => {
    await b.channels.close(ID);
    expect(b.hub.openIds).toEqual([]);
    await b.workload.closed;
    expect(b.channels.status(ID).connected).toBe(false);
  });
});

describe("RemoteChannels: a fresh hello that reached the agent before the wait for it did", () => {
  it("is heard from its push, not waited for in vain on the agent (readiness right after a quick start)", async () => {
    const b = await bed();
    b.startAgent();
    await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
    b.placements.set(ID, TEST_NODE.nodeId);
    await b.channels.open(ID, OWNER);
    // The API side's placement reads held: the hello's push waits here, as it does behind a slow read.
    let release!: () => void;
    b.hold.until = new Promise((resolve) => (release = resolve));
    const workload = await RawWorkload.hello(socketPathFor(b.runDir, ID), { app: "quick" });
    closers.push(() => workload.destroy());
    await expect.poll(() => b.hub.status(ID).connected).toBe(true); // on the agent's node
    expect(b.channels.status(ID).connected).toBe(false); // not yet heard on the API side
    // What readiness asks after a start it just made: a hello from a connection made from now on.
    const hello = b.channels.waitForHello(ID, { fresh: true });
    release();
    await expect(within(5_000, "the workload's hello", hello)).resolves.toMatchObject({
      meta: { app: "quick" },
    });
    // The agent's own wait was cancelled with it, nothing left waiting there.
    await expect.poll(() => b.channels.status(ID).connected).toBe(true);
  });
});
