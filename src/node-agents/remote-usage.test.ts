import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import { NodeUsage } from "../agent/node-usage.ts";
import { WorkloadsOnlyEngine } from "../agent/workloads-only-engine.ts";
import type { ContainerCreateBody, ContainerInspect } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { MemoryCgroupFs } from "../monitoring/testing/memory-cgroup-fs.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { engineHandle } from "./engine-handle.ts";
import { RemoteUsage } from "./remote-usage.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

/** The pid the fixture tree's /proc knows (monitoring/fixtures/cgroup/v1-cgroupfs). */
const PID = 13058;
const WORKLOAD = "Cusagelinkt01";
/** Whole engine ids, as the engine gives them. */
const WORKLOAD_ENGINE_ID = "a".repeat(64);
const STRANGER_ENGINE_ID = "b".repeat(64);
const OTHER_NODE = "otherworker0000000000000";

/** A node's engine holding one workload of berth's and one container of the operator's, both running. */
class NodeEngine extends FakeDockerClient {
  constructor() {
    super();
    const add = (id: string, body: Partial<ContainerCreateBody>) =>
      this.containers.set(id, {
        id,
        body: body as ContainerCreateBody,
        state: "running",
        exitCode: 0,
        exitWaiters: [],
      });
    add(WORKLOAD_ENGINE_ID, {
      name: `berth-${WORKLOAD}`,
      Labels: { "berth.managed": "true", "berth.id": WORKLOAD },
    });
    add(STRANGER_ENGINE_ID, { name: "postgres", Labels: {} });
  }

  override async inspectContainer(id: string): Promise<ContainerInspect | undefined> {
    const found = await super.inspectContainer(id);
    if (found?.State.Running) found.State.Pid = PID;
    return found;
  }
}

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function connected(registry: AgentRegistry): Promise<AgentConnection> {
  return (
    registry.agentFor(TEST_NODE.nodeId) ??
    within(
      15_000,
      "the agent connected",
      new Promise<AgentConnection>((resolve) => registry.once("connected", resolve)),
    )
  );
}

describe("a workload's resource usage in cluster mode, sampled by its node's agent (RemoteUsage)", () => {
  let registry: AgentRegistry;
  let engine: NodeEngine;
  let fs: MemoryCgroupFs;
  /** Where the store places the workload now. */
  let placedOn: string | undefined;
  let usage: RemoteUsage;

  beforeEach(async () => {
    const server = await startAgentsTestServer();
    closers.push(server.close);
    registry = server.registry;
    engine = new NodeEngine();
    fs = await MemoryCgroupFs.fromFixture("v1-cgroupfs");
    const nodeUsage = new NodeUsage({
      docker: new WorkloadsOnlyEngine(engine, { mountRoot: "/var/lib/berth-agent" }),
      log,
      fs,
      baselineMs: 5,
    });
    closers.push(() => nodeUsage.close());
    const agent = new NodeAgent({
      servers: [server.url],
      credential: TEST_CREDENTIAL,
      identity: TEST_NODE,
      docker: engine,
      usage: nodeUsage,
      log,
      minDelayMs: 50,
      maxDelayMs: 200,
    });
    agent.start();
    closers.push(() => agent.close());
    placedOn = TEST_NODE.nodeId;
    usage = new RemoteUsage({ registry, nodeOf: async () => placedOn });
    await connected(registry);
  });

  const handle = (engineId = WORKLOAD_ENGINE_ID, nodeId = TEST_NODE.nodeId) => engineHandle(nodeId, engineId);

  it("samples the workload on its node, from that node's cgroup files, through its agent", async () => {
    const sample = await usage.sample(WORKLOAD, handle(), false);
    expect(sample.source).toBe("cgroup");
    expect(sample.usage).toMatchObject({ memoryLimitBytes: 256 * 1024 ** 2, pids: 7 });
    expect(sample.usage.memoryBytes).toBeGreaterThan(0);
    // A hold the pressure monitor sets on it must reach this copy through the cluster's engine port.
    expect(sample.pressure?.dockerId).toBe(handle());
    expect(fs.reads).toContain(`/proc/${PID}/cgroup`);
  });

  it("refuses a container of the node that is not berth's: NOT_FOUND, none of its files read", async () => {
    await expect(usage.sample(WORKLOAD, handle(STRANGER_ENGINE_ID), false)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(fs.reads).toEqual([]);
  });

  it("asks no agent for a copy on a node the workload is not placed on (moved, or a stale copy)", async () => {
    placedOn = OTHER_NODE;
    await expect(usage.sample(WORKLOAD, handle(), false)).rejects.toMatchObject({ code: "NOT_FOUND" });
    placedOn = undefined;
    await expect(usage.sample(WORKLOAD, handle(), false)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(usage.sample(WORKLOAD, WORKLOAD_ENGINE_ID, false)).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(engine.calls).toEqual([]);
  });

  it("fails as retryable while the workload's node has no agent connected", async () => {
    placedOn = OTHER_NODE;
    await expect(usage.sample(WORKLOAD, handle(WORKLOAD_ENGINE_ID, OTHER_NODE), false)).rejects.toMatchObject(
      { code: "DOCKER_UNAVAILABLE", retryable: true },
    );
  });

  it("refuses, on the agent, anything but a whole engine id, before anything is read", async () => {
    const agent = await connected(registry);
    for (const bad of [`berth-${WORKLOAD}`, "a".repeat(12), "A".repeat(64), `${"a".repeat(63)}/`, ""]) {
      await expect(agent.callUsage("sample", [bad, false])).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
    }
    await expect(
      agent.callUsage("sample" as never, [WORKLOAD_ENGINE_ID, "yes"] as never),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    expect(engine.calls).toEqual([]);
    expect(fs.reads).toEqual([]);
  });
});
