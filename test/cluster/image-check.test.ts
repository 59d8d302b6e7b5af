import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ImageCheckResult } from "#protocol";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { eventually } from "../helpers/deadline.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { type FreshDatabase, type PostgresServer, startPostgresServer } from "../helpers/postgres-server.ts";
import { type Client, echoCode, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { AGENT_ROOT, BRIDGE_ADDRESS } from "./testbed/names.ts";
import { RUNTIME_IMAGE, Testbed } from "./testbed/testbed.ts";

const AGENT_TOKEN = randomBytes(32).toString("hex");
const CONNECT_WITHIN_MS = 30_000;
/** The checks' connect bound on both sides (BERTH_READY_TIMEOUT_MS caps it): room to kill an agent meanwhile. */
const READY_TIMEOUT_MS = "20000";

/** Code the runtime image's command runs (`node index.js`) that exits before it connects. */
const EXITS = {
  files: { "index.js": "console.log('starting up'); console.error('no config found'); process.exit(3);\n" },
};
/** Code that never connects: the check waits for it. */
const SILENT = { files: { "index.js": "setTimeout(() => {}, 1e9);\n" } };

/** A check's answer with what differs between two runs taken out: its times and the uid it ran as. */
function comparable(result: ImageCheckResult) {
  const { ms: _ms, ...rest } = result;
  // A workload's stdout and stderr lines written in the same moment come back in either order (the
  // engine's log keeps two streams): compared as a set of lines, on either side.
  if (rest.output) rest.output = [...rest.output].sort();
  const text = JSON.stringify(rest)
    .replace(/uid \d+(:\d+)?/g, "uid N")
    .replace(/answered in \d+ ms/g, "answered in N ms");
  return JSON.parse(text) as unknown;
}

/**
 * `image:check` in cluster mode on the test bed: the check is placed on a
 * worker node as a create's workload would be, its throwaway made there by
 * the node's agent with berth's hardening, and everything of it removed from
 * that node afterwards — compared with the same check on a single-host berth.
 */
describe.skipIf(NEEDS_ROOT)("image checks in cluster mode on the test bed", () => {
  let bed: Testbed;
  let pg: PostgresServer;
  let db: FreshDatabase;
  let server: TestServer;
  let single: TestServer;
  let registry: AgentRegistry;
  let admin: Client;
  let singleAdmin: Client;
  /** Test bed node index → its agent (the workers, 2 and 3). */
  const agents = new Map<number, AgentProcess>();
  /** Test bed node index → its Swarm node id. */
  const nodeIds = new Map<number, string>();

  const startAgent = (index: number) => {
    agents.set(
      index,
      new AgentProcess(bed.node(index).node, {
        servers: server.url,
        credential: deriveAgentCredential(AGENT_TOKEN, nodeIds.get(index)!),
        mountRoot: AGENT_ROOT,
      }),
    );
  };

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
      BERTH_READY_TIMEOUT_MS: READY_TIMEOUT_MS,
    });
    // The same berth on one host (the machine's own engine): what a check must answer alike.
    single = await startTestServer({ BERTH_READY_TIMEOUT_MS: READY_TIMEOUT_MS });
    registry = server.berth.agents!;
    const swarm = await bed.nodeLs();
    for (const index of [2, 3]) {
      nodeIds.set(index, swarm.find((n) => n.hostname === bed.node(index).node.hostname)!.id);
      startAgent(index);
    }
    await eventually(CONNECT_WITHIN_MS, "both workers' agents connected", () => registry.agents.length === 2);
    admin = await server.connect("admin");
    singleAdmin = await single.connect("admin");
  });

  afterEach((context) => {
    if (context.task.result?.state !== "fail") return;
    const lines = (server?.logs() ?? "").split("\n").filter((line) => /"level":(30|40|50|60)/.test(line));
    process.stderr.write(`berth's log up to "${context.task.name}":\n${lines.slice(-200).join("\n")}\n`);
    for (const [index, agent] of agents)
      process.stderr.write(`agent ${index}:\n${agent.lines.slice(-40).join("\n")}\n`);
  });

  afterAll(async () => {
    for (const agent of agents.values()) await agent.kill("SIGKILL");
    await server?.close();
    await single?.close();
    await db?.drop();
    await pg?.stop();
    await bed?.down();
  });

  /** What image checks left on a worker: its engine's check containers, and its agent disk's code and socket directories. */
  async function leftOn(index: number): Promise<string[]> {
    const { docker, node } = bed.node(index);
    const containers = await docker.listContainers({ all: true, filters: { label: ["berth.check"] } });
    const entries = async (dir: string) => (await readdir(dir).catch(() => [])).map((e) => join(dir, e));
    return [
      ...containers.map((c) => `container ${c.Names.join(",")}`),
      ...(await entries(join(node.agentDisk, "data", "code"))),
      ...(await entries(join(node.agentDisk, "run"))),
    ];
  }

  /** The worker a check's throwaway is on now, as its engine says (undefined while on neither). */
  async function checkOn(): Promise<number | undefined> {
    for (const index of [2, 3]) {
      const found = await bed.node(index).docker.listContainers({ filters: { label: ["berth.check"] } });
      if (found.length > 0) return index;
    }
    return undefined;
  }

  it("answers a good image with code that works as ok, run on a worker, leaving nothing there", async () => {
    const result = await admin.images.check(RUNTIME_IMAGE, { code: await echoCode() });
    expect(result.checks.filter((c) => c.status !== "passed" && c.name !== "labels")).toEqual([]);
    expect(result).toMatchObject({ ok: true, image: RUNTIME_IMAGE, code: "given", protocol: 1 });
    expect(result.checks.find((c) => c.name === "start")?.summary).toMatch(
      /^started as uid \d+:\d+, read-only root, no capabilities, no network$/,
    );
    expect(comparable(result)).toEqual(
      comparable(await singleAdmin.images.check(RUNTIME_IMAGE, { code: await echoCode() })),
    );
    expect([...(await leftOn(2)), ...(await leftOn(3))]).toEqual([]);
  });

  it("answers code that exits before it connects exactly as one host does: exit code, output and fix", async () => {
    const result = await admin.images.check(RUNTIME_IMAGE, { code: EXITS });
    expect(result).toMatchObject({ ok: false, code: "given", exitCode: 3 });
    expect(result.checks.find((c) => c.name === "connect")).toMatchObject({
      status: "failed",
      summary: "The workload exited with code 3 before it connected to BERTH_SOCKET.",
    });
    expect(result.output).toEqual(expect.arrayContaining(["starting up", "no config found"]));
    expect(comparable(result)).toEqual(
      comparable(await singleAdmin.images.check(RUNTIME_IMAGE, { code: EXITS })),
    );
    expect([...(await leftOn(2)), ...(await leftOn(3))]).toEqual([]);
  });

  it("answers an image no node has, and bad input, as one host does", async () => {
    const missing = "berth-test/no-such-image:1";
    expect(comparable(await admin.images.check(missing))).toEqual(
      comparable(await singleAdmin.images.check(missing)),
    );
    for (const client of [admin, singleAdmin]) {
      await expect(
        client.images.check(RUNTIME_IMAGE, { code: { files: { "../escape.js": "x" } } }),
      ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    }
  });

  it("runs hardened on its node; fails as retryable when that node's agent is killed mid-check, and leaves nothing once an agent is back", async () => {
    const checking = admin.images.check(RUNTIME_IMAGE, { code: SILENT });
    checking.catch(() => undefined);
    let on: number | undefined;
    await eventually(CONNECT_WITHIN_MS, "the check's throwaway running on a worker", async () => {
      on = await checkOn();
      return on !== undefined;
    });
    // Made on that node's engine with berth's hardening, exactly as a workload's container.
    const [throwaway] = await bed.node(on!).docker.listContainers({ filters: { label: ["berth.check"] } });
    const made = await bed.node(on!).docker.getContainer(throwaway!.Id).inspect();
    expect(made.Config.User).toMatch(/^(\d+):\1$/);
    expect(made.HostConfig).toMatchObject({
      NetworkMode: "none",
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Privileged: false,
    });
    expect(made.HostConfig.MemorySwap).toBe(made.HostConfig.Memory);

    await agents.get(on!)!.kill("SIGKILL");
    await expect(checking).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE", retryable: true });
    // The engine container ran on without its agent, and its directories are on the node's disk.
    expect((await leftOn(on!)).length).toBeGreaterThan(0);

    startAgent(on!);
    await eventually(CONNECT_WITHIN_MS, "everything of the check removed from its node", async () => {
      return (await leftOn(on!)).length === 0;
    });
    // And checks run again.
    expect((await admin.images.check(RUNTIME_IMAGE, { code: await echoCode() })).ok).toBe(true);
    expect([...(await leftOn(2)), ...(await leftOn(3))]).toEqual([]);
  });
});
