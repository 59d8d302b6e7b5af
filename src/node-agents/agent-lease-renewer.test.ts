import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/node-agent.ts";
import { ChannelNotConnectedError } from "../channel/channel-errors.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { socketPathFor } from "../channel/socket-path.ts";
import { RawWorkload } from "../channel/testing/raw-workload.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { AgentLeaseRenewer } from "./agent-lease-renewer.ts";
import { RemoteChannels } from "./remote-channels.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

const ID = "C0123456789A";
const OWNER = { uid: 100_123, gid: 100_123 };
/** Short, for a test: an agent's own floor is 2 s (BERTH_AGENT_LEASE_MS), with renewals every second. */
const LEASE_MS = 600;
const RENEW_MS = 50;

const silent = () =>
  createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A store that answers, or (`hang`) never does: as PostgreSQL cut off without a reset. */
class FakeStore {
  asked = 0;
  #hanging: Array<() => void> = [];
  hang = false;
  /** How long each answer takes (a pool busy with long operations). */
  slowMs = 0;

  answer = (): Promise<unknown> => {
    this.asked++;
    if (this.slowMs > 0) return new Promise((resolve) => setTimeout(resolve, this.slowMs));
    if (!this.hang) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#hanging.push(() => resolve(undefined)));
  };

  /** Answers the questions left hanging, and every later one. */
  recover(): void {
    this.hang = false;
    for (const answer of this.#hanging.splice(0)) answer();
  }
}

/**
 * An API server renewing its agents' leases while its store answers, a node agent with a lease whose
 * channel side is a real SocketCommunicationHandler, and RemoteChannels routing by a placement with its generation.
 */
async function bed() {
  const server = await startAgentsTestServer();
  closers.push(server.close);
  const runDir = await mkdtemp(join(tmpdir(), "berth-lease-"));
  closers.push(() => rm(runDir, { recursive: true, force: true }));
  const hub = new SocketCommunicationHandler({
    runDir,
    maxFrameBytes: 64 * 1024,
    maxRequestTimeoutMs: 30_000,
    heartbeatIntervalMs: 0,
    log: silent(),
  });
  closers.push(() => hub.closeAll());
  const store = new FakeStore();
  const renewer = new AgentLeaseRenewer({
    registry: server.registry,
    storeAnswers: store.answer,
    intervalMs: RENEW_MS,
    log: server.log,
  });
  closers.push(() => renewer.close());
  const agent = new NodeAgent({
    servers: [server.url],
    credential: TEST_CREDENTIAL,
    identity: TEST_NODE,
    docker: new FakeDockerClient(),
    channels: hub,
    fencing: { leaseMs: LEASE_MS, graceMs: 60_000, stopTimeoutSec: 1 },
    log: silent(),
    minDelayMs: 50,
    maxDelayMs: 200,
  });
  closers.push(() => agent.close());
  const generation = { now: 2 };
  const channelsRoutingBy = (of: { now: number }) => {
    const channels = new RemoteChannels({
      registry: server.registry,
      nodeOf: async () => TEST_NODE.nodeId,
      placementOf: async () => ({ nodeId: TEST_NODE.nodeId, generation: of.now }),
      placementFreshMs: 0,
      maxFrameBytes: 64 * 1024,
      maxRequestTimeoutMs: 30_000,
      log: server.log,
    });
    closers.push(() => channels.closeAll());
    return channels;
  };
  const channels = channelsRoutingBy(generation);
  renewer.start();
  agent.start();
  await expect.poll(() => server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
  await channels.open(ID, OWNER);
  const hello = async () => {
    const said = channels.waitForHello(ID, { fresh: true });
    said.catch(() => undefined); // awaited below, unless the workload cannot connect (then that is the failure)
    const workload = await RawWorkload.hello(socketPathFor(runDir, ID));
    closers.push(() => workload.destroy());
    await said;
    workload.serve((data) => ({ echo: data }));
    return workload;
  };
  return { server, store, agent, channels, channelsRoutingBy, hello, hub, runDir };
}

describe("the agents' leases, renewed by an API server while its store answers (AgentLeaseRenewer)", () => {
  it("keeps an agent's lease held for as long as the store answers", async () => {
    const b = await bed();
    await b.hello();
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 3));
    expect(b.agent.leaseState).toBe("held");
    await expect(b.channels.request(ID, 1)).resolves.toEqual({ echo: 1 });
  });

  it("renews on a slow answer too: only a store that answers nothing for a whole lease fences the agents", async () => {
    const b = await bed();
    await b.hello();
    b.store.slowMs = RENEW_MS * 5; // each answer five renewal intervals late, well inside the lease
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 3));
    expect(b.agent.leaseState).toBe("held");
    await expect(b.channels.request(ID, "still")).resolves.toEqual({ echo: "still" });
  });

  it("stops renewing when its store stops answering: the agent closes its channels; back when the store answers", async () => {
    const b = await bed();
    const workload = await b.hello();
    b.store.hang = true;
    const cut = Date.now();
    await workload.closed;
    // Not before a lease without renewal, nor long after.
    expect(Date.now() - cut).toBeGreaterThanOrEqual(LEASE_MS - RENEW_MS * 2);
    expect(b.agent.leaseState).toBe("lapsed");
    await expect(b.channels.request(ID, "fenced")).rejects.toBeInstanceOf(ChannelNotConnectedError);
    // One question to the store at a time: a hung one is not stacked on.
    expect(b.store.asked).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - cut) / RENEW_MS));
    const stacked = b.store.asked;
    await new Promise((resolve) => setTimeout(resolve, RENEW_MS * 4));
    expect(b.store.asked).toBe(stacked);
    expect(b.server.logs()).toContain("the store does not answer: this server stops renewing");
    b.store.recover();
    await expect.poll(() => b.agent.leaseState).toBe("held");
    // The channel is opened again on the node; the workload reconnects by itself, as after an agent's restart.
    await expect.poll(() => b.hub.openIds).toEqual([ID]);
    await expect
      .poll(() =>
        stat(socketPathFor(b.runDir, ID)).then(
          () => true,
          () => false,
        ),
      )
      .toBe(true);
    await b.hello();
    await expect(b.channels.request(ID, "back")).resolves.toEqual({ echo: "back" });
  });

  it("refuses, at the agent, a call routed by an older placement than the one it was told of", async () => {
    const b = await bed();
    const workload = await b.hello();
    const stale = b.channelsRoutingBy({ now: 1 });
    const refused = stale.request(ID, "from a server that has not heard of the move");
    await expect(refused).rejects.toBeInstanceOf(ChannelNotConnectedError);
    await expect(refused).rejects.toMatchObject({ retryable: true, details: { reason: "stale_placement" } });
    await expect(stale.send(ID, "x")).rejects.toMatchObject({ details: { reason: "stale_placement" } });
    // The workload never saw it; the current placement's server is served.
    await expect(b.channels.request(ID, "now")).resolves.toEqual({ echo: "now" });
    expect(workload.frames).toEqual([]);
  });
});
