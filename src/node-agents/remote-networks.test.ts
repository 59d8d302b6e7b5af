import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import { NodeNetworks } from "../agent/node-networks.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFilterUnavailableError } from "../network/egress-filter-unavailable-error.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { ownerNetworkName } from "../network/owner-network-spec.ts";
import { FakeIptables } from "../network/testing/fake-iptables.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { RemoteNetworks } from "./remote-networks.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

const INSTANCE = "c0ffee00c0ffee00";
const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function connected(registry: AgentRegistry): Promise<AgentConnection> {
  return (
    registry.agentFor(TEST_NODE.nodeId) ??
    within(
      15_000,
      "the agent connected",
      new Promise<AgentConnection>((resolve) => registry.once("connected", resolve)),
    )
  );
}

describe("owner networks in cluster mode, made and filtered by their node's agent (RemoteNetworks)", () => {
  let registry: AgentRegistry;
  let engine: FakeDockerClient;
  let iptables: FakeIptables;
  let networks: RemoteNetworks;

  beforeEach(async () => {
    const server = await startAgentsTestServer();
    closers.push(server.close);
    registry = server.registry;
    engine = new FakeDockerClient();
    iptables = new FakeIptables();
    const nodeNetworks = new NodeNetworks({
      docker: engine,
      firewall: new EgressFirewall({ iptables, policy: egressPolicy([], []), instanceId: "node-agent", log }),
      log,
    });
    closers.push(() => nodeNetworks.close());
    const agent = new NodeAgent({
      servers: [server.url],
      credential: TEST_CREDENTIAL,
      identity: TEST_NODE,
      docker: engine,
      networks: nodeNetworks,
      log,
      minDelayMs: 50,
      maxDelayMs: 200,
    });
    agent.start();
    closers.push(() => agent.close());
    networks = new RemoteNetworks({
      registry,
      nodeOf: async () => TEST_NODE.nodeId,
      instanceId: INSTANCE,
      log,
    });
    await connected(registry);
  });

  it("has the node's agent make the owner's bridge, named by the agent, with its filter in place", async () => {
    expect(await networks.ensure(TEST_NODE.nodeId, "alice")).toBe(ownerNetworkName(INSTANCE, "alice"));
    expect(engine.networks.has(ownerNetworkName(INSTANCE, "alice"))).toBe(true);
    expect(iptables.chains.get("DOCKER-USER")?.some((r) => r.includes("berth:node-agent"))).toBe(true);
  });

  it("refuses as EGRESS_FILTER_UNAVAILABLE, rebuilt as itself, when the node cannot filter", async () => {
    iptables.broken = "iptables: not found";
    const refused = await networks.ensure(TEST_NODE.nodeId, "alice").catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(EgressFilterUnavailableError);
    expect(refused).toMatchObject({ code: "EGRESS_FILTER_UNAVAILABLE", details: { field: "network" } });
    expect(engine.networks.size).toBe(0);
  });

  it("fails as retryable DOCKER_UNAVAILABLE for a node without a connected agent", async () => {
    await expect(networks.ensure("othernode000000000000000", "alice")).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
    });
  });

  it("removes the bridge through the agent, and never rejects when the node cannot be reached", async () => {
    await networks.ensure(TEST_NODE.nodeId, "alice");
    await networks.release(TEST_NODE.nodeId, "alice");
    expect(engine.networks.size).toBe(0);
    await expect(networks.release("othernode000000000000000", "alice")).resolves.toBeUndefined();
  });
});
