import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import { AGENTS_NAMESPACE } from "../../src/agent-link/agent-link-contract.ts";
import { workloadBody } from "../../src/agent-link/testing/workload-body.ts";
import { newContainerId } from "../../src/containers/container-id.ts";
import type { EngineEvent, EventSubscription } from "../../src/docker/docker-client.ts";
import { DockerUnavailableError } from "../../src/errors/errors.ts";
import type { AgentConnection } from "../../src/node-agents/agent-connection.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { RemoteDockerClient } from "../../src/node-agents/remote-docker-client.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { startTestServer, type TestServer, TOKENS } from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { PROBE_SCRIPT, parseProbeOutput } from "./spike/hardening-probe.ts";
import { BRIDGE_ADDRESS } from "./testbed/names.ts";
import { RUNTIME_IMAGE, Testbed } from "./testbed/testbed.ts";

/** The agent's connection, once made: an agent dials at once and its handshake is a round trip. */
const CONNECT_WITHIN_MS = 15_000;
/**
 * A killed agent's TCP connection is closed by its kernel at once (FIN), so
 * the API server hears of it in milliseconds; 3 s is for a loaded machine. A
 * call then must not wait for a timeout of its own (30 s) or for Socket.IO's
 * heartbeat (45 s).
 */
const FAIL_FAST_MS = 3_000;

const AGENT_TOKEN = randomBytes(32).toString("hex");

/** Resolves with the refusal's code when a bare Socket.IO connection to `namespace` is refused. */
function refusalOf(url: string, namespace: string, auth: Record<string, unknown>): Promise<string> {
  const socket = io(new URL(namespace, url).href, { transports: ["websocket"], reconnection: false, auth });
  return new Promise<string>((resolve) => {
    socket.once("connect", () => resolve("connected"));
    socket.once("connect_error", (err: Error & { data?: { code?: string } }) =>
      resolve(err.data?.code ?? err.message),
    );
  }).finally(() => socket.disconnect());
}

/** The agent of `nodeId` once connected (now, or when it connects). */
async function agentOf(registry: AgentRegistry, nodeId: string): Promise<AgentConnection> {
  const connected = new Promise<AgentConnection>((resolve) => {
    const now = registry.agentFor(nodeId);
    if (now) return resolve(now);
    const onConnected = (agent: AgentConnection) => {
      if (agent.nodeId !== nodeId) return;
      registry.off("connected", onConnected);
      resolve(agent);
    };
    registry.on("connected", onConnected);
  });
  return within(CONNECT_WITHIN_MS, `the agent of node ${nodeId} connected`, connected);
}

describe.skipIf(NEEDS_ROOT)("a node agent on node 3 of the test bed, serving berth's engine port", () => {
  let bed: Testbed;
  let server: TestServer;
  let registry: AgentRegistry;
  let nodeId: string;
  let remote: RemoteDockerClient;
  const agents: AgentProcess[] = [];
  const id = newContainerId();
  let dockerId: string;
  let startedAt: string;
  const events: EngineEvent[] = [];
  let subscription: EventSubscription | undefined;

  /** An agent on node `on` (3 unless said), with node 3's credential unless said. */
  const startAgent = (credential = deriveAgentCredential(AGENT_TOKEN, nodeId), on: 2 | 3 = 3) => {
    const agent = new AgentProcess(bed.node(on).node, {
      servers: server.url,
      credential,
      mountRoot: join(bed.node(on).node.dir, "agent-test"),
    });
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    bed = await Testbed.up();
    // On the bridge's address, which the nodes reach the host on (and the host itself too).
    server = await startTestServer({ BERTH_HOST: BRIDGE_ADDRESS, BERTH_AGENT_TOKEN: AGENT_TOKEN });
    registry = server.berth.agents!;
    nodeId = (await bed.nodeLs()).find((n) => n.hostname === "berthc-n3")!.id;
    remote = new RemoteDockerClient(registry, nodeId);
  });

  afterAll(async () => {
    for (const agent of agents) await agent.kill("SIGKILL");
    await subscription?.close();
    await server?.close();
    await bed?.down();
  });

  it("dials out to the API server and says node 3's Swarm node id and hostname", async () => {
    startAgent();
    const agent = await agentOf(registry, nodeId);
    expect(agent.identity).toMatchObject({ nodeId, hostname: "berthc-n3" });
    expect(registry.agents).toHaveLength(1);
  });

  it("is a namespace a client's connection is refused on", async () => {
    expect(
      await refusalOf(server.url, AGENTS_NAMESPACE, {
        token: TOKENS.alice,
        nodeId,
        hostname: "x",
        version: "1",
      }),
    ).toBe("UNAUTHORIZED");
    expect(registry.agents).toHaveLength(1);
  });

  it("creates and starts a workload on node 3 with berth's create body, its start arriving as an engine event", async () => {
    const dir = join(bed.node(3).node.dir, "agent-test", id);
    await mkdir(join(dir, "run"), { recursive: true });
    await mkdir(join(dir, "code"), { recursive: true });
    subscription = await remote.streamEvents({ "berth.id": id }, Date.now(), (e) => events.push(e));
    dockerId = await remote.createContainer(
      workloadBody({
        id,
        image: RUNTIME_IMAGE,
        socketDir: join(dir, "run"),
        codeDir: join(dir, "code"),
        spec: { name: "probe", command: ["node", "-e", PROBE_SCRIPT] },
      }),
    );
    expect(await remote.startContainer(dockerId)).toBe(true);
    await eventually(10_000, "the start event through the agent", () =>
      events.some((e) => e.action === "start" && e.dockerId === dockerId),
    );
    // On node 3's engine, and on no other node's.
    expect((await bed.node(3).docker.getContainer(dockerId).inspect()).State.Running).toBe(true);
    await expect(bed.node(1).docker.getContainer(dockerId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("runs it hardened as single-host berth does: only lo, no-new-privileges, no capabilities, its own uid", async () => {
    let probe: Record<string, unknown> | undefined;
    await eventually(10_000, "the probe's line in the workload's output", async () => {
      probe = parseProbeOutput((await remote.containerLogs(dockerId, 20)).join("\n"));
      return probe !== undefined;
    });
    expect(probe).toMatchObject({
      interfaces: ["lo"],
      noNewPrivs: "1",
      capEff: "0000000000000000",
      uid: 100_123,
      writeRoot: "EROFS",
      writeSocketDir: "EROFS",
    });
    const info = await remote.inspectContainer(dockerId);
    expect(info?.HostConfig).toMatchObject({
      NetworkMode: "none",
      SecurityOpt: ["no-new-privileges"],
      ReadonlyRootfs: true,
      Privileged: false,
    });
    startedAt = info!.State.StartedAt;
  });

  it("refuses an agent whose credential was derived from another master key, and logs the refusal without it", async () => {
    const wrongCredential = deriveAgentCredential(randomBytes(32).toString("hex"), nodeId);
    const wrong = startAgent(wrongCredential);
    await eventually(CONNECT_WITHIN_MS, "the refusal in berth's log", () =>
      server.logs().includes("refused agent connection: not the credential of the node id claimed"),
    );
    await eventually(CONNECT_WITHIN_MS, "the refusal in the agent's log", () =>
      wrong.output.includes("the API server refused this agent"),
    );
    await wrong.kill();
    expect(server.logs()).not.toContain(wrongCredential);
    expect(server.logs()).not.toContain(AGENT_TOKEN);
    expect(wrong.output).not.toContain(wrongCredential);
    expect(registry.agents).toHaveLength(1);
  });

  it("refuses an agent on node 2 that holds node 3's credential: a node cannot take another's calls", async () => {
    const node2 = (await bed.nodeLs()).find((n) => n.hostname === "berthc-n2")!.id;
    const credential = deriveAgentCredential(AGENT_TOKEN, nodeId);
    const impostor = startAgent(credential, 2);
    await eventually(CONNECT_WITHIN_MS, "the refusal of node 2's id in berth's log", () =>
      server
        .logs()
        .split("\n")
        .some((l) => l.includes("not the credential of the node id claimed") && l.includes(node2)),
    );
    await eventually(CONNECT_WITHIN_MS, "the refusal in the agent's log", () =>
      impostor.output.includes("the API server refused this agent"),
    );
    await impostor.kill();
    expect(server.logs()).not.toContain(credential);
    expect(registry.agentFor(node2)).toBeUndefined();
    // Node 3's own agent still serves node 3.
    expect(registry.agents.map((a) => a.nodeId)).toEqual([nodeId]);
  });

  it("killed (SIGKILL), fails the calls waiting and the next ones at once with DOCKER_UNAVAILABLE; the workload runs on", async () => {
    // Their outcomes taken as they come: each settles while the test awaits another.
    const waiting = remote.waitForExit(dockerId, new AbortController().signal).catch((err: unknown) => err);
    const ended = subscription!.done.catch((err: unknown) => err);
    const gone = once(registry, "disconnected");
    await agents[0]!.kill("SIGKILL");
    await within(FAIL_FAST_MS, "the agent's connection seen ended", gone);
    expect(await within(FAIL_FAST_MS, "the wait failed", waiting)).toBeInstanceOf(DockerUnavailableError);
    expect(await within(FAIL_FAST_MS, "the subscription ended", ended)).toBeInstanceOf(
      DockerUnavailableError,
    );
    const asked = Date.now();
    await expect(remote.inspectContainer(dockerId)).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
    });
    expect(Date.now() - asked).toBeLessThan(FAIL_FAST_MS);
    expect((await bed.node(3).docker.getContainer(dockerId).inspect()).State.Running).toBe(true);
  });

  it("started again, serves calls again, and finds the workload it made before still running, never restarted", async () => {
    startAgent();
    await agentOf(registry, nodeId);
    const info = await remote.inspectContainer(dockerId);
    expect(info?.State.Running).toBe(true);
    expect(info?.State.StartedAt).toBe(startedAt);
  });

  it("stops and removes the workload through the agent, its die event arriving", async () => {
    events.length = 0;
    subscription = await remote.streamEvents({ "berth.id": id }, Date.now(), (e) => events.push(e));
    await remote.stopContainer(dockerId, 5);
    await eventually(10_000, "the die event through the agent", () =>
      events.some((e) => e.action === "die" && e.dockerId === dockerId),
    );
    await remote.removeContainer(dockerId);
    expect(await remote.inspectContainer(dockerId)).toBeUndefined();
    await expect(bed.node(3).docker.getContainer(dockerId).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
