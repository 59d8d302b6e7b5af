import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AGENT_IMAGE, buildAgentImage } from "../../scripts/agent-image/build-agent-image.ts";
import { CREDENTIAL_IN_CONTAINER } from "../../scripts/agent-image/deploy-agent-service.ts";
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
import { type Client, echoCode, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { agentRules } from "./node-firewall.ts";
import { giveNodeHostFiles, NODE_ENGINE_SOCKET, NODE_ETC } from "./node-host-files.ts";
import { command } from "./testbed/command.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "./testbed/names.ts";
import { RUNTIME_IMAGE, Testbed } from "./testbed/testbed.ts";

const execFileAsync = promisify(execFile);
const AGENT_TOKEN = randomBytes(32).toString("hex");
const SERVICE = "berth-agent";
const DEPLOY = new URL("../../scripts/agent-image/deploy-agent-service.ts", import.meta.url).pathname;
/** Swarm schedules the global service's tasks, each node starts its agent from the loaded image, and it dials. */
const CONNECT_WITHIN_MS = 60_000;
/** Building the image (seconds, or one inspect when it is fresh), the test bed with two images on three engines. */
const SET_UP_MS = 420_000;
const PROBE_TIMEOUT_MS = 10_000;
const probeWorkload = readFile(new URL("../fixtures/workloads/probe.js", import.meta.url), "utf8");

interface SwarmTask {
  ID: string;
  NodeID: string;
  DesiredState: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
}

/**
 * berth's node agents deployed as docker Swarm deploys a service
 * (docs/cluster.md, *Setting a cluster up*): the agent image built offline,
 * loaded on every node, and `npm run agent:deploy` run against node 1 (a
 * manager) — a global service on the nodes labelled berth.agent=true (the
 * workers, 2 and 3), each agent with its own node's engine socket, the
 * agents' root and its node's credential file, bind-mounted from that node.
 * The nodes' engines keep their firewall rules (as outbound.test.ts has
 * them), so that the agents, with the iptables their image carries, filter
 * outbound workloads there.
 */
describe.skipIf(NEEDS_ROOT)("the node agents as a Swarm global service", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let server: TestServer;
  let registry: AgentRegistry;
  let alice: Client;
  /** Swarm node id → test bed node index, for the workers (labelled berth.agent=true). */
  const workers = new Map<string, number>();
  const credentials: string[] = [];

  const manager = () => bed.node(1);
  const dockerOnManager = (...args: string[]) =>
    command("docker", ["-H", `unix://${manager().node.socketPath}`, ...args]);
  const tasks = async (): Promise<SwarmTask[]> =>
    (await manager().docker.listTasks({ filters: { service: [SERVICE] } })) as SwarmTask[];
  const runningTaskOn = async (nodeId: string): Promise<SwarmTask | undefined> =>
    (await tasks()).find((t) => t.NodeID === nodeId && t.Status.State === "running");

  beforeAll(async () => {
    // Built into the machine's engine (skipped when it holds this build), from which the test bed loads it.
    await buildAgentImage();
    bed = await Testbed.up({ images: [RUNTIME_IMAGE, AGENT_IMAGE], iptables: true });
    pg = await startPostgresServer();
    db = await pg.freshDatabase();
    server = await startTestServer({
      BERTH_HOST: BRIDGE_ADDRESS,
      BERTH_CLUSTER: "true",
      BERTH_DATABASE_URL: db.url,
      BERTH_AGENT_TOKEN: AGENT_TOKEN,
      BERTH_AGENT_MOUNT_ROOT: AGENT_ROOT,
      BERTH_DOCKER_SOCKET: manager().node.socketPath,
      BERTH_ALLOW_NETWORK: "true",
    });
    registry = server.berth.agents!;
    const nodes = await bed.nodeLs();
    for (const index of [2, 3]) {
      const node = bed.node(index).node;
      const nodeId = nodes.find((n) => n.hostname === node.hostname)!.id;
      workers.set(nodeId, index);
      // As `npm run agent:credential -- NODE_ID` on an API server's host, written on the node's own disk.
      const credential = deriveAgentCredential(AGENT_TOKEN, nodeId);
      credentials.push(credential);
      await giveNodeHostFiles(node, { "agent-credential": `${credential}\n` });
      await dockerOnManager("node", "update", "--label-add", "berth.agent=true", nodeId);
    }
    await execFileAsync(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        DEPLOY,
        `--servers=${server.url}`,
        `--mount-root=${AGENT_ROOT}`,
        `--credential-file=${join(NODE_ETC, "agent-credential")}`,
        `--engine-socket=${NODE_ENGINE_SOCKET}`,
        // The test bed's bridge is a network of the test's own.
        "--allow-http",
        "--log-level=debug",
      ],
      { env: { PATH: process.env.PATH ?? "", DOCKER_HOST: `unix://${manager().node.socketPath}` } },
    );
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected", () => registry.agents.length === 2);
    alice = await server.connect("alice");
  }, SET_UP_MS);

  afterEach(async (context) => {
    if (context.task.result?.state !== "fail" || !bed) return;
    const lines = (server?.logs() ?? "").split("\n").filter((line) => /"level":(40|50|60)/.test(line));
    process.stderr.write(`berth's log up to "${context.task.name}":\n${lines.slice(-100).join("\n")}\n`);
    const ps = await dockerOnManager("service", "ps", "--no-trunc", SERVICE).catch(
      (err: Error) => err.message,
    );
    process.stderr.write(`docker service ps ${SERVICE}:\n${ps}\n`);
  });

  afterAll(async () => {
    await dockerOnManager("service", "rm", SERVICE).catch(() => {});
    await server?.close();
    await db?.drop();
    await pg?.stop();
    await bed?.down();
  });

  it("runs one agent on each labelled node, from the agent image, each saying its own Swarm node id", async () => {
    expect(registry.agents.map((a) => a.nodeId).sort()).toEqual([...workers.keys()].sort());
    for (const [nodeId, index] of workers) {
      const task = await runningTaskOn(nodeId);
      expect(task).toBeDefined();
      const container = await bed
        .node(index)
        .docker.getContainer(task!.Status.ContainerStatus!.ContainerID!)
        .inspect();
      expect(container.Config.Image).toBe(AGENT_IMAGE);
      // Hardened as far as an agent can be: read-only root, root's powers over files alone, the node's network.
      expect(container.HostConfig.ReadonlyRootfs).toBe(true);
      expect(container.HostConfig.CapDrop).toEqual(["ALL"]);
      // …and over the node's firewall, for the egress filter (the test bed's iptables is nf_tables).
      expect(container.HostConfig.CapAdd).toContain("CAP_NET_ADMIN");
      expect(container.HostConfig.NetworkMode).toBe("host");
      const credentialMount = container.Mounts.find((m) => m.Destination === CREDENTIAL_IN_CONTAINER);
      expect(credentialMount).toMatchObject({ Type: "bind", RW: false });
      const log = await command("docker", [
        "-H",
        `unix://${bed.node(index).node.socketPath}`,
        "logs",
        container.Id,
      ]);
      expect(log).toContain(`"node":"${nodeId}"`);
      expect(log).toContain("node agent starting");
      expect(log).toContain("egress filter available");
      // …and says so in its hello, by which the API servers place outbound workloads.
      expect(registry.agentFor(nodeId)?.identity.egressFilter).toBe(true);
    }
    // Node 1 carries no label: no agent there.
    expect((await tasks()).filter((t) => !workers.has(t.NodeID))).toEqual([]);
  });

  it("keeps every credential out of the service's spec and its containers' configuration", async () => {
    const service = await manager().docker.getService(SERVICE).inspect();
    const spec = JSON.stringify(service);
    for (const secret of [AGENT_TOKEN, ...credentials]) expect(spec).not.toContain(secret);
    const container = service.Spec.TaskTemplate.ContainerSpec;
    expect(container.Secrets ?? []).toEqual([]);
    const env = (container.Env ?? []) as string[];
    expect(env).toContain(`BERTH_AGENT_CREDENTIAL_FILE=${CREDENTIAL_IN_CONTAINER}`);
    expect(env.filter((e) => /^BERTH_AGENT_(CREDENTIAL|TOKEN)=/.test(e))).toEqual([]);
    for (const [, index] of workers) {
      const onNode = await bed.node(index).docker.listContainers({
        filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] },
      });
      for (const c of onNode) {
        const config = JSON.stringify(await bed.node(index).docker.getContainer(c.Id).inspect());
        for (const secret of [AGENT_TOKEN, ...credentials]) expect(config).not.toContain(secret);
      }
    }
  });

  it("places a workload on a worker, made there by that node's agent, answering a request, before and after an update", async () => {
    const bot = await alice.containers.create({ name: "echo", code: await echoCode() });
    expect(bot.info.state).toBe("running");
    const { nodeId, engineId } = await whereIs(bot.id);
    const index = workers.get(nodeId);
    expect(index).toBeDefined();
    const onNode = await bed.node(index!).docker.getContainer(engineId).inspect();
    expect(onNode.State.Running).toBe(true);
    expect(onNode.HostConfig.NetworkMode).toBe("none");
    // Client → API server → the agent in its service task → the workload's socket under the agents' root, and back.
    expect(await bot.request({ through: "the agent's service" })).toEqual({ through: "the agent's service" });
    // A new release written on the node's disk by the agent in its container (read-only root, root's file powers only).
    const echo = (await echoCode()).files["index.js"]!;
    await bot.update({ files: { "index.js": `${echo}\n// release 2` } });
    expect(await bot.request({ after: "update" })).toEqual({ after: "update" });
    // Its usage, sampled by the agent in its service task: no host pid namespace there, so through the
    // engine's stats (docs/cluster.md says so).
    const usage = await bot.stats();
    expect(usage.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(usage.memoryLimitBytes).toBeGreaterThan(usage.memoryBytes);
  });

  it("has Swarm start the agent again when it dies, and the workload runs on and answers through the new one", async () => {
    const bot = await alice.containers.get("echo");
    const { nodeId, engineId } = await whereIs(bot.id);
    const index = workers.get(nodeId)!;
    const before = await bed.node(index).docker.getContainer(engineId).inspect();
    const task = (await runningTaskOn(nodeId))!;
    await bed.node(index).docker.getContainer(task.Status.ContainerStatus!.ContainerID!).kill();

    await eventually(CONNECT_WITHIN_MS, "a new task of the service running on that node", async () => {
      const now = await runningTaskOn(nodeId);
      return now !== undefined && now.ID !== task.ID;
    });
    await eventually(CONNECT_WITHIN_MS, "answering through the new agent", async () => {
      const answer = await bot.request({ back: true }, { timeoutMs: 2_000 }).catch(() => undefined);
      return (answer as { back?: boolean } | undefined)?.back === true;
    });
    const after = await bed.node(index).docker.getContainer(engineId).inspect();
    expect(after.State.StartedAt).toBe(before.State.StartedAt); // the same run, never restarted
  });

  it("stops and deletes the workload through its node's agent", async () => {
    const bot = await alice.containers.get("echo");
    const { nodeId, engineId } = await whereIs(bot.id);
    await bot.stop();
    await bot.delete();
    await expect(
      bed.node(workers.get(nodeId)!).docker.getContainer(engineId).inspect(),
    ).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("places an outbound workload on a worker, on its owner's bridge there, filtered by the agent in its service task", async () => {
    const probe = await alice.containers.create({
      name: "probe",
      network: "outbound",
      code: { files: { "index.js": await probeWorkload } },
    });
    expect(probe.info.state).toBe("running");
    const { nodeId, engineId } = await whereIs(probe.id);
    const index = workers.get(nodeId)!;
    const network = ownerNetworkName(server.berth.instanceId, "alice");
    const onNode = await bed.node(index).docker.getContainer(engineId).inspect();
    expect(onNode.HostConfig.NetworkMode).toBe(network);
    const made = await bed.node(index).docker.getNetwork(network).inspect();
    expect(made.Labels).toMatchObject({ "berth.owner": "alice", "berth.node-agent": "true" });
    const bridge = `br-${String(made.Id).slice(0, 12)}`;
    // The agent's two jumps for that bridge, from DOCKER-USER and INPUT, in its node's firewall.
    expect((await agentRules(bed, index)).filter((r) => r.includes(`-i ${bridge} `))).toHaveLength(2);
    // And they hold: the API server, a private address, is refused at once, not reached.
    const apiPort = Number(new URL(server.url).port);
    const tried = await probe.request<{ connected: boolean; error?: string; ms: number }>({
      connect: { host: BRIDGE_ADDRESS, port: apiPort, timeoutMs: PROBE_TIMEOUT_MS },
    });
    expect(tried.connected).toBe(false);
    expect(["EHOSTUNREACH", "ECONNREFUSED"]).toContain(tried.error);
    expect(tried.ms).toBeLessThan(PROBE_TIMEOUT_MS / 2);

    await probe.delete();
    await expect(bed.node(index).docker.getNetwork(network).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    expect(await agentRules(bed, index)).toEqual([]);
  });

  it("keeps a paused node's agent, while draining a node stops its agent (so docs/cluster.md says pause)", async () => {
    const [[pausedId], [drainedId]] = [...workers] as [[string, number], [string, number]];
    const pausedTask = (await runningTaskOn(pausedId))!;
    await dockerOnManager("node", "update", "--availability", "pause", pausedId);
    await dockerOnManager("node", "update", "--availability", "drain", drainedId);
    try {
      // Swarm shuts a global service's task down on a drained node: that node's workloads would lose their agent.
      await eventually(
        CONNECT_WITHIN_MS,
        "the drained node's agent gone",
        () => !registry.agentFor(drainedId),
      );
      // By then both updates were taken; the paused node's agent is the same task, still connected.
      expect((await runningTaskOn(pausedId))?.ID).toBe(pausedTask.ID);
      expect(registry.agentFor(pausedId)).toBeDefined();
    } finally {
      for (const id of [pausedId, drainedId])
        await dockerOnManager("node", "update", "--availability", "active", id);
    }
    await eventually(CONNECT_WITHIN_MS, "the drained node's agent back", () => registry.agents.length === 2);
  });

  it("takes every agent away with the service: no agent container on any node, none connected", async () => {
    await dockerOnManager("service", "rm", SERVICE);
    await eventually(CONNECT_WITHIN_MS, "no agent connected", () => registry.agents.length === 0);
    await eventually(CONNECT_WITHIN_MS, "no agent container left on any node", async () => {
      for (const engine of bed.engines) {
        const left = await engine.docker.listContainers({
          all: true,
          filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] },
        });
        if (left.length > 0) return false;
      }
      return true;
    });
  });

  /** Where the store says a workload runs: its placement's node, and its engine container there. */
  async function whereIs(id: string): Promise<{ nodeId: string; engineId: string }> {
    const dockerId = await onConnection(db.url, async (client) => {
      const { rows } = await client.query<{ docker_id: string }>(
        "SELECT docker_id FROM containers WHERE id = $1",
        [id],
      );
      return rows[0]?.docker_id;
    });
    const handle = dockerId ? parseEngineHandle(dockerId) : undefined;
    if (!handle) throw new Error(`${id} has no engine handle: ${dockerId}`);
    return { nodeId: handle.nodeId, engineId: handle.engineId };
  }
});
