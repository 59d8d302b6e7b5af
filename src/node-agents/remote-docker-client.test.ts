import { once } from "node:events";
import { PassThrough } from "node:stream";
import { io as dial } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import { AGENTS_NAMESPACE, type AgentIdentity } from "../agent-link/agent-link-contract.ts";
import { workloadBody } from "../agent-link/testing/workload-body.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError, DockerUnavailableError, InternalError, NotSupportedError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection, CallTimeouts } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { RemoteDockerClient } from "./remote-docker-client.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

/** NODE's credential, derived from the test server's master key. */
const NODE: AgentIdentity = TEST_NODE;
const CREDENTIAL = TEST_CREDENTIAL;

/** A fake engine that remembers the signal of each wait, to see a cancel arrive. */
class WatchedEngine extends FakeDockerClient {
  readonly waits: AbortSignal[] = [];
  override waitForExit(dockerId: string, signal: AbortSignal): Promise<number> {
    this.waits.push(signal);
    return super.waitForExit(dockerId, signal);
  }
}

/** The refusal a bare Socket.IO connection gets: berth's error code in its `data`. */
function refusal(socket: ReturnType<typeof dial>): Promise<Error & { data?: { code?: string } }> {
  return new Promise((resolve) => socket.once("connect_error", resolve));
}

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An API server with the /agents namespace (testing/agents-test-server.ts), closed after each test. */
async function apiServer(timeouts?: CallTimeouts, port = 0) {
  const server = await startAgentsTestServer({ timeouts, port });
  closers.push(server.close);
  return server;
}

function startAgent(
  url: string,
  docker = new WatchedEngine(),
  options: { credential?: string; identity?: AgentIdentity; maxDelayMs?: number } = {},
) {
  const log = createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });
  const agent = new NodeAgent({
    servers: [url],
    credential: options.credential ?? CREDENTIAL,
    identity: options.identity ?? NODE,
    docker,
    log,
    minDelayMs: 50,
    maxDelayMs: options.maxDelayMs ?? 200,
  });
  agent.start();
  closers.push(() => agent.close());
  return { agent, docker };
}

/**
 * For what a test awaits but does not claim to be quick: a guard against waiting for ever, with room for a
 * machine busy with other test files (expect.poll's own default, one second, is not).
 */
const GUARD = { timeout: 15_000 };

/** The agent of `nodeId`, once it is connected (awaited as the registry's event, not polled for). */
async function connected(registry: AgentRegistry, nodeId = NODE.nodeId): Promise<AgentConnection> {
  return (
    registry.agentFor(nodeId) ??
    within(
      GUARD.timeout,
      `the agent of ${nodeId} connected`,
      new Promise<AgentConnection>((resolve) => {
        const onConnected = (agent: AgentConnection) => {
          if (agent.nodeId !== nodeId) return;
          registry.off("connected", onConnected);
          resolve(agent);
        };
        registry.on("connected", onConnected);
      }),
    )
  );
}

describe("RemoteDockerClient, the engine port of a node served by its agent", () => {
  it("drives a container's life on the agent's engine: create, start, inspect, list, stop, remove", async () => {
    const { url, registry } = await apiServer();
    const { docker } = startAgent(url);
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    expect(await remote.version()).toEqual({ version: "fake", apiVersion: "1.41" });
    const id = await remote.createContainer(workloadBody());
    expect(await remote.startContainer(id)).toBe(true);
    expect((await remote.inspectContainer(id))?.State.Running).toBe(true);
    expect(await remote.listContainers({ "berth.id": "Cagentlinktest01" })).toEqual([
      expect.objectContaining({ dockerId: id, state: "running" }),
    ]);
    await remote.stopContainer(id, 1);
    expect(await remote.waitForExit(id, new AbortController().signal)).toBe(143);
    await remote.removeContainer(id);
    expect(await remote.inspectContainer(id)).toBeUndefined();
    expect(docker.containers.size).toBe(0);
  });

  it("gives the engine's errors back as berth's own classes", async () => {
    const { url, registry } = await apiServer();
    const { docker } = startAgent(url);
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    docker.failNext(
      "startContainer",
      new DockerError("The container engine could not start the container.", 409),
    );
    const err = await remote.startContainer("abc").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect(err).toMatchObject({ statusCode: 409, code: "DOCKER_ERROR" });
    docker.down = true;
    await expect(remote.ping()).rejects.toBeInstanceOf(DockerUnavailableError);
  });

  it("fails at once with DOCKER_UNAVAILABLE while no agent of the node is connected", async () => {
    const { registry } = await apiServer();
    const remote = new RemoteDockerClient(registry, "nobodyhere");
    await expect(remote.ping()).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE", retryable: true });
    await expect(remote.streamEvents({}, 0, () => {})).rejects.toBeInstanceOf(DockerUnavailableError);
  });

  it("answers what is not forwarded with NotSupportedError, without asking the agent", async () => {
    const { url, registry } = await apiServer();
    const { docker } = startAgent(url);
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    await expect(remote.ensureNetwork({ name: "n", labels: {} })).rejects.toBeInstanceOf(NotSupportedError);
    await expect(remote.containerStats("x")).rejects.toBeInstanceOf(NotSupportedError);
    expect(docker.calls).toEqual([]);
  });

  it("carries answers larger than an unauthenticated connection may send", async () => {
    const { url, registry } = await apiServer();
    const { docker } = startAgent(url);
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${"x".repeat(40)}`);
    docker.containerLogs = async () => lines;
    expect(await remote.containerLogs("abc", 2000)).toEqual(lines);
  });

  it("follows the node's engine events through the agent, until closed", async () => {
    const { url, registry } = await apiServer();
    const { docker } = startAgent(url);
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    const seen: string[] = [];
    const subscription = await remote.streamEvents({ "berth.managed": "true" }, Date.now(), (e) =>
      seen.push(e.action),
    );
    docker.emitEvent({ action: "start", dockerId: "d1", labels: {}, time: 1 });
    docker.emitEvent({ action: "die", dockerId: "d1", labels: {}, time: 2, exitCode: 0 });
    await expect.poll(() => seen, GUARD).toEqual(["start", "die"]);
    subscription.close();
    await subscription.done;
    await expect.poll(() => docker.eventListeners.size, GUARD).toBe(0);
  });

  it("cancels a wait on the agent when the caller aborts it", async () => {
    const { url, registry } = await apiServer();
    const { docker } = startAgent(url);
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    const id = await remote.createContainer(workloadBody());
    await remote.startContainer(id);
    const abort = new AbortController();
    const waiting = remote.waitForExit(id, abort.signal);
    await expect.poll(() => docker.waits.length, GUARD).toBe(1);
    abort.abort(new Error("no longer needed"));
    await expect(waiting).rejects.toThrow("no longer needed");
    await expect.poll(() => docker.waits[0]?.aborted, GUARD).toBe(true);
  });

  it("fails a wait and ends a subscription with DOCKER_UNAVAILABLE the moment the agent's connection ends", async () => {
    const { url, registry } = await apiServer();
    const { agent, docker } = startAgent(url);
    const connection = await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    const id = await remote.createContainer(workloadBody());
    await remote.startContainer(id);
    const subscription = await remote.streamEvents({}, 0, () => {});
    const waiting = remote.waitForExit(id, new AbortController().signal);
    await expect.poll(() => docker.waits.length, GUARD).toBe(1);
    const gone = once(registry, "disconnected");
    agent.close();
    await expect(waiting).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(subscription.done).rejects.toBeInstanceOf(DockerUnavailableError);
    expect((await gone)[0]).toBe(connection);
    expect(registry.agentFor(NODE.nodeId)).toBeUndefined();
    expect(connection.open).toEqual({ calls: 0, waits: 0, subscriptions: 0 });
    // The container runs on: an agent's going is not its workloads'.
    expect(docker.containers.get(id)?.state).toBe("running");
  });

  it("takes a second connection of the same node in place of the first, which it ends", async () => {
    const { url, registry } = await apiServer();
    // Its longest delay long, so that a first agent dialling back after its goodbye could not be missed.
    const first = startAgent(url, new WatchedEngine(), { maxDelayMs: 60_000 });
    const old = await connected(registry);
    const second = startAgent(url);
    await expect.poll(() => registry.agentFor(NODE.nodeId) !== old, GUARD).toBe(true);
    expect(registry.agents).toHaveLength(1);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    await remote.ping();
    expect(second.docker.calls.map((c) => c.method)).toEqual(["ping"]);
    await expect(old.call("ping", [])).rejects.toBeInstanceOf(DockerUnavailableError);
    // Told it was replaced, the first does not dial straight back (its shortest delay is 50 ms here): the
    // two would otherwise take the node from each other without end. An absence, so waited for.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(first.agent.connectedServers).toBe(0);
    expect(registry.agentFor(NODE.nodeId)).not.toBe(old);
  });

  it("dials an API server again after it closed, and is back once a server listens there again", async () => {
    const first = await apiServer();
    startAgent(first.url);
    await connected(first.registry);
    await first.close();
    const second = await apiServer(undefined, Number(new URL(first.url).port));
    await connected(second.registry);
    await new RemoteDockerClient(second.registry, NODE.nodeId).ping();
  });

  it("refuses a hello that does not say which node the agent serves", async () => {
    const { url, registry } = await apiServer();
    const socket = dial(new URL(AGENTS_NAMESPACE, url).href, {
      transports: ["websocket"],
      reconnection: false,
      auth: { credential: CREDENTIAL, hostname: "x", version: "1" },
    });
    closers.push(() => socket.disconnect());
    const err = await refusal(socket);
    expect(err.data?.code).toBe("VALIDATION_FAILED");
    expect(registry.agents).toEqual([]);
  });

  it("fails a call the agent does not answer in time with DOCKER_UNAVAILABLE, and cancels it on the agent", async () => {
    const { url, registry } = await apiServer((method) => (method === "version" ? 100 : undefined));
    const socket = dial(new URL(AGENTS_NAMESPACE, url).href, {
      transports: ["websocket"],
      reconnection: false,
      auth: { credential: CREDENTIAL, ...NODE },
    });
    closers.push(() => socket.disconnect());
    const cancelled: unknown[] = [];
    socket.on("call", () => {}); // never answered
    socket.on("cancel", (c: unknown) => cancelled.push(c));
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    await expect(remote.version()).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      details: { op: "version" },
    });
    await expect.poll(() => cancelled, GUARD).toEqual([{ id: "1" }]);
    expect(registry.agentFor(NODE.nodeId)?.open).toEqual({ calls: 0, waits: 0, subscriptions: 0 });
  });

  it("takes an answer out of the method's contract for an internal error, not for the engine's word", async () => {
    const { url, registry } = await apiServer();
    const socket = dial(new URL(AGENTS_NAMESPACE, url).href, {
      transports: ["websocket"],
      reconnection: false,
      auth: { credential: CREDENTIAL, ...NODE },
    });
    closers.push(() => socket.disconnect());
    socket.on("call", (_call: unknown, ack: (a: unknown) => void) =>
      ack({ ok: true, value: { version: 42 } }),
    );
    await connected(registry);
    const remote = new RemoteDockerClient(registry, NODE.nodeId);
    await expect(remote.version()).rejects.toBeInstanceOf(InternalError);
  });
});
