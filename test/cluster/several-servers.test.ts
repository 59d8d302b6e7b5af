import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { parseEngineHandle } from "../../src/node-agents/engine-handle.ts";
import { type BerthProcess, spawnBerth } from "../helpers/berth-process.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { helloThen, nextStatus } from "../helpers/events.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../helpers/postgres-server.ts";
import { type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { startTcpBalancer, type TcpBalancer } from "../helpers/tcp-balancer.ts";
import {
  type Client,
  call,
  echoCode,
  ok,
  type RawClient,
  startTestServer,
  type TestServer,
  TOKENS,
} from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "./testbed/names.ts";
import { Testbed } from "./testbed/testbed.ts";

const AGENT_TOKEN = randomBytes(32).toString("hex");
const CONNECT_WITHIN_MS = 30_000;

/**
 * Two berth API servers on one cluster — one PostgreSQL, one Redis, the
 * test bed's Swarm, an agent on each worker dialling both — as issue 16's
 * operators run them behind a TCP load balancer: either serves any client
 * and any workload, a container's operations go one server at a time, and
 * a server killed, Redis restarted or PostgreSQL restarted loses no client
 * session and no workload. Server one runs in this process; server two is a
 * process of its own, killed by the last test.
 */
describe.skipIf(NEEDS_ROOT)("several API servers on one cluster", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let redis: RedisServer;
  let one: TestServer;
  let two: BerthProcess;
  let twoUrl: string;
  let twoDataDir: string;
  let registry: AgentRegistry;
  const agents: AgentProcess[] = [];
  const opened: RawClient[] = [];

  beforeAll(async () => {
    bed = await Testbed.up();
    pg = await startPostgresServer();
    db = await pg.freshDatabase();
    redis = await startRedisServer();
    const cluster = {
      BERTH_HOST: BRIDGE_ADDRESS,
      BERTH_CLUSTER: "true",
      BERTH_DATABASE_URL: db.url,
      BERTH_REDIS_URL: redis.url,
      BERTH_AGENT_TOKEN: AGENT_TOKEN,
      BERTH_AGENT_MOUNT_ROOT: AGENT_ROOT,
      // Node 1's engine: a manager of the Swarm, asked only which nodes are up.
      BERTH_DOCKER_SOCKET: bed.node(1).node.socketPath,
    };
    // Its own pass over every row every 3 s once it leads (a minute by default): what a killed server left
    // is finished within the test's patience.
    one = await startTestServer(cluster, { stewardPassMs: 3_000 });
    registry = one.berth.agents!;
    twoDataDir = await mkdtemp(join(tmpdir(), "bt-two-"));
    two = await spawnBerth({
      ...cluster,
      BERTH_DATA_DIR: twoDataDir,
      BERTH_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
      BERTH_ADMIN_TOKEN: TOKENS.admin,
    });
    twoUrl = `http://${BRIDGE_ADDRESS}:${two.port}`;
    const nodes = await bed.nodeLs();
    for (const index of [2, 3]) {
      const node = bed.node(index).node;
      const nodeId = nodes.find((n) => n.hostname === node.hostname)!.id;
      indexOf.set(nodeId, index);
      agents.push(
        new AgentProcess(node, {
          servers: `${one.url},${twoUrl}`,
          credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
          mountRoot: AGENT_ROOT,
        }),
      );
    }
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected to server one", () => {
      return registry.agents.length === 2;
    });
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected to server two", () => {
      return two.lines.filter((l) => l.includes('"node agent connected"')).length >= 2;
    });
  });

  afterEach((context) => {
    if (context.task.result?.state !== "fail") return;
    const important = (text: string[]) => text.filter((l) => /"level":(40|50|60)/.test(l)).slice(-150);
    process.stderr.write(`server one:\n${important((one?.logs() ?? "").split("\n")).join("\n")}\n`);
    process.stderr.write(`server two:\n${important(two?.lines ?? []).join("\n")}\n`);
    for (const agent of agents) process.stderr.write(`agent:\n${agent.lines.slice(-40).join("\n")}\n`);
  });

  afterAll(async () => {
    for (const client of opened) client.disconnect();
    for (const agent of agents) await agent.kill("SIGKILL");
    await two?.kill("SIGTERM");
    await one?.close();
    if (twoDataDir) await rm(twoDataDir, { recursive: true, force: true });
    await redis?.close();
    await db?.drop();
    await pg?.stop();
    await bed?.down();
  });

  /** alice on server two, reconnecting by herself, quickly, as an application behind a balancer would. */
  function rawClient(url: string): Promise<RawClient> {
    const client: RawClient = io(url, {
      auth: { token: TOKENS.alice },
      transports: ["websocket"],
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    opened.push(client);
    return within(
      10_000,
      `alice's connection to ${url}`,
      new Promise((r) => client.once("connect", () => r(client))),
    );
  }

  let alice: Client;
  let made: { id: string };
  /** Swarm node id → test bed node index. */
  const indexOf = new Map<string, number>();

  /** The node a workload runs on (its test bed index) and its engine container there, as the store says. */
  async function whereIs(id: string): Promise<{ index: number; engineId: string }> {
    const row = await onConnection(db.url, async (client) => {
      const { rows } = await client.query<{ docker_id: string }>(
        "SELECT docker_id FROM containers WHERE id = $1",
        [id],
      );
      return rows[0];
    });
    const handle = parseEngineHandle(row?.docker_id ?? "");
    if (!handle) throw new Error(`no engine handle for ${id}`);
    return { index: indexOf.get(handle.nodeId)!, engineId: handle.engineId };
  }

  /** Which servers say they lead the cluster now (the last of their "leading"/"no longer leading" lines). */
  function leaders(): string[] {
    const leads = (lines: string[]) =>
      lines
        .filter((l) => l.includes("leading the cluster"))
        .at(-1)
        ?.includes('"leading the cluster:') === true;
    return [
      ...(leads(one.logs().split("\n")) ? ["one"] : []),
      ...(leads(two.lines) && two.child.exitCode === null && two.child.signalCode === null ? ["two"] : []),
    ];
  }

  it("share one instance id, and each serves a workload the other made, its pushes reaching both servers' clients", async () => {
    const instance = (lines: string[]) =>
      lines
        .filter((l) => l.includes('"berth is listening"'))
        .map((l) => (JSON.parse(l) as { instance: string }).instance)[0];
    expect(instance(two.lines)).toBe(one.berth.instanceId);

    alice = await one.connect("alice");
    const onTwo = await rawClient(twoUrl);
    const pushedToTwo = nextStatus(onTwo, (e) => e.name === "shared" && e.to === "running");
    const bot = await alice.containers.create({
      name: "shared",
      code: await echoCode(),
      restartPolicy: "on-failure",
    });
    made = { id: bot.id };
    await within(10_000, "server one's push reaching alice on server two", pushedToTwo);

    // A request through server two, to the workload server one made: server two's own link to the agent.
    const answer = await ok(onTwo, "container:request", { id: bot.id, data: { via: "two" } });
    expect(answer).toEqual({ via: "two" });
    // Neither server takes the other's workload for a stranger's: nothing marked missing, nothing removed.
    expect((await bot.status()).state).toBe("running");
    expect(two.lines.some((l) => l.includes("removing engine container that no row knows"))).toBe(false);
  });

  it("runs one container's operations one server at a time: two restarts at once through two servers both finish", async () => {
    const onTwo = await rawClient(twoUrl);
    const bot = await alice.containers.get(made.id);
    const seen: string[] = [];
    alice.on("container:status_changed", (e) => {
      if (e.id === made.id) seen.push(`${e.from} → ${e.to}`);
    });
    const [first, second] = await Promise.all([
      bot.restart(),
      ok(onTwo, "container:restart", { id: made.id }),
    ]);
    expect(first.state).toBe("running");
    expect(second.state).toBe("running");
    // One after the other, never interleaved: each restart goes from running and back before the next.
    await eventually(
      10_000,
      "both restarts' pushes",
      () => seen.filter((t) => t.endsWith("→ running")).length >= 2,
    );
    const restarts = seen.join(", ");
    expect(seen.filter((t) => t === "running → restarting")).toHaveLength(2);
    expect(restarts).not.toMatch(/restarting, [^,]*→ restarting/);
    expect(await bot.request({ after: "both restarts" })).toEqual({ after: "both restarts" });
  });

  it("fails operations and requests as retryable while PostgreSQL is down, and serves both again once it is back", async () => {
    const bot = await alice.containers.get(made.id);
    await pg.halt();
    try {
      const refused = (promise: Promise<unknown>) =>
        promise.then(
          () => undefined,
          (err: { code?: string; retryable?: boolean; message?: string }) => err,
        );
      // Who owns the workload is the store's word: without it, berth neither acts nor forwards.
      expect(await refused(bot.stop())).toMatchObject({
        code: "STORAGE_ERROR",
        retryable: true,
        message: "berth could not read or write its database.",
      });
      expect(await refused(bot.request({ while: "postgres is down" }))).toMatchObject({
        code: "STORAGE_ERROR",
        retryable: true,
      });
    } finally {
      await pg.resume();
    }
    const resumedAt = Date.now();
    await eventually(60_000, "a restart through server one once PostgreSQL is back", async () =>
      bot.restart().then(
        (info) => info.state === "running",
        () => false,
      ),
    );
    const onTwo = await rawClient(twoUrl);
    await eventually(30_000, "a request through server two once PostgreSQL is back", async () =>
      ok(onTwo, "container:request", { id: made.id, data: { after: "postgres" } }).then(
        (answer) => JSON.stringify(answer) === JSON.stringify({ after: "postgres" }),
        () => false,
      ),
    );
    // The lead of re-placement is held again, by one server: PostgreSQL freed it with every session.
    await eventually(30_000, "a leader again", () =>
      [one.logs().split("\n"), two.lines].some((lines) =>
        lines.some((l) => l.includes('"elected leader"') && Number(JSON.parse(l).time) > resumedAt),
      ),
    );
  });

  it("fans pushes out again once Redis is back", async () => {
    const onTwo = await rawClient(twoUrl);
    const bot = await alice.containers.get(made.id);
    await redis.stop();
    try {
      await eventually(
        15_000,
        "both servers saying Redis is unreachable",
        () =>
          one.logs().includes("Redis unreachable") && two.lines.some((l) => l.includes("Redis unreachable")),
      );
    } finally {
      await redis.start();
    }
    await eventually(
      15_000,
      "both servers saying Redis is back",
      () => one.logs().includes("Redis is back") && two.lines.some((l) => l.includes("Redis is back")),
    );
    // A status change made through server one reaches alice on server two: fan-out resumed.
    await eventually(30_000, "a stop's push from server one reaching server two's client", async () => {
      const seen = nextStatus(onTwo, (e) => e.id === made.id && e.to === "stopped");
      await bot.stop();
      const got = await within(3_000, "the push", seen).then(
        () => true,
        () => false,
      );
      await bot.start();
      return got;
    });
  });

  it("answers a workload's exit once, on the leading server: one restart, one feed entry, each push once to every client", async () => {
    await eventually(30_000, "one server leading the cluster", () => leaders().length === 1);
    const onTwo = await rawClient(twoUrl);
    const bot = await alice.containers.get(made.id);
    const before = await bot.status();
    expect(before.state).toBe("running");
    const seenOnOne: string[] = [];
    const seenOnTwo: string[] = [];
    alice.on("container:status_changed", (e) => {
      if (e.id === made.id) seenOnOne.push(`${e.from} → ${e.to}`);
    });
    onTwo.on("container:status_changed", (e) => {
      if (e.id === made.id) seenOnTwo.push(`${e.from} → ${e.to}`);
    });
    const killedAt = Date.now();
    const { index, engineId } = await whereIs(made.id);
    // Killed by its node's engine, not through berth: only the engine's events tell.
    await bed.node(index).docker.getContainer(engineId).kill();
    await eventually(60_000, "restarted by its policy", async () => {
      const now = await bot.status();
      return now.state === "running" && now.restartCount === before.restartCount + 1;
    });
    // Pushes through Redis may trail the answer a moment.
    await eventually(10_000, "both clients told of the exit and the restart", () =>
      [seenOnOne, seenOnTwo].every(
        (seen) => seen.includes("running → exited") && seen.at(-1)?.endsWith("→ running"),
      ),
    );
    for (const seen of [seenOnOne, seenOnTwo]) {
      expect(seen.filter((s) => s === "running → exited")).toHaveLength(1);
    }
    const history = await alice.activity.history({ containerId: made.id });
    const exits = history.items.filter((e) => e.action === "container.crash_restarted" && e.ts >= killedAt);
    expect(exits).toHaveLength(1);
    expect((await bot.status()).restartCount).toBe(before.restartCount + 1);
  });

  it("lets a client whose server is killed reconnect to the other and recover its session; the leader finishes the stop it cut", async () => {
    let balancer: TcpBalancer | undefined;
    try {
      balancer = await startTcpBalancer([two.port], BRIDGE_ADDRESS);
      const client = await rawClient(balancer.url);
      const first = nextStatus(client, (e) => e.id === made.id && e.to === "stopped");
      const bot = await alice.containers.get(made.id);
      await bot.stop();
      await within(15_000, "the push that gives alice an offset", first);
      const sessionId = client.id;

      // A workload that ignores SIGTERM, stopped through server two with a minute's grace: server two is
      // killed in the midst of that stop, its row left \`stopping\` and its lock gone with its session.
      const stubborn = await alice.containers.create({
        name: "stubborn",
        code: helloThen('process.on("SIGTERM", () => {}); setInterval(() => {}, 1000);'),
      });
      const onTwo = await rawClient(twoUrl);
      const stopping = nextStatus(alice, (e) => e.id === stubborn.id && e.to === "stopping");
      // Its answer never comes (its server is gone): the call's end is heard here, not left unhandled.
      const cut = call(onTwo, "container:stop", { id: stubborn.id, timeoutSec: 60 }).catch(() => undefined);
      await within(15_000, "the stop under way on server two", stopping);

      balancer.backends = [];
      const dropped = new Promise((r) => client.once("disconnect", r));
      await two.kill("SIGKILL");
      await within(10_000, "alice's disconnect", dropped);
      await cut;

      // Made while alice is away, through server one: the push she must get once recovered.
      const missed = nextStatus(client, (e) => e.id === made.id && e.to === "running");
      await bot.start();

      balancer.backends = [Number(new URL(one.url).port)];
      await within(
        15_000,
        "alice back, through server one",
        new Promise((r) => client.once("connect", () => r(undefined))),
      );
      expect(client.recovered).toBe(true);
      expect(client.id).toBe(sessionId);
      await within(15_000, "the push alice missed while away", missed);
      // The workload never depended on server two: both agents still on server one, answering through it.
      expect(registry.agents.length).toBe(2);
      const answer = await ok(client, "container:request", { id: made.id, data: { after: "the kill" } });
      expect(answer).toEqual({ after: "the kill" });
      // Whichever led before, server one leads now: a workload's exit is still answered.
      await eventually(30_000, "server one leading the cluster", () => leaders().join() === "one");
      const before = await bot.status();
      const { index, engineId } = await whereIs(made.id);
      await bed.node(index).docker.getContainer(engineId).kill();
      await eventually(60_000, "restarted by its policy, by server one", async () => {
        const now = await bot.status();
        return now.state === "running" && now.restartCount === before.restartCount + 1;
      });
      // The stop server two was making when it died: finished by the leader's pass, its owner told.
      await eventually(60_000, "the cut stop finished by server one", async () => {
        return (await stubborn.status()).state === "stopped";
      });
      const history = await alice.activity.history({ containerId: stubborn.id });
      expect(history.items.map((e) => e.action)).toContain("container.stop_interrupted");
      const stubbornCopy = await whereIs(stubborn.id);
      const onNode = await bed.node(stubbornCopy.index).docker.getContainer(stubbornCopy.engineId).inspect();
      expect(onNode.State.Running).toBe(false);
    } finally {
      await balancer?.close();
    }
  });
});
