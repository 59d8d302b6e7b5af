import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Container, LogLine, ResourceUsageEvent } from "../../packages/client/src/index.ts";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { parseEngineHandle } from "../../src/node-agents/engine-handle.ts";
import { eventually } from "../helpers/deadline.ts";
import { helloThen } from "../helpers/events.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../helpers/postgres-server.ts";
import { type Client, call, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "./testbed/names.ts";
import { Testbed } from "./testbed/testbed.ts";

const AGENT_TOKEN = randomBytes(32).toString("hex");
const CONNECT_WITHIN_MS = 30_000;
/** Samples come from a node's engine and cgroup files through its agent: room for a loaded machine. */
const SAMPLES_WITHIN_MS = 30_000;
const MEMORY_MB = 96;
const SECRET = "telemetry-canary-0123456789";
/** Swarm's failure detection (10–15 s here) and one create on the other worker, with room for a loaded machine. */
const MOVE_WITHIN_MS = 90_000;

/**
 * A workload's resource usage and output in cluster mode, on the test bed:
 * the workload runs on a worker node, its usage is sampled by that node's
 * agent from the node's own cgroup files, and its output is read and followed
 * through that agent — while the client talks to an API server on another
 * host (node 1's manager engine is the API server's only engine).
 */
describe.skipIf(NEEDS_ROOT)("a workload's usage and output on a worker node, through its agent", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let server: TestServer;
  let registry: AgentRegistry;
  let alice: Client;
  let bot: Container;
  /** Swarm node id → the agent serving it. */
  const agents = new Map<string, AgentProcess>();
  /** Swarm node id → test bed node index, for the workers. */
  const workers = new Map<string, number>();

  const agentFor = (nodeId: string) =>
    new AgentProcess(bed.node(workers.get(nodeId)!).node, {
      servers: server.url,
      credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
      mountRoot: AGENT_ROOT,
    });

  beforeAll(async () => {
    bed = await Testbed.up();
    pg = await startPostgresServer();
    db = await pg.freshDatabase();
    server = await startTestServer({
      BERTH_HOST: BRIDGE_ADDRESS,
      BERTH_CLUSTER: "true",
      BERTH_DATABASE_URL: db.url,
      BERTH_AGENT_TOKEN: AGENT_TOKEN,
      BERTH_AGENT_MOUNT_ROOT: AGENT_ROOT,
      BERTH_DOCKER_SOCKET: bed.node(1).node.socketPath,
      // A history that fills within the test's patience.
      BERTH_STATS_HISTORY_INTERVAL_MS: "500",
    });
    registry = server.berth.agents!;
    const nodes = await bed.nodeLs();
    for (const index of [2, 3]) {
      const nodeId = nodes.find((n) => n.hostname === bed.node(index).node.hostname)!.id;
      workers.set(nodeId, index);
      agents.set(nodeId, agentFor(nodeId));
    }
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected", () => registry.agents.length === 2);
    alice = await server.connect("alice");
    bot = await alice.containers.create({
      name: "ticker",
      resources: { memoryMb: MEMORY_MB },
      code: helloThen(
        [
          "console.error('to stderr');",
          "let n = 0;",
          "setInterval(() => console.log('tick ' + n++ + ' ' + process.env.TICK_SECRET), 200);",
        ].join("\n"),
      ),
      secretEnv: { TICK_SECRET: SECRET },
    });
  });

  /**
   * The node the workload runs on, as the store says (its engine handle); undefined for the moment a move
   * makes its new copy (the old handle is let go first).
   */
  async function nodeOfBot(): Promise<string | undefined> {
    return onConnection(db.url, async (client) => {
      const { rows } = await client.query<{ docker_id: string | null }>(
        "SELECT docker_id FROM containers WHERE id = $1",
        [bot.id],
      );
      const dockerId = rows[0]?.docker_id;
      if (dockerId === null || dockerId === undefined) return undefined;
      const handle = parseEngineHandle(dockerId);
      if (!handle) throw new Error(`not an engine handle: ${dockerId}`);
      return handle.nodeId;
    });
  }

  /** Where the workload runs now, when no move is under way. */
  async function nodeOfSettledBot(): Promise<string> {
    const nodeId = await nodeOfBot();
    if (nodeId === undefined) throw new Error(`${bot.id} has no engine copy`);
    return nodeId;
  }

  afterEach((context) => {
    if (context.task.result?.state !== "fail") return;
    const lines = (server?.logs() ?? "")
      .split("\n")
      .filter((line) => /"level":(30|40|50|60)/.test(line) && !line.includes('"event":"container:request"'));
    process.stderr.write(`berth's log up to "${context.task.name}":\n${lines.slice(-300).join("\n")}\n`);
    for (const agent of agents.values())
      process.stderr.write(`agent:\n${agent.lines.slice(-40).join("\n")}\n`);
  });

  afterAll(async () => {
    for (const agent of agents.values()) await agent.kill("SIGKILL");
    await server?.close();
    await db?.drop();
    await pg?.stop();
    await bed?.down();
  });

  /** A sample as a workload of MEMORY_MB that runs a Node.js process shows it. */
  function expectPlausible(usage: Omit<ResourceUsageEvent, "id">): void {
    expect(usage.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(usage.memoryBytes).toBeLessThanOrEqual(MEMORY_MB * 1024 * 1024);
    expect(usage.memoryLimitBytes).toBe(MEMORY_MB * 1024 * 1024);
    expect(usage.pids).toBeGreaterThanOrEqual(1);
    expect(usage.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(usage.ts).toBeGreaterThan(Date.now() - 60_000);
  }

  it("runs the workload on a worker node, not on the API server's", async () => {
    expect(workers.has(await nodeOfSettledBot())).toBe(true);
  });

  it("pushes its resource usage to a watcher over container:watch_stats, sampled on its node", async () => {
    const seen: ResourceUsageEvent[] = [];
    for await (const usage of bot.watchStats({ intervalMs: 250 })) {
      seen.push(usage);
      if (seen.length === 3) break;
    }
    for (const usage of seen) {
      expect(usage.id).toBe(bot.id);
      expectPlausible(usage);
    }
    // Each a new reading, not one answer repeated.
    expect(new Set(seen.map((s) => s.ts)).size).toBe(3);
    // Read from the node's cgroup files by its agent, not through its engine's stats (the fallback).
    const agentLog = [...agents.values()].map((a) => a.output).join("\n");
    expect(agentLog).not.toContain("sampling through the engine");
  });

  it("answers one sample now (container:stats) and keeps a history of its samples", async () => {
    expectPlausible(await bot.stats());
    await eventually(SAMPLES_WITHIN_MS, "a history of a few samples", async () => {
      return (await bot.statsHistory()).samples.length >= 3;
    });
    const { samples, intervalMs } = await bot.statsHistory();
    expect(intervalMs).toBe(500);
    for (const sample of samples) expectPlausible(sample);
  });

  it("includes it in its owner's overview (containers:watch_stats)", async () => {
    let stop = () => {};
    const overview = new Promise<{ samples: ResourceUsageEvent[] }>((resolve) => {
      stop = alice.on("containers:resource_usage", (event) => {
        if (event.samples.some((s) => s.id === bot.id)) resolve(event);
      });
    });
    expect(await call(alice, "containers:watch_stats", { intervalMs: 250 })).toMatchObject({
      ok: true,
      data: { containers: 1 },
    });
    try {
      const { samples } = await overview;
      expectPlausible(samples.find((s) => s.id === bot.id)!);
    } finally {
      stop();
      await call(alice, "containers:unwatch_stats", {});
    }
  });

  it("reads its recent output through its node's agent, by stream, with its secret redacted", async () => {
    await eventually(SAMPLES_WITHIN_MS, "a few ticks written", async () => {
      return (await bot.logs({ tail: 20 })).filter((l) => l.text.startsWith("tick ")).length >= 3;
    });
    const lines = await bot.logs({ tail: 50 });
    expect(lines).toContainEqual({ stream: "stderr", ts: expect.any(Number), text: "to stderr" });
    const ticks = lines.filter((l) => l.stream === "stdout" && l.text.startsWith("tick "));
    expect(ticks[0]?.text).toMatch(/^tick \d+ \[REDACTED\]$/);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
    // The last lines, as asked: no more than the tail.
    expect(await bot.logs({ tail: 2 })).toHaveLength(2);
  });

  it("follows its output as it comes, through its node's agent, with its secret redacted", async () => {
    const got: LogLine[] = [];
    for await (const line of bot.followLogs()) {
      got.push(line);
      if (got.length === 3) break;
    }
    const numbers = got.map((l) => Number(/^tick (\d+) \[REDACTED\]$/.exec(l.text)?.[1]));
    expect(numbers.every((n) => Number.isInteger(n))).toBe(true);
    // New lines, in order.
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(JSON.stringify(got)).not.toContain(SECRET);
  });

  it("samples it again, and reads its output, through the next agent once its node's agent was killed", async () => {
    const nodeId = await nodeOfSettledBot();
    const seen: ResourceUsageEvent[] = [];
    const watch = bot.watchStats({ intervalMs: 250 });
    const watching = (async () => {
      for await (const usage of watch) seen.push(usage);
    })();
    try {
      await eventually(SAMPLES_WITHIN_MS, "samples coming", () => seen.length > 0);
      await agents.get(nodeId)!.kill("SIGKILL");
      await eventually(
        CONNECT_WITHIN_MS,
        "the agent seen gone",
        () => registry.agentFor(nodeId) === undefined,
      );
      await expect(bot.stats()).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE", retryable: true });
      const before = seen.length;
      agents.set(nodeId, agentFor(nodeId));
      // The same watch goes on: its samples come again once the node's next agent is connected.
      await eventually(SAMPLES_WITHIN_MS, "samples through the next agent", () => seen.length >= before + 2);
      expectPlausible(seen.at(-1)!);
      expect((await bot.logs({ tail: 5 })).length).toBeGreaterThan(0);
    } finally {
      await watch.return?.(undefined);
      await watching;
    }
  });

  it("follows its output and watches its usage across a move off a worker whose link is cut, from its new node", async () => {
    const lost = await nodeOfSettledBot();
    const kept = [...workers.keys()].find((n) => n !== lost)!;
    const samples: ResourceUsageEvent[] = [];
    const ticks: number[] = [];
    const watch = bot.watchStats({ intervalMs: 250 });
    const follow = bot.followLogs();
    const watching = (async () => {
      for await (const usage of watch) samples.push(usage);
    })();
    const following = (async () => {
      for await (const line of follow) {
        const n = /^tick (\d+) /.exec(line.text)?.[1];
        if (n !== undefined) ticks.push(Number(n));
      }
    })();
    try {
      await eventually(
        SAMPLES_WITHIN_MS,
        "samples and lines coming",
        () => samples.length > 0 && ticks.length > 0,
      );
      await bed.setLinkDown(workers.get(lost)!);
      try {
        await eventually(MOVE_WITHIN_MS, "moved to the other worker, running", async () => {
          return (await nodeOfBot()) === kept && (await bot.status()).state === "running";
        });
        const movedAt = samples.length;
        // Its new run counts its ticks from 0 again: lines of the copy on its new node.
        await eventually(SAMPLES_WITHIN_MS, "lines of its new run", () =>
          ticks.some((n, i) => i > 0 && n < ticks[i - 1]!),
        );
        await eventually(SAMPLES_WITHIN_MS, "samples from its new node", () => samples.length >= movedAt + 2);
        expectPlausible(samples.at(-1)!);
        expect((await bot.logs({ tail: 5 })).length).toBeGreaterThan(0);
      } finally {
        await bed.setLinkUp(workers.get(lost)!);
      }
    } finally {
      await watch.return?.(undefined);
      await follow.return?.(undefined);
      await Promise.all([watching, following]);
    }
  });
});
