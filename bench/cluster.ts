import { randomBytes } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { deriveAgentCredential } from "../src/agent-link/agent-credential.ts";
import { RemoteDockerClient } from "../src/node-agents/remote-docker-client.ts";
import { AgentProcess } from "../test/cluster/agent-process.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "../test/cluster/testbed/names.ts";
import { Testbed } from "../test/cluster/testbed/testbed.ts";
import { onConnection, startPostgresServer } from "../test/helpers/postgres-server.ts";
import { type InProcessBerth, startInProcessBerth } from "./in-process-berth.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { percentile, printTable } from "./stats.ts";

/**
 * Cluster mode beside single-host mode, in the same run, on the multi-node
 * test bed (test/cluster/testbed: three dockerd in network namespaces, one
 * Swarm; root): create until ready, a request's round trip through an API
 * server to a workload on another node, berth's CPU per request on the API
 * server and on the agent (and where a round trip's time goes: the store's
 * read of the container, the channel's request), and the time from a node
 * lost (its link cut) to its workload answering again on another node.
 */
const CREATE_ROUNDS = 10;
const REQUESTS = 2_000;
const BATCH = 100;
const LOSS_ROUNDS = 3;

export async function run(): Promise<void> {
  const bed = await Testbed.up();
  const pg = await startPostgresServer();
  const agents: AgentProcess[] = [];
  let cluster: InProcessBerth | undefined;
  let single: InProcessBerth | undefined;
  let singlePg: InProcessBerth | undefined;
  try {
    const db = await pg.freshDatabase();
    const master = randomBytes(32).toString("hex");
    cluster = await startInProcessBerth({
      BERTH_HOST: BRIDGE_ADDRESS,
      BERTH_CLUSTER: "true",
      BERTH_DATABASE_URL: db.url,
      BERTH_AGENT_TOKEN: master,
      // BENCH_CLUSTER_LANES=false: the agents' channel traffic on their Socket.IO link alone (a before/after).
      BERTH_AGENT_CHANNEL_LANES: process.env.BENCH_CLUSTER_LANES ?? "true",
      BERTH_AGENT_MOUNT_ROOT: AGENT_ROOT,
      BERTH_DOCKER_SOCKET: bed.node(1).node.socketPath,
    });
    single = await startInProcessBerth();
    const nodes = await bed.nodeLs();
    const workers = new Map<string, number>();
    for (const index of [2, 3]) {
      const node = bed.node(index).node;
      const id = nodes.find((n) => n.hostname === node.hostname)!.id;
      workers.set(id, index);
      agents.push(
        new AgentProcess(node, {
          servers: cluster.url,
          credential: deriveAgentCredential(master, id),
          mountRoot: AGENT_ROOT,
        }),
      );
    }
    const registry = cluster.berth.agents!;
    await until(30_000, "both agents connected", () => registry.agents.length === 2);
    await until(30_000, "the cluster's engine up", () => cluster!.berth.engine.status.state === "up");

    // Create until ready, alternating the two modes round by round so both see the same noise.
    const createCluster: number[] = [];
    const createSingle: number[] = [];
    for (let round = 0; round < CREATE_ROUNDS; round++) {
      for (const [b, into] of [
        [cluster, createCluster],
        [single, createSingle],
      ] as const) {
        const t = performance.now();
        const info = await b.ack("container:create", {
          name: `c-${round}`,
          code: { files: { "index.js": b.echo } },
        });
        into.push(performance.now() - t);
        await b.ack("container:delete", { id: info.id });
      }
    }
    printTable("Create until ready (cluster: placed on a worker node, through its agent)", "ms", [
      { what: "create, waitReady", berth: createCluster, baseline: createSingle },
    ]);

    // Request round trips, and the CPU each costs; beside them a third berth, single-host on PostgreSQL
    // (the same server as the cluster's), which waits on the store for each request as the cluster does but
    // has no agent: it tells the store's share of the cluster's round trip from the agent's.
    singlePg = await startInProcessBerth({ BERTH_DATABASE_URL: (await pg.freshDatabase()).url });
    const side = async (b: InProcessBerth): Promise<Side> => {
      const { id } = await b.ack("container:create", { name: "rt", code: { files: { "index.js": b.echo } } });
      return { b, id, rt: [], reads: [], hops: [], cpu: 0 };
    };
    const onCluster = await side(cluster);
    const onSingle = await side(single);
    const onSinglePg = await side(singlePg);
    const sides = [onCluster, onSingle, onSinglePg];
    let agentTicks = 0;
    // The agent of the worker the workload was placed on (agents[0] serves node 2, agents[1] node 3).
    const agentOf = agents[workers.get(await placedOn(db.url, onCluster.id)) === 2 ? 0 : 1];
    const timed = async (into: number[], call: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < BATCH; i++) {
        const t = performance.now();
        await call(i);
        into.push(performance.now() - t);
      }
    };
    for (let done = 0; done < REQUESTS; done += BATCH) {
      for (const at of sides) {
        const { b, id } = at;
        const cpu = process.cpuUsage();
        const ticks = at === onCluster && agentOf?.child.pid ? cpuTicks(agentOf.child.pid) : 0;
        await timed(at.rt, (i) => b.ack("container:request", { id, data: { n: i } }));
        const used = process.cpuUsage(cpu);
        at.cpu += used.user + used.system;
        if (at === onCluster && agentOf?.child.pid) agentTicks += cpuTicks(agentOf.child.pid) - ticks;
        // Its parts alone, in the same batch (this machine's load moves from minute to minute), outside the
        // CPU count: the store's read that finds the container for the client (by id, as `container:request`
        // resolves it), and the channel's request (cluster: API server → agent → workload; else hub → workload).
        await timed(at.reads, () => b.berth.manager.findById(id));
        await timed(at.hops, (i) => b.berth.channel.request(id, { n: i }));
      }
    }
    const micros = (ms: number[]) => ms.map((m) => m * 1000);
    const row = (what: string, of: Side, beside: Side, part: "rt" | "reads" | "hops" = "rt") => ({
      what,
      berth: micros(of[part]),
      baseline: micros(beside[part]),
    });
    printTable("Request round trip (cluster: client → API server → agent on another node → workload)", "µs", [
      row("container:request: cluster ÷ single-host", onCluster, onSingle),
      row("the store's wait: single-host on PostgreSQL ÷ single-host", onSinglePg, onSingle),
      row("the agent's hop: cluster ÷ single-host on PostgreSQL", onCluster, onSinglePg),
      row("alone: the store's read of the container, cluster ÷ single-host", onCluster, onSingle, "reads"),
      row("alone: the channel's request, cluster ÷ single-host", onCluster, onSingle, "hops"),
    ]);
    const per = (side: Side) => (side.cpu / REQUESTS).toFixed(0);
    console.log(
      `\nCPU per request: API server process (berth and this benchmark's client) ${per(onCluster)} µs in cluster mode, ${per(onSingle)} µs single-host (${(onCluster.cpu / onSingle.cpu).toFixed(2)}×), ${per(onSinglePg)} µs single-host on PostgreSQL; the node agent ${(((agentTicks / CLK_TCK) * 1e6) / REQUESTS).toFixed(0)} µs`,
    );

    // A node lost: its link cut, until its workload answers again from the other worker.
    const lossMs: number[] = [];
    // A steady cluster before each round cuts a node: every node ready in Swarm's view (on this shared
    // 2-core machine a burst of load can make Swarm miss a node's heartbeats), and each worker's agent
    // answering this server (a connection that outlived a cut is live again).
    const steady = async () => {
      await bed.waitForNodes((ns) => ns.every((n) => n.status === "ready"), 120_000);
      for (const nodeId of workers.keys()) {
        const engine = new RemoteDockerClient(registry, nodeId);
        await until(120_000, `node ${nodeId}'s agent answering`, () =>
          engine.ping().then(
            () => true,
            () => false,
          ),
        );
      }
      // A manager cut off and back rejoins with the higher Raft term of the elections it held alone, and so
      // unseats the leader (swarmkit's Raft has no pre-vote): the Swarm elects again, then waits for every
      // node. A round starts once one leader has held for 5 s with every node ready (which also lets berth,
      // asking every second, catch up).
      let since = performance.now();
      let leader: string | undefined;
      await until(120_000, "one Raft leader for 5 s, every node ready", async () => {
        const nodes = await bed.nodeLs().catch(() => []);
        const now = nodes.find((n) => n.manager?.leader)?.id;
        if (now === undefined || now !== leader || !nodes.every((n) => n.status === "ready")) {
          leader = now;
          since = performance.now();
        }
        return performance.now() - since >= 5_000;
      });
    };
    for (let round = 0; round < LOSS_ROUNDS; round++) {
      await steady();
      const info = await cluster.ack("container:create", {
        name: `loss-${round}`,
        code: { files: { "index.js": cluster.echo } },
      });
      const lostNodeId = await placedOn(db.url, info.id);
      const lost = workers.get(lostNodeId)!;
      // Whether the node about to be cut leads the Swarm's managers (the test bed's nodes are all managers):
      // losing the Raft leader costs an election before Swarm's failure detection can call it down.
      const leaderAtCut = (await bed.nodeLs()).find((n) => n.manager?.leader)?.id;
      const ledRaft = leaderAtCut === lostNodeId;
      const cutAt = performance.now();
      await bed.setLinkDown(lost);
      const swarm = watchTheLoss(bed, lost, lostNodeId, leaderAtCut, () => placedOn(db.url, info.id), cutAt);
      try {
        await until(120_000, "answering again", async () =>
          cluster!
            .ack("container:request", { id: info.id, data: "again", timeoutMs: 1_000 })
            .then((a) => a === "again")
            .catch(() => false),
        );
        const answeredMs = performance.now() - cutAt;
        lossMs.push(answeredMs);
        const seen = await swarm.stop();
        const at = (ms: number | undefined) =>
          ms === undefined ? "not seen" : `${(ms / 1000).toFixed(1)} s`;
        console.log(
          `  round ${round + 1}: ${(answeredMs / 1000).toFixed(1)} s (the cut node ${ledRaft ? "led" : "did not lead"} the Swarm's managers${seen.electedMs === undefined ? "" : `; a new Raft leader at ${at(seen.electedMs)}`}; Swarm said down at ${at(seen.downMs)}, berth had moved it at ${at(seen.movedMs)})`,
        );
      } finally {
        await swarm.stop();
        await bed.setLinkUp(lost);
      }
      await cluster.ack("container:delete", { id: info.id });
    }
    console.log(
      `\nNode lost → its workload answering again on another node (${LOSS_ROUNDS} rounds): p50 ${(percentile(lossMs, 50) / 1000).toFixed(1)} s, max ${(Math.max(...lossMs) / 1000).toFixed(1)} s`,
    );
  } finally {
    for (const agent of agents) await agent.kill("SIGKILL");
    await cluster?.close().catch((err: unknown) => process.stderr.write(`cluster berth: ${String(err)}\n`));
    await single
      ?.close()
      .catch((err: unknown) => process.stderr.write(`single-host berth: ${String(err)}\n`));
    await singlePg
      ?.close()
      .catch((err: unknown) => process.stderr.write(`single-host berth on PostgreSQL: ${String(err)}\n`));
    await pg.stop();
    // BENCH_TESTBED_LOGS=DIR keeps the nodes' dockerd logs (Swarm's own account of each loss: Raft, dispatcher).
    const keep = process.env.BENCH_TESTBED_LOGS;
    if (keep) {
      await mkdir(keep, { recursive: true });
      for (const e of bed.engines)
        await copyFile(join(e.node.dir, "dockerd.log"), join(keep, `${e.node.hostname}.log`)).catch(() => {});
    }
    await bed.down();
  }
}

/**
 * Swarm's side of a node-loss round, asked of the other managers every 250 ms from the cut (each ask given up
 * after 3 s, as berth's Membership gives one up): when Swarm first said the node was down, when it had elected a
 * Raft leader anew (another manager leads than at the cut, or a node still there is `unknown`: a new leader's
 * dispatcher marks every node so until it hears from it), and when berth had moved the workload (its placement
 * left the lost node). Times in ms after the cut.
 */
function watchTheLoss(
  bed: Testbed,
  lostIndex: number,
  lostNodeId: string,
  leaderAtCut: string | undefined,
  placement: () => Promise<string>,
  cutAt: number,
): { stop(): Promise<{ downMs?: number; electedMs?: number; movedMs?: number }> } {
  const seen: { downMs?: number; electedMs?: number; movedMs?: number } = {};
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const nodes = await Promise.race([
        bed.nodeLs([lostIndex]),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer")), 3_000).unref()),
      ]).catch(() => undefined);
      const ms = performance.now() - cutAt;
      const leads = nodes?.find((n) => n.manager?.leader)?.id;
      const anew =
        (leads !== undefined && leads !== leaderAtCut) ||
        nodes?.some((n) => n.id !== lostNodeId && n.status === "unknown") === true;
      if (anew && seen.electedMs === undefined) seen.electedMs = ms;
      if (seen.downMs === undefined && nodes?.find((n) => n.id === lostNodeId)?.status === "down")
        seen.downMs = ms;
      if (seen.movedMs === undefined && (await placement().catch(() => lostNodeId)) !== lostNodeId)
        seen.movedMs = performance.now() - cutAt;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** One berth of the round-trip comparison: its samples (ms) and the CPU its requests cost this process (µs). */
interface Side {
  b: InProcessBerth;
  id: string;
  rt: number[];
  reads: number[];
  hops: number[];
  cpu: number;
}

/** The node the store (PostgreSQL at `url`) says a workload is placed on. */
async function placedOn(url: string, id: string): Promise<string> {
  const rows = await onConnection(
    url,
    async (c) =>
      (await c.query<{ node_id: string }>("SELECT node_id FROM placements WHERE container_id = $1", [id]))
        .rows,
  );
  const nodeId = rows[0]?.node_id;
  if (!nodeId) throw new Error(`${id} is placed nowhere`);
  return nodeId;
}

async function until(ms: number, what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
