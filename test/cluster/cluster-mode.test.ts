import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { type EngineHandle, parseEngineHandle } from "../../src/node-agents/engine-handle.ts";
import { eventually } from "../helpers/deadline.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../helpers/postgres-server.ts";
import { type Client, echoCode, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "./testbed/names.ts";
import { Testbed } from "./testbed/testbed.ts";

const AGENT_TOKEN = randomBytes(32).toString("hex");
/** Every node's agent root: one path, each node's own disk behind it (testbed/names.ts). */
const MOUNT_ROOT = AGENT_ROOT;
const CONNECT_WITHIN_MS = 30_000;
/** Swarm's failure detection (10–15 s here) and one create on the other worker, with room for a loaded machine. */
const MOVE_WITHIN_MS = 90_000;

/**
 * berth in cluster mode, end to end on the test bed: a client creates a
 * workload through an API server whose engine is the Swarm (node 1, a
 * manager, asked only which nodes are up), and berth places it on a worker
 * node whose agent makes its files, its engine container and its channel.
 */
describe.skipIf(NEEDS_ROOT)("berth in cluster mode on the test bed", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let server: TestServer;
  let registry: AgentRegistry;
  let alice: Client;
  const agents: AgentProcess[] = [];
  /** Swarm node id → test bed node index, for the workers whose agents run. */
  const workers = new Map<string, number>();

  beforeAll(async () => {
    bed = await Testbed.up();
    pg = await startPostgresServer();
    db = await pg.freshDatabase();
    server = await startTestServer({
      BERTH_HOST: BRIDGE_ADDRESS,
      BERTH_CLUSTER: "true",
      BERTH_DATABASE_URL: db.url,
      BERTH_AGENT_TOKEN: AGENT_TOKEN,
      BERTH_AGENT_MOUNT_ROOT: MOUNT_ROOT,
      // Node 1's engine: a manager of the Swarm, which berth asks which nodes are up.
      BERTH_DOCKER_SOCKET: bed.node(1).node.socketPath,
    });
    registry = server.berth.agents!;
    for (const index of [2, 3]) {
      const node = bed.node(index).node;
      workers.set((await bed.nodeLs()).find((n) => n.hostname === node.hostname)!.id, index);
      const nodeId = [...workers].find(([, i]) => i === index)![0];
      agents.push(
        new AgentProcess(node, {
          servers: server.url,
          credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
          mountRoot: MOUNT_ROOT,
        }),
      );
    }
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected", () => registry.agents.length === 2);
    alice = await server.connect("alice");
  });

  /** Where the store says a workload runs: its placement, and the handle of its engine container. */
  async function whereIs(
    id: string,
  ): Promise<{ nodeId: string; generation: number; handle: EngineHandle } | undefined> {
    return onConnection(db.url, async (client) => {
      const { rows } = await client.query<{ node_id: string; generation: number; docker_id: string | null }>(
        `SELECT p.node_id, p.generation, c.docker_id FROM placements p JOIN containers c ON c.id = p.container_id
          WHERE p.container_id = $1 AND p.node_id IS NOT NULL`,
        [id],
      );
      const row = rows[0];
      // No engine copy for a moment while a move makes the new one (the old handle is let go first).
      if (!row || row.docker_id === null) return undefined;
      const handle = parseEngineHandle(row.docker_id);
      if (!handle) throw new Error(`not an engine handle: ${row.docker_id}`);
      return { nodeId: row.node_id, generation: row.generation, handle };
    });
  }

  // A failed test says why from berth's own log (all of it: what went wrong may have begun in an earlier
  // test of this file), and from the agents'.
  afterEach((context) => {
    if (context.task.result?.state !== "fail") return;
    const lines = (server?.logs() ?? "")
      .split("\n")
      .filter((line) => /"level":(30|40|50|60)/.test(line) && !line.includes('"event":"container:request"'));
    process.stderr.write(`berth's log up to "${context.task.name}":\n${lines.slice(-300).join("\n")}\n`);
    for (const agent of agents) process.stderr.write(`agent:\n${agent.lines.slice(-40).join("\n")}\n`);
  });

  afterAll(async () => {
    for (const agent of agents) await agent.kill("SIGKILL");
    await server?.close();
    await db?.drop();
    await pg?.stop();
    await bed?.down();
  });

  it("creates a workload on a worker node, ready when its hello came through the node's agent, and answers a request", async () => {
    const bot = await alice.containers.create({ name: "echo", code: await echoCode() });
    expect(bot.info.state).toBe("running");

    // Placed on a worker whose agent runs, under generation 1, and made on that node's engine only.
    const where = (await whereIs(bot.id))!;
    expect(where.generation).toBe(1);
    const index = workers.get(where.nodeId);
    expect(index).toBeDefined();
    const handle = where.handle;
    expect(handle.nodeId).toBe(where.nodeId);
    const onNode = await bed.node(index!).docker.getContainer(handle.engineId).inspect();
    expect(onNode.State.Running).toBe(true);
    expect(onNode.HostConfig.NetworkMode).toBe("none");
    const other = index === 2 ? 3 : 2;
    await expect(bed.node(other).docker.getContainer(handle.engineId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });

    // Client → API server → agent → workload, and back.
    expect(await bot.request({ hello: "from another node" })).toEqual({ hello: "from another node" });
    expect((await bot.status()).channel?.connected).toBe(true);
  });

  it("keeps owners apart: bob neither sees nor reaches alice's workload on the cluster", async () => {
    const bob = await server.connect("bob");
    expect((await bob.containers.list().page()).items).toEqual([]);
    await expect(bob.containers.get("echo")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("rolls back an update that fails on a worker, as on one host, and takes one that works", async () => {
    const bot = await alice.containers.get("echo");
    await expect(bot.update({ files: { "index.js": "throw new Error('boom');" } })).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
      details: { failedStep: "ready", cause: "exited" },
    });
    expect(await bot.request({ after: "rollback" })).toEqual({ after: "rollback" });
    const echo = (await echoCode()).files["index.js"]!;
    await bot.update({ files: { "index.js": `${echo}\n// release 3` } });
    expect(await bot.request({ after: "update" })).toEqual({ after: "update" });
    const releases = await bot.releases();
    expect(releases.map((r) => [r.number, r.status])).toEqual(
      expect.arrayContaining([
        [1, "previous"],
        [2, "failed"],
        [3, "active"],
      ]),
    );
  });

  it("rolls back an update whose health request fails on a worker, as on one host", async () => {
    const bot = await alice.containers.get("echo");
    const echo = (await echoCode()).files["index.js"]!;
    // The new code starts and says hello; the gate's health request is answered with an error.
    await expect(
      bot.update(
        { files: { "index.js": `${echo}\n// release 4` } },
        { healthCheck: { request: { fail: "not healthy" }, timeoutMs: 5_000 } },
      ),
    ).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
      details: { failedStep: "health", cause: "health_error" },
    });
    expect(await bot.request({ after: "health rollback" })).toEqual({ after: "health rollback" });
    const releases = await bot.releases();
    expect(releases.find((r) => r.number === 4)?.status).toBe("failed");
    expect(releases.find((r) => r.number === 3)?.status).toBe("active");
    expect((await bot.status()).state).toBe("running");
  });

  it("keeps a workload running while its node's agent is killed, and reaches it again through the next agent", async () => {
    const bot = await alice.containers.get("echo");
    const { nodeId, handle } = (await whereIs(bot.id))!;
    const index = workers.get(nodeId)!;
    const agent = agents[index - 2]!;
    await agent.kill("SIGKILL");
    await eventually(
      CONNECT_WITHIN_MS,
      "the agent's connection seen ended",
      () => registry.agentFor(nodeId) === undefined,
    );
    await expect(bot.request({ now: "no agent" }, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: expect.stringMatching(/^CHANNEL_/),
    });
    const running = await bed.node(index).docker.getContainer(handle.engineId).inspect();
    expect(running.State.Running).toBe(true);

    agents[index - 2] = new AgentProcess(bed.node(index).node, {
      servers: server.url,
      credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
      mountRoot: MOUNT_ROOT,
    });
    await eventually(CONNECT_WITHIN_MS, "answering through the next agent", async () => {
      const answer = await bot.request({ back: true }, { timeoutMs: 2_000 }).catch(() => undefined);
      return (answer as { back?: boolean } | undefined)?.back === true;
    });
    const after = await bed.node(index).docker.getContainer(handle.engineId).inspect();
    expect(after.State.StartedAt).toBe(running.State.StartedAt); // the same run, never restarted
  });

  it("moves it off a worker whose link is cut: placed on the other worker, its owner told, answering again", async () => {
    const bot = await alice.containers.get("echo");
    const before = (await whereIs(bot.id))!;
    const lost = workers.get(before.nodeId)!;
    const kept = lost === 2 ? 3 : 2;
    const seen: string[] = [];
    alice.on("container:status_changed", (e) => {
      if (e.id === bot.id) seen.push(`${e.from} → ${e.to}: ${e.reason}`);
    });
    const cutAt = Date.now();
    await bed.setLinkDown(lost);
    try {
      // Swarm calls the node down (10–15 s), then the leader of re-placement moves the workload.
      await eventually(MOVE_WITHIN_MS, "placed again on the other worker, running", async () => {
        const now = await whereIs(bot.id);
        return now?.generation === 2 && (await bot.status()).state === "running";
      });
      await eventually(30_000, "answering again", async () => {
        const answer = await bot.request({ again: true }, { timeoutMs: 2_000 }).catch(() => undefined);
        return (answer as { again?: boolean } | undefined)?.again === true;
      });
      const tookMs = Date.now() - cutAt;
      process.stdout.write(
        `cluster: a node lost → its workload answering again on another node in ${tookMs} ms\n`,
      );

      const after = (await whereIs(bot.id))!;
      expect(workers.get(after.nodeId)).toBe(kept);
      const onKept = await bed.node(kept).docker.getContainer(after.handle.engineId).inspect();
      expect(onKept.State.Running).toBe(true);
      expect(seen).toEqual([
        "running → restarting: its node was lost",
        "restarting → running: moved to another node",
      ]);
      const history = await alice.activity.history({ containerId: bot.id });
      expect(history.items.map((e) => e.action)).toEqual(
        expect.arrayContaining(["container.host_lost", "container.moved"]),
      );
      // Its code came from the store to the other worker's own disk.
      expect(existsSync(join(bed.node(kept).node.agentDisk, "data", "code", bot.id, "current"))).toBe(true);
    } finally {
      await bed.setLinkUp(lost);
    }

    // The lost node was cut off, not dead: its copy ran on. Once its agent is back, the copy goes.
    await eventually(MOVE_WITHIN_MS, "the stale copy removed from the node that was cut off", async () =>
      bed
        .node(lost)
        .docker.getContainer(before.handle.engineId)
        .inspect()
        .then(
          () => false,
          (err: { statusCode?: number }) => err.statusCode === 404,
        ),
    );
    // Its channel and files there go right after its engine container (StaleCopies.sweep, in that order).
    await eventually(
      CONNECT_WITHIN_MS,
      "the stale copy's files removed from that node's disk",
      () =>
        !existsSync(join(bed.node(lost).node.agentDisk, "data", "code", bot.id)) &&
        !existsSync(join(bed.node(lost).node.agentDisk, "run", bot.id)),
    );
    // And the workload answers where it runs now, never through its old node.
    expect(await bot.request({ still: "here" })).toEqual({ still: "here" });
    expect((await whereIs(bot.id))?.generation).toBe(2);
  });

  it("stops and deletes it: its engine container gone from its node, its files from the agents' root", async () => {
    const bot = await alice.containers.get("echo");
    const { nodeId, handle } = (await whereIs(bot.id))!;
    const index = workers.get(nodeId)!;
    const disk = bed.node(index).node.agentDisk;
    expect(existsSync(join(disk, "data", "code", bot.id))).toBe(true);
    await bot.stop();
    await bot.delete();
    await expect(bed.node(index).docker.getContainer(handle.engineId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    expect(existsSync(join(disk, "data", "code", bot.id))).toBe(false);
    expect(existsSync(join(disk, "run", bot.id))).toBe(false);
    expect(await whereIs(bot.id)).toBeUndefined();
  });
});
