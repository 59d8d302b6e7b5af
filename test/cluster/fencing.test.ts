import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { agentRunDir } from "../../src/agent/agent-run-dir.ts";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import { socketPathFor } from "../../src/channel/socket-path.ts";
import type { ChannelCallFailures } from "../../src/node-agents/agent-connection.ts";
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
const MOUNT_ROOT = AGENT_ROOT;
const CONNECT_WITHIN_MS = 30_000;
/** Swarm's failure detection (10–15 s here) and one create on the other worker, with room for a loaded machine. */
const MOVE_WITHIN_MS = 90_000;
/**
 * The agents' lease and fence grace, short for the test: the channels of a cut-off node are closed 3 s
 * after its last renewal, before Swarm calls it down (10–15 s), and its workloads stopped 8 s later.
 */
const LEASE_MS = 3_000;
const GRACE_MS = 8_000;
/** What an API server's own renewal interval may take off a lease counted from the cut (one renewal, 1 s). */
const RENEWAL_MS = 1_000;

/**
 * Fencing on the test bed (docs/cluster.md, "Fencing"): a worker cut off
 * from the API server — and so from the word that PostgreSQL is there —
 * closes its workloads' channels once its lease lapses and stops them after
 * the grace, asked of that node's engine directly, while berth moves the
 * workload to the other worker; and an agent refuses a call stamped with an
 * older generation than it knows.
 */
describe.skipIf(NEEDS_ROOT)("fencing at the node agents, on the test bed", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let server: TestServer;
  let registry: AgentRegistry;
  let alice: Client;
  const agents = new Map<number, AgentProcess>();
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
      BERTH_DOCKER_SOCKET: bed.node(1).node.socketPath,
    });
    registry = server.berth.agents!;
    const nodes = await bed.nodeLs();
    for (const index of [2, 3]) {
      const node = bed.node(index).node;
      const nodeId = nodes.find((n) => n.hostname === node.hostname)!.id;
      workers.set(nodeId, index);
      agents.set(
        index,
        new AgentProcess(node, {
          servers: server.url,
          credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
          mountRoot: MOUNT_ROOT,
          fencing: { leaseMs: LEASE_MS, graceMs: GRACE_MS },
        }),
      );
    }
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected", () => registry.agents.length === 2);
    alice = await server.connect("alice");
  });

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
      const handle = row?.docker_id ? parseEngineHandle(row.docker_id) : undefined;
      if (!row || !handle) return undefined;
      return { nodeId: row.node_id, generation: row.generation, handle };
    });
  }

  /** The engine container `handle` names, asked of node `index`'s own engine (never through berth). */
  function onEngine(index: number, handle: EngineHandle) {
    return bed
      .node(index)
      .docker.getContainer(handle.engineId)
      .inspect()
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode === 404) return undefined;
        throw err;
      });
  }

  /** The agent's log holds `line` (its output comes through a pipe, a moment after the agent wrote it). */
  function saidByAgent(agent: AgentProcess, line: string, withinMs = 5_000): Promise<unknown> {
    return eventually(withinMs, `the agent's log saying "${line}"`, () => agent.output.includes(line));
  }

  afterEach((context) => {
    if (context.task.result?.state !== "fail") return;
    const lines = (server?.logs() ?? "")
      .split("\n")
      .filter((line) => /"level":(30|40|50|60)/.test(line) && !line.includes('"event":"container:request"'));
    process.stderr.write(`berth's log up to "${context.task.name}":\n${lines.slice(-300).join("\n")}\n`);
    for (const [index, agent] of agents)
      process.stderr.write(`agent of node ${index}:\n${agent.lines.slice(-60).join("\n")}\n`);
  });

  afterAll(async () => {
    for (const agent of agents.values()) await agent.kill("SIGKILL");
    await server?.close();
    await db?.drop();
    await pg?.stop();
    await bed?.down();
  });

  it("labels a workload's engine container with its placement's generation", async () => {
    const bot = await alice.containers.create({ name: "echo", code: await echoCode() });
    const where = (await whereIs(bot.id))!;
    expect(where.generation).toBe(1);
    const made = await onEngine(workers.get(where.nodeId)!, where.handle);
    expect(made?.Config.Labels["berth.generation"]).toBe("1");
    expect(await bot.request({ hello: 1 })).toEqual({ hello: 1 });
  });

  it("fences a worker whose link is cut: channel closed after the lease, stale copy stopped after the grace, while the workload answers on the other worker", async () => {
    const bot = await alice.containers.get("echo");
    const before = (await whereIs(bot.id))!;
    const lost = workers.get(before.nodeId)!;
    const kept = lost === 2 ? 3 : 2;
    const agent = agents.get(lost)!;
    const socket = socketPathFor(agentRunDir(bed.node(lost).node.agentDisk), bot.id);
    expect(existsSync(socket)).toBe(true);
    const cutAt = Date.now();
    await bed.setLinkDown(lost);
    try {
      // The lease lapses: the agent closes the workload's channel (its socket goes from the node's disk).
      await eventually(
        LEASE_MS + 10_000,
        "the channel closed on the cut-off node",
        () => !existsSync(socket),
      );
      const closedAfterMs = Date.now() - cutAt;
      expect(closedAfterMs).toBeGreaterThanOrEqual(LEASE_MS - RENEWAL_MS);
      await saidByAgent(agent, "no API server has renewed this agent's lease: fencing its channels");
      // The copy itself runs on until the grace is over.
      expect((await onEngine(lost, before.handle))?.State.Running).toBe(true);

      // After the grace, the stale copy is stopped: asked of that node's engine directly.
      await eventually(GRACE_MS + 20_000, "the stale copy stopped on the cut-off node", async () => {
        const copy = await onEngine(lost, before.handle);
        return copy !== undefined && !copy.State.Running;
      });
      expect(Date.now() - cutAt).toBeGreaterThanOrEqual(LEASE_MS + GRACE_MS - RENEWAL_MS);
      await saidByAgent(agent, "still no renewal after the grace: stopping this node's workloads");

      // Meanwhile berth moved the workload to the other worker, under the next generation; it answers there.
      await eventually(MOVE_WITHIN_MS, "placed again on the other worker, running", async () => {
        const now = await whereIs(bot.id);
        return now?.generation === 2 && (await bot.status()).state === "running";
      });
      await eventually(30_000, "answering on the other worker", async () => {
        const answer = await bot.request({ again: true }, { timeoutMs: 2_000 }).catch(() => undefined);
        return (answer as { again?: boolean } | undefined)?.again === true;
      });
      const after = (await whereIs(bot.id))!;
      expect(workers.get(after.nodeId)).toBe(kept);
      expect((await onEngine(kept, after.handle))?.Config.Labels["berth.generation"]).toBe("2");
    } finally {
      await bed.setLinkUp(lost);
    }

    // Healed: the lease is renewed, and the stopped stale copy is removed; the workload answers from its new node.
    await eventually(
      MOVE_WITHIN_MS,
      "the stale copy removed from the node that was cut off",
      async () => (await onEngine(lost, before.handle)) === undefined,
    );
    await saidByAgent(agent, "lease renewed: serving this node's channels again", CONNECT_WITHIN_MS);
    expect(existsSync(socket)).toBe(false);
    expect(await bot.request({ still: "here" })).toEqual({ still: "here" });
  });

  it("refuses, at the agent, a call stamped with an older generation than the placement it knows", async () => {
    const bot = await alice.containers.get("echo");
    const { nodeId, generation } = (await whereIs(bot.id))!;
    expect(generation).toBe(2);
    const agent = registry.agentFor(nodeId)!;
    const failures: ChannelCallFailures = {
      lost: (reason) => new Error(`lost: ${reason}`),
      timedOut: (ms) => new Error(`no answer in ${ms} ms`),
    };
    // As a server would that has not heard of the move: routed by generation 1.
    await expect(
      agent.channel("request", [bot.id, { stale: true }, 2_000], failures, undefined, 1),
    ).rejects.toMatchObject({
      code: "CHANNEL_NOT_CONNECTED",
      retryable: true,
      details: { reason: "stale_placement" },
    });
    // The current generation's call is served.
    await expect(
      agent.channel("request", [bot.id, { current: true }, 2_000], failures, undefined, 2),
    ).resolves.toEqual({ current: true });
  });

  it("starts again, once PostgreSQL is back, a workload the fence stopped on the node it is still placed on", async () => {
    const bot = await alice.containers.get("echo");
    const before = (await whereIs(bot.id))!;
    const index = workers.get(before.nodeId)!;
    const agent = agents.get(index)!;
    const haltedAt = Date.now();
    // No API server can ask its store now: none renews a lease, and every node fences itself.
    await pg.halt();
    try {
      await eventually(LEASE_MS + GRACE_MS + 30_000, "the workload stopped by its node's fence", async () => {
        const copy = await onEngine(index, before.handle);
        return copy !== undefined && !copy.State.Running;
      });
      expect(Date.now() - haltedAt).toBeGreaterThanOrEqual(LEASE_MS + GRACE_MS - RENEWAL_MS);
    } finally {
      await pg.resume();
    }
    // Renewed again: the server opens the channel of a workload still placed there, and the agent starts
    // the copy it stopped (same copy, same generation: nothing was moved).
    await eventually(60_000, "the same copy running again on its node", async () => {
      const copy = await onEngine(index, before.handle);
      return copy?.State.Running === true;
    });
    await eventually(60_000, "answering again", async () => {
      const answer = await bot.request({ back: true }, { timeoutMs: 2_000 }).catch(() => undefined);
      return (answer as { back?: boolean } | undefined)?.back === true;
    });
    await saidByAgent(
      agent,
      "started again a workload the fence stopped: berth still places it on this node",
    );
    expect(await whereIs(bot.id)).toEqual(before);
  });
});
