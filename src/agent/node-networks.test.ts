import { PassThrough } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { ownerNetworkName } from "../network/owner-network-spec.ts";
import { FakeIptables } from "../network/testing/fake-iptables.ts";
import {
  AGENT_NETWORK_LABEL,
  NODE_NETWORK_RECHECK_MS,
  NodeNetworks,
  UNUSED_GRACE_INTERVALS,
} from "./node-networks.ts";

const UNUSED_GRACE_MS = UNUSED_GRACE_INTERVALS * NODE_NETWORK_RECHECK_MS;

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const INSTANCE = "c0ffee00c0ffee00";
const ALICE = ownerNetworkName(INSTANCE, "alice");

/** The bridges the node's firewall has berth's jumps for, in its forward and its host hook. */
function hooked(iptables: FakeIptables): { forward: string[]; host: string[] } {
  const bridges = (chain: string) =>
    (iptables.chains.get(chain) ?? [])
      .filter((r) => r.includes("berth:node-agent"))
      .map((r) => r[1] as string);
  return { forward: bridges("DOCKER-USER"), host: bridges("INPUT") };
}

/** What a firewall reload (ufw, firewalld) leaves: the engine's chain, none of berth's rules. */
function reload(iptables: FakeIptables): void {
  iptables.chains.clear();
  iptables.chains.set("INPUT", []);
  iptables.chains.set("DOCKER-USER", [["-j", "RETURN"]]);
}

describe("NodeNetworks: a node's owner networks and their egress filter, kept by its agent", () => {
  let docker: FakeDockerClient;
  let iptables: FakeIptables;
  let now: number;
  let networks: NodeNetworks;

  beforeEach(() => {
    docker = new FakeDockerClient();
    iptables = new FakeIptables();
    now = 1_000_000;
    const firewall = new EgressFirewall({
      iptables,
      policy: egressPolicy([], []),
      instanceId: "node-agent",
      log,
    });
    networks = new NodeNetworks({ docker, firewall, log, now: () => now });
  });

  async function workloadOn(network: string | undefined, owner = "alice"): Promise<string> {
    const body = workloadBody({ owner, instanceId: INSTANCE, networkName: network });
    return docker.createContainer(body);
  }

  it("makes no ensure wait for nothing, and lets no re-check pass under way sweep the rules of a bridge made meanwhile", async () => {
    await networks.ensure(INSTANCE, "bob");
    // A pass that has listed the networks (bob's alone) and waits on the engine for the rest.
    const listNetworks = docker.listNetworks.bind(docker);
    let listed = () => {};
    const held = new Promise<void>((r) => {
      listed = r;
    });
    docker.listNetworks = async () => {
      const names = await listNetworks();
      await held;
      return names;
    };
    const pass = networks.recheck();
    const ensured = networks.ensure(INSTANCE, "alice");
    listed();
    await Promise.all([pass, ensured]);
    const bridge = (await docker.inspectNetwork(ALICE))!.bridge;
    expect(hooked(iptables).forward).toContain(bridge);
    expect(hooked(iptables).host).toContain(bridge);
  });

  it("makes the owner's bridge, named and labelled by the agent itself, with the filter on it before it answers", async () => {
    const { name } = await networks.ensure(INSTANCE, "alice");
    expect(name).toBe(ALICE);
    const made = docker.calls.find((c) => c.method === "ensureNetwork")?.arg;
    expect(made).toEqual({
      name: ALICE,
      labels: {
        "berth.managed": "true",
        "berth.instance": INSTANCE,
        "berth.owner": "alice",
        [AGENT_NETWORK_LABEL]: "true",
      },
      options: { "com.docker.network.bridge.enable_icc": "false" },
    });
    const bridge = (await docker.inspectNetwork(ALICE))!.bridge;
    expect(hooked(iptables)).toEqual({ forward: [bridge], host: [bridge] });
    // Idempotent: a second ensure (every start asks) adds nothing.
    await networks.ensure(INSTANCE, "alice");
    expect(hooked(iptables)).toEqual({ forward: [bridge], host: [bridge] });
  });

  it("refuses as EGRESS_FILTER_UNAVAILABLE, making nothing, on a node that cannot filter", async () => {
    iptables.broken = "iptables: not found";
    await expect(networks.ensure(INSTANCE, "alice")).rejects.toMatchObject({
      code: "EGRESS_FILTER_UNAVAILABLE",
    });
    expect(docker.networks.size).toBe(0);
  });

  it("refuses likewise on a node whose engine keeps no DOCKER-USER chain (its iptables off)", async () => {
    iptables.chains.delete("DOCKER-USER");
    await expect(networks.ensure(INSTANCE, "alice")).rejects.toMatchObject({
      code: "EGRESS_FILTER_UNAVAILABLE",
    });
    expect(docker.networks.size).toBe(0);
  });

  it("keeps a bridge that a container of the node is on, stopped or not, and removes it with its rules once none is", async () => {
    await networks.ensure(INSTANCE, "alice");
    const id = await workloadOn(ALICE);
    expect(await networks.release(INSTANCE, "alice")).toBe(false);
    expect(docker.networks.has(ALICE)).toBe(true);
    expect(hooked(iptables).forward).toHaveLength(1);

    await docker.removeContainer(id);
    expect(await networks.release(INSTANCE, "alice")).toBe(true);
    expect(docker.networks.has(ALICE)).toBe(false);
    expect(hooked(iptables)).toEqual({ forward: [], host: [] });
    // Its chains went too: nothing of berth's is left in the node's firewall.
    expect([...iptables.chains.keys()].sort()).toEqual(["DOCKER-USER", "INPUT"]);
  });

  it("keeps another owner's workloads out of the question: bob's container does not hold alice's bridge", async () => {
    await networks.ensure(INSTANCE, "alice");
    await networks.ensure(INSTANCE, "bob");
    await workloadOn(ownerNetworkName(INSTANCE, "bob"), "bob");
    expect(await networks.release(INSTANCE, "alice")).toBe(true);
    expect(docker.networks.has(ownerNetworkName(INSTANCE, "bob"))).toBe(true);
  });

  it("puts the filter back after a firewall reload flushed it while a workload ran", async () => {
    await networks.ensure(INSTANCE, "alice");
    await workloadOn(ALICE);
    const bridge = (await docker.inspectNetwork(ALICE))!.bridge;
    reload(iptables);
    expect(hooked(iptables)).toEqual({ forward: [], host: [] });
    await networks.recheck();
    expect(hooked(iptables)).toEqual({ forward: [bridge], host: [bridge] });
  });

  it("removes an owner network no container uses only once it was not asked for within the grace", async () => {
    await networks.ensure(INSTANCE, "alice");
    // Between an ensure and the create of its workload: kept.
    now += UNUSED_GRACE_MS - 1;
    await networks.recheck();
    expect(docker.networks.has(ALICE)).toBe(true);
    // Its workload moved off this node long ago (its stale copy swept): it goes, with its rules.
    now += 1;
    await networks.recheck();
    expect(docker.networks.has(ALICE)).toBe(false);
    expect(hooked(iptables)).toEqual({ forward: [], host: [] });
  });

  it("says at start whether the node can filter, and answers it", async () => {
    const lines: string[] = [];
    const out = new PassThrough();
    out.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    const said = createSystemLogger({ level: "info", redactor: new Redactor(), destination: out });
    const firewall = new EgressFirewall({
      iptables,
      policy: egressPolicy([], []),
      instanceId: "node-agent",
      log,
    });
    // The answer goes into the agent's hello: the API servers place outbound workloads by it.
    expect(await new NodeNetworks({ docker, firewall, log: said }).report()).toBe(true);
    iptables.broken = "iptables: not found";
    expect(await new NodeNetworks({ docker, firewall, log: said }).report()).toBe(false);
    expect(lines.join("")).toContain("this node takes outbound workloads");
    expect(lines.join("")).toContain("this node refuses outbound workloads");
  });

  it("touches no firewall on a node that never had an owner network (it may have no iptables at all)", async () => {
    iptables.broken = "iptables: not found";
    await networks.recheck();
    expect(iptables.calls).toEqual([]);
  });

  it("stops its re-check on close, and a pass after close does nothing", async () => {
    networks.start();
    await networks.close();
    await networks.close();
    const calls = docker.calls.length;
    await networks.recheck();
    expect(docker.calls.length).toBe(calls);
  });
});
