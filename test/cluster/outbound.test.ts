import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import { ownerNetworkName } from "../../src/network/owner-network-spec.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { parseEngineHandle } from "../../src/node-agents/engine-handle.ts";
import { eventually } from "../helpers/deadline.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../helpers/postgres-server.ts";
import { type Client, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { agentRules, iptablesOn } from "./node-firewall.ts";
import { type SwitchHost, startSwitchHost } from "./switch-host.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "./testbed/names.ts";
import { Testbed } from "./testbed/testbed.ts";

const AGENT_TOKEN = randomBytes(32).toString("hex");
const CONNECT_WITHIN_MS = 30_000;
/** Swarm's failure detection (10–15 s here) and one create on the other worker, with room for a loaded machine. */
const MOVE_WITHIN_MS = 90_000;
/** The agents re-check their owner networks this often here (30 s by default): a firewall reload, an unused bridge. */
const RECHECK_MS = 1_000;
/** A test host on the switch, beside the nodes; the agents' policy lets outbound workloads reach it alone. */
const ALLOWED = "10.231.0.60";
/** A manager's Swarm port, listening on every node: reachable from a node, so a refusal is the filter's. */
const SWARM_PORT = 2377;
const PROBE_TIMEOUT_MS = 10_000;

const probeWorkload = readFile(new URL("../fixtures/workloads/probe.js", import.meta.url), "utf8");
const probeCode = async () => ({ files: { "index.js": await probeWorkload } });

interface Probe {
  connected: boolean;
  error?: string;
  ms: number;
}

function connectFrom(bot: Container, host: string, port: number): Promise<Probe> {
  return bot.request<Probe>({ connect: { host, port, timeoutMs: PROBE_TIMEOUT_MS } });
}

/** What the filter's REJECT looks like from inside: refused at once, not a timeout. */
function expectRejectedAtOnce(probe: Probe, what: string): void {
  expect(probe.connected, what).toBe(false);
  expect(["EHOSTUNREACH", "ECONNREFUSED"], what).toContain(probe.error);
  expect(probe.ms, what).toBeLessThan(PROBE_TIMEOUT_MS / 2);
}

/**
 * `network: "outbound"` in cluster mode, on the test bed whose engines keep
 * their firewall rules (each node a network namespace with its own iptables):
 * the owner's bridge and its egress filter are made on the worker the
 * workload is placed on, by that node's agent, before it starts; it reaches
 * what the agents' policy allows and nothing else (other nodes, the API
 * server, its own node); the filter comes back after a firewall reload; a
 * workload moved to the other worker gets both there; a node that cannot
 * filter refuses; and everything is removed at the end.
 */
describe.skipIf(NEEDS_ROOT)("owner networks in cluster mode on the test bed", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let server: TestServer;
  let registry: AgentRegistry;
  let host: SwitchHost;
  let alice: Client;
  let network: string;
  const agents: AgentProcess[] = [];
  /** Swarm node id → test bed node index, for the workers whose agents run. */
  const workers = new Map<string, number>();

  beforeAll(async () => {
    bed = await Testbed.up({ iptables: true });
    host = await startSwitchHost(ALLOWED);
    pg = await startPostgresServer();
    db = await pg.freshDatabase();
    server = await startTestServer({
      BERTH_HOST: BRIDGE_ADDRESS,
      BERTH_CLUSTER: "true",
      BERTH_DATABASE_URL: db.url,
      BERTH_AGENT_TOKEN: AGENT_TOKEN,
      BERTH_AGENT_MOUNT_ROOT: AGENT_ROOT,
      BERTH_DOCKER_SOCKET: bed.node(1).node.socketPath,
      BERTH_ALLOW_NETWORK: "true",
    });
    registry = server.berth.agents!;
    network = ownerNetworkName(server.berth.instanceId, "alice");
    const nodes = await bed.nodeLs();
    for (const index of [2, 3]) {
      const node = bed.node(index).node;
      const nodeId = nodes.find((n) => n.hostname === node.hostname)!.id;
      workers.set(nodeId, index);
      startAgent(nodeId);
    }
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected", () => registry.agents.length === 2);
    alice = await server.connect("alice");
  });

  afterEach((context) => {
    if (context.task.result?.state !== "fail") return;
    const lines = (server?.logs() ?? "").split("\n").filter((line) => /"level":(40|50|60)/.test(line));
    process.stderr.write(`berth's log up to "${context.task.name}":\n${lines.slice(-200).join("\n")}\n`);
    for (const agent of agents) process.stderr.write(`agent:\n${agent.lines.slice(-60).join("\n")}\n`);
  });

  afterAll(async () => {
    for (const agent of agents) await agent.kill("SIGKILL");
    await server?.close();
    await db?.drop();
    await pg?.stop();
    await host?.destroy();
    await bed?.down();
  });

  /**
   * A create, tried again while berth answers DOCKER_UNAVAILABLE (retryable), as a client would: after
   * the link tests the Swarm's managers may be slow to say which nodes are up for a while, and berth
   * places nothing on a stale view.
   */
  async function createWhenPlaceable(
    spec: Parameters<Client["containers"]["create"]>[0],
  ): Promise<Container> {
    let made: Container | undefined;
    await eventually(
      60_000,
      `${spec.name} created`,
      async () => {
        try {
          made = await alice.containers.create(spec);
          return true;
        } catch (err) {
          if ((err as { code?: string }).code === "DOCKER_UNAVAILABLE") return "DOCKER_UNAVAILABLE";
          throw err;
        }
      },
      500,
    );
    return made!;
  }

  /** Starts the agent of a worker (by its Swarm node id) in that node's namespace. */
  function startAgent(nodeId: string): void {
    agents.push(
      new AgentProcess(bed.node(workers.get(nodeId)!).node, {
        servers: server.url,
        credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
        mountRoot: AGENT_ROOT,
        extra: { BERTH_EGRESS_ALLOW: `${ALLOWED}/32`, BERTH_AGENT_EGRESS_RECHECK_MS: String(RECHECK_MS) },
      }),
    );
  }

  /** The test bed node a workload runs on now, and its engine id there. */
  async function whereIs(id: string): Promise<{ index: number; engineId: string; generation: number }> {
    const row = await onConnection(db.url, async (client) => {
      const { rows } = await client.query<{ node_id: string; generation: number; docker_id: string | null }>(
        `SELECT p.node_id, p.generation, c.docker_id FROM placements p JOIN containers c ON c.id = p.container_id
          WHERE p.container_id = $1 AND p.node_id IS NOT NULL`,
        [id],
      );
      return rows[0];
    });
    const handle = row?.docker_id ? parseEngineHandle(row.docker_id) : undefined;
    if (!row || !handle) throw new Error(`${id} runs nowhere now`);
    return { index: workers.get(row.node_id)!, engineId: handle.engineId, generation: row.generation };
  }

  async function networkOn(
    index: number,
  ): Promise<{ labels: Record<string, string>; bridge: string } | undefined> {
    try {
      const n = await bed.node(index).docker.getNetwork(network).inspect();
      return { labels: n.Labels ?? {}, bridge: `br-${String(n.Id).slice(0, 12)}` };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** On its node: on its owner's bridge, which that node's agent made and filters; on no other node. */
  async function expectOnItsOwnersFilteredBridge(bot: Container): Promise<number> {
    const { index, engineId } = await whereIs(bot.id);
    const onNode = await bed.node(index).docker.getContainer(engineId).inspect();
    expect(onNode.HostConfig.NetworkMode).toBe(network);
    expect(onNode.State.Running).toBe(true);
    const made = await networkOn(index);
    expect(made?.labels).toMatchObject({ "berth.owner": "alice", "berth.node-agent": "true" });
    const rules = await agentRules(bed, index);
    expect(rules.filter((r) => r.includes(`-i ${made!.bridge} `))).toHaveLength(2);
    expect(await networkOn(1)).toBeUndefined(); // the manager the API server asks holds none
    return index;
  }

  /** Reaches the allowed host; refused at once the other worker, the API server, its own node. */
  async function expectFilteredEgress(bot: Container, index: number): Promise<void> {
    const other = index === 2 ? 3 : 2;
    const before = host.accepted.length;
    const allowed = await connectFrom(bot, ALLOWED, host.port);
    expect(allowed).toMatchObject({ connected: true });
    // From its node's own address (the engine's NAT): the workload left through its node, filtered there.
    await eventually(5_000, "the test host told of the connection", () => host.accepted.length > before);
    expect(host.accepted.slice(before)).toEqual([bed.node(index).node.address]);
    expectRejectedAtOnce(await connectFrom(bot, bed.node(other).node.address, SWARM_PORT), "another node");
    expectRejectedAtOnce(await connectFrom(bot, bed.node(1).node.address, SWARM_PORT), "the manager");
    const apiPort = Number(new URL(server.url).port);
    expectRejectedAtOnce(await connectFrom(bot, BRIDGE_ADDRESS, apiPort), "the API server");
    expectRejectedAtOnce(await connectFrom(bot, bed.node(index).node.address, SWARM_PORT), "its own node");
  }

  let bot: Container;
  let first: number;

  it("places an outbound workload on a worker, on its owner's bridge there with the node's filter, before it starts", async () => {
    bot = await alice.containers.create({ name: "probe", network: "outbound", code: await probeCode() });
    expect(bot.info.state).toBe("running");
    first = await expectOnItsOwnersFilteredBridge(bot);
  });

  it("reaches what the node's policy allows, and is refused other nodes, the API server and its own node", async () => {
    await expectFilteredEgress(bot, first);
  });

  it("puts the filter back on its own after the node's firewall was reloaded under the running workload", async () => {
    const bridge = (await networkOn(first))!.bridge;
    // What ufw or firewalld do: berth's jumps gone from the node's firewall.
    for (const rule of await agentRules(bed, first)) {
      const [, chain, ...spec] = rule.split(" ");
      await iptablesOn(bed, first, "-D", chain!, ...spec.map((s) => s.replace(/^"|"$/g, "")));
    }
    expect(await agentRules(bed, first)).toEqual([]);
    await eventually(15_000, "the node's agent put its rules back", async () =>
      (await agentRules(bed, first)).some((r) => r.includes(`-i ${bridge} `)),
    );
    expectRejectedAtOnce(
      await connectFrom(bot, BRIDGE_ADDRESS, Number(new URL(server.url).port)),
      "the API server",
    );
  });

  it("moves it off a worker whose link is cut to the other, with its owner's bridge and the filter there", async () => {
    const lost = first;
    const kept = lost === 2 ? 3 : 2;
    await bed.setLinkDown(lost);
    try {
      await eventually(MOVE_WITHIN_MS, "placed again on the other worker, running", async () => {
        const now = await whereIs(bot.id).catch(() => undefined);
        return now?.generation === 2 && (await bot.status()).state === "running";
      });
      await eventually(30_000, "answering again", async () =>
        bot.request({ interfaces: true }, { timeoutMs: 2_000 }).then(
          () => true,
          () => false,
        ),
      );
      expect(await expectOnItsOwnersFilteredBridge(bot)).toBe(kept);
      await expectFilteredEgress(bot, kept);
    } finally {
      await bed.setLinkUp(lost);
    }
    // Back, its stale copy swept: the bridge it left there is removed by that node's agent, rules and all.
    await eventually(
      MOVE_WITHIN_MS,
      "the old node's bridge and rules gone",
      async () => (await networkOn(lost)) === undefined && (await agentRules(bed, lost)).length === 0,
    );
  });

  it("removes the bridge and its rules from the node when the owner's last workload there goes", async () => {
    const { index } = await whereIs(bot.id);
    await bot.delete();
    expect(await networkOn(index)).toBeUndefined();
    expect(await agentRules(bed, index)).toEqual([]);
  });

  it("refuses an outbound workload, making nothing, when the node cannot filter (its engine keeps no DOCKER-USER chain)", async () => {
    for (const index of [2, 3]) {
      await iptablesOn(bed, index, "-D", "FORWARD", "-j", "DOCKER-USER");
      await iptablesOn(bed, index, "-F", "DOCKER-USER");
      await iptablesOn(bed, index, "-X", "DOCKER-USER");
    }
    await expect(
      alice.containers.create({ name: "unfiltered", network: "outbound", code: await probeCode() }),
    ).rejects.toMatchObject({ code: "EGRESS_FILTER_UNAVAILABLE" });
    expect((await alice.containers.list().page()).items).toEqual([]);
    for (const index of [1, 2, 3]) {
      expect(await networkOn(index)).toBeUndefined();
      expect(
        await bed
          .node(index)
          .docker.listContainers({ all: true, filters: { label: ["berth.managed=true"] } }),
      ).toEqual([]);
    }
  });

  it("places outbound workloads only on the worker whose agent said, at its start, that it can filter", async () => {
    // Worker 3's engine chain back (as its engine makes it), worker 2 still without: the agents started
    // again say so in their hellos.
    const able = 3;
    await iptablesOn(bed, able, "-N", "DOCKER-USER");
    await iptablesOn(bed, able, "-A", "DOCKER-USER", "-j", "RETURN");
    await iptablesOn(bed, able, "-I", "FORWARD", "1", "-j", "DOCKER-USER");
    for (const agent of agents.splice(0)) await agent.kill("SIGTERM");
    await eventually(CONNECT_WITHIN_MS, "no agent connected", () => registry.agents.length === 0);
    for (const nodeId of workers.keys()) startAgent(nodeId);
    await eventually(CONNECT_WITHIN_MS, "both agents connected again", () => registry.agents.length === 2);
    for (const [nodeId, index] of workers)
      expect(registry.agentFor(nodeId)?.identity.egressFilter).toBe(index === able);

    // Spread by room, three workloads would not all go to one of two workers: these do, and run filtered.
    const bots: Container[] = [];
    for (const name of ["steered-1", "steered-2", "steered-3"])
      bots.push(await createWhenPlaceable({ name, network: "outbound", code: await probeCode() }));
    for (const steered of bots) {
      expect(steered.info.state).toBe("running");
      expect((await whereIs(steered.id)).index).toBe(able);
    }
    expect(await networkOn(able === 3 ? 2 : 3)).toBeUndefined();
    // A workload without a network goes where there is room: the other worker, which holds none.
    const plain = await createWhenPlaceable({ name: "plain", code: await probeCode() });
    expect((await whereIs(plain.id)).index).not.toBe(able);
    for (const bot of [...bots, plain]) await bot.delete();
  });
});
