import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { connect } from "@berth/workload";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentWorkloadFiles } from "../agent/agent-workload-files.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { socketPathFor } from "../channel/socket-path.ts";
import { loadConfig } from "../config/config.ts";
import { UidClaims } from "../containers/uid-claims.ts";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { NoCapacityError } from "../errors/errors.ts";
import { ImageChecker } from "../images/image-checker.ts";
import { PROBE_MARK } from "../images/image-probes.ts";
import { Redactor } from "../logging/redactor.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { AgentNodeEngines } from "./node-engines.ts";
import { RemoteThrowaways } from "./remote-throwaways.ts";
import {
  type AgentsTestServer,
  startAgentsTestServer,
  TEST_CREDENTIAL,
  TEST_NODE,
} from "./testing/agents-test-server.ts";

const IMAGE = "acme/bot:1";
const admin = { owner: "admin", admin: true };

const silent = () =>
  createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * An API server's image checker in cluster mode (RemoteThrowaways as its site), and one node: its agent
 * with a fake engine that has the image, its real channel hub and its real files under a temp root.
 */
async function bed(options: { choose?: () => Promise<string>; readyTimeoutMs?: number } = {}) {
  const server: AgentsTestServer = await startAgentsTestServer();
  closers.push(server.close);
  const root = await mkdtemp(join(tmpdir(), "berth-rt-"));
  closers.push(() => rm(root, { recursive: true, force: true }));
  const engine = new FakeDockerClient();
  engine.images = new Map([
    [
      IMAGE,
      {
        entrypoint: [],
        cmd: ["node", "index.js"],
        labels: { "berth.runtime": "node", "berth.entry": "index.js" },
      },
    ],
  ]);
  const hub = new SocketCommunicationHandler({
    runDir: join(root, "run"),
    maxFrameBytes: 64 * 1024,
    maxRequestTimeoutMs: 30_000,
    heartbeatIntervalMs: 0,
    log: silent(),
  });
  closers.push(() => hub.closeAll());
  const startAgent = () => {
    const agent = new NodeAgent({
      servers: [server.url],
      credential: TEST_CREDENTIAL,
      identity: TEST_NODE,
      docker: engine,
      files: new AgentWorkloadFiles(root),
      channels: hub,
      log: silent(),
      minDelayMs: 50,
      maxDelayMs: 200,
    });
    agent.start();
    closers.push(() => agent.close());
    return agent;
  };
  const log = silent();
  const config = loadConfig({
    BERTH_DATA_DIR: root,
    BERTH_READY_TIMEOUT_MS: String(options.readyTimeoutMs ?? 5_000),
  });
  const engines = new AgentNodeEngines(server.registry);
  closers.push(() => engines.close());
  const throwaways = new RemoteThrowaways({
    registry: server.registry,
    engines,
    choose: options.choose ?? (async () => TEST_NODE.nodeId),
    mountRoot: root,
    maxFrameBytes: config.maxFrameBytes,
    maxRequestTimeoutMs: config.maxRequestTimeoutMs,
    log,
  });
  closers.push(() => throwaways.close());
  // What the API server's own engine and files would be: never to be used for a check in a cluster.
  const local = new FakeDockerClient();
  const checker = new ImageChecker({
    config,
    docker: local,
    files: new AgentWorkloadFiles(join(root, "not-here")),
    site: throwaways,
    instanceId: "test-instance",
    uids: new UidClaims({ isUidTaken: async () => false, insert: async () => {} }, config.uidRange, log),
    log,
  });
  closers.push(() => checker.close());
  /** Everything a check could leave on the node: engine containers, code and socket directories, channels. */
  const leftOnNode = async () => [
    ...[...engine.containers.keys()].map((id) => `container ${id}`),
    ...(await readdir(join(root, "data", "code")).catch(() => [])).map((e) => `code/${e}`),
    ...(await readdir(join(root, "run")).catch(() => [])).map((e) => `run/${e}`),
    ...hub.openIds.map((id) => `channel ${id}`),
  ];
  return { server, engine, hub, root, startAgent, throwaways, checker, local, leftOnNode };
}

type Bed = Awaited<ReturnType<typeof bed>>;

/** On its start on the node, the throwaway's workload (here, in this process) connects and answers as `answer` says. */
function workloadAnswering(b: Bed, answer: (() => unknown) | undefined) {
  const start = b.engine.startContainer.bind(b.engine);
  b.engine.startContainer = async (dockerId) => {
    const started = await start(dockerId);
    if (answer === undefined) return started;
    const body = b.engine.containers.get(dockerId)?.body as ContainerCreateBody;
    const id = body.Labels?.["berth.id"] as string;
    const workload = connect({
      socketPath: socketPathFor(join(b.root, "run"), id),
      meta: { probe: PROBE_MARK },
    });
    workload.onRequest(answer);
    closers.push(() => workload.close());
    return started;
  };
}

describe("image checks in cluster mode (RemoteThrowaways)", () => {
  let b: Bed;
  beforeEach(async () => {
    b = await bed();
    b.startAgent();
    await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
  });

  it("runs the check on the node placed for it, through its agent, hardened as a workload, and leaves nothing there", async () => {
    workloadAnswering(b, () => ({ probe: PROBE_MARK, runtime: "node", cwd: "/app", uid: 1, entries: 1 }));
    const result = await b.checker.check(admin, { image: IMAGE }, new Redactor());
    expect(result.ok).toBe(true);
    expect(Object.fromEntries(result.checks.map((c) => [c.name, c.status]))).toEqual({
      image: "passed",
      labels: "passed",
      command: "passed",
      entry: "passed",
      start: "passed",
      workdir: "passed",
      connect: "passed",
      request: "passed",
    });
    // Made on the node's engine with its agent's paths, never on the API server's own engine.
    const body = b.engine.calls.find((c) => c.method === "createContainer")?.arg as ContainerCreateBody;
    expect(body.HostConfig).toMatchObject({ NetworkMode: "none", ReadonlyRootfs: true, CapDrop: ["ALL"] });
    expect(body.HostConfig?.Mounts?.map((m) => m.Source)).toEqual([
      expect.stringMatching(new RegExp(`^${b.root}/run/`)),
      expect.stringMatching(new RegExp(`^${b.root}/data/code/`)),
    ]);
    expect(body.Labels).toMatchObject({ "berth.check": "image", "berth.check-until": expect.any(String) });
    expect(b.local.calls).toEqual([]);
    expect(await b.leftOnNode()).toEqual([]);
    expect(b.throwaways.underWay()).toEqual([]);
  });

  it("answers a workload that exits before it connects as one host does: its exit code, and the fix", async () => {
    const start = b.engine.startContainer.bind(b.engine);
    b.engine.startContainer = async (id) => {
      const started = await start(id);
      setImmediate(() => b.engine.exit(id, 3));
      return started;
    };
    const result = await b.checker.check(admin, { image: IMAGE }, new Redactor());
    expect(result).toMatchObject({ ok: false, exitCode: 3, code: "probe" });
    expect(result.checks.find((c) => c.name === "connect")).toMatchObject({
      status: "failed",
      summary: "The workload exited with code 3 before it connected to BERTH_SOCKET.",
    });
    expect(await b.leftOnNode()).toEqual([]);
  });

  it("counts a check under way in the loads it places by, until the check ends", async () => {
    let seen: Array<{ nodeId: string }> = [];
    workloadAnswering(b, () => {
      seen = b.throwaways.underWay();
      return "hi";
    });
    await b.checker.check(admin, { image: IMAGE }, new Redactor());
    expect(seen).toEqual([{ nodeId: TEST_NODE.nodeId }]);
    expect(b.throwaways.underWay()).toEqual([]);
  });

  it("fails as DOCKER_UNAVAILABLE when its node's agent drops, and removes what it left once an agent is back", async () => {
    const fresh = await bed();
    const agent = fresh.startAgent();
    await expect.poll(() => fresh.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
    // The workload never connects; the node's agent goes while the check waits for its hello.
    const start = fresh.engine.startContainer.bind(fresh.engine);
    fresh.engine.startContainer = async (id) => {
      const started = await start(id);
      setImmediate(() => agent.close());
      return started;
    };
    await expect(fresh.checker.check(admin, { image: IMAGE }, new Redactor())).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
    });
    // Its clean-up could not reach the node: the container, its directories and its channel are still there.
    const left = await fresh.leftOnNode();
    expect(left.filter((e) => e.startsWith("container "))).toHaveLength(1);
    expect(left.filter((e) => e.startsWith("channel "))).toHaveLength(1);
    expect(fresh.throwaways.underWay()).toHaveLength(1);

    fresh.startAgent();
    await expect.poll(() => fresh.leftOnNode(), { timeout: 5_000 }).toEqual([]);
    await expect.poll(() => fresh.throwaways.underWay()).toEqual([]);
  });
});

describe("image checks in cluster mode at shutdown", () => {
  it("ends a check under way at once, and removes what it made on its node before the agents' links close", async () => {
    // The check would wait 15 s for a hello that never comes.
    const b = await bed({ readyTimeoutMs: 30_000 });
    b.startAgent();
    await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
    const checking = b.checker.check(admin, { image: IMAGE }, new Redactor());
    checking.catch(() => undefined);
    await expect.poll(() => b.engine.containers.size).toBe(1);
    const asked = Date.now();
    await b.checker.close();
    expect(Date.now() - asked).toBeLessThan(5_000);
    await expect(checking).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    expect(await b.leftOnNode()).toEqual([]);
  });
});

describe("image checks in cluster mode, placed by the policy", () => {
  it("fails as the placement fails (no room on any node), before anything is made", async () => {
    const b = await bed({
      choose: async () => {
        throw new NoCapacityError({ details: { readyNodes: 1, matchingNodes: 1 } });
      },
    });
    b.startAgent();
    await expect.poll(() => b.server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
    await expect(b.checker.check(admin, { image: IMAGE }, new Redactor())).rejects.toMatchObject({
      code: "NO_CAPACITY",
    });
    expect(b.engine.calls.filter((c) => c.method !== "inspectImage")).toEqual([]);
    expect(await b.leftOnNode()).toEqual([]);
  });
});
