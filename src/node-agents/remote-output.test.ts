import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import { WorkloadsOnlyEngine } from "../agent/workloads-only-engine.ts";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { OutputEngine } from "../docker/testing/output-engine.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";
import { RemoteDockerClient } from "./remote-docker-client.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

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

describe("a workload's output on another node, read and followed through its agent (RemoteDockerClient)", () => {
  let engine: OutputEngine;
  let agent: NodeAgent;
  let remote: RemoteDockerClient;
  let workload: string;
  let stranger: string;

  beforeEach(async () => {
    const server = await startAgentsTestServer();
    closers.push(server.close);
    engine = new OutputEngine();
    workload = await engine.createContainer({
      name: "berth-Coutputlink01",
      Labels: { "berth.managed": "true" },
    } as unknown as ContainerCreateBody);
    stranger = await engine.createContainer({
      name: "postgres",
      Labels: {},
    } as unknown as ContainerCreateBody);
    agent = new NodeAgent({
      servers: [server.url],
      credential: TEST_CREDENTIAL,
      identity: TEST_NODE,
      docker: new WorkloadsOnlyEngine(engine, { mountRoot: "/var/lib/berth-agent" }),
      log,
      minDelayMs: 50,
      maxDelayMs: 200,
    });
    agent.start();
    closers.push(() => agent.close());
    await connected(server.registry);
    remote = new RemoteDockerClient(server.registry, TEST_NODE.nodeId);
  });

  it("reads the last output as the engine sent it, in order, larger than one push carries", async () => {
    const pieces = [Buffer.from("a".repeat(10)), Buffer.alloc(200 * 1024, 1), Buffer.from("end\n")];
    engine.read = async (onChunk) => {
      for (const piece of pieces) onChunk(piece);
    };
    const got: Buffer[] = [];
    await remote.readLogs(workload, { tail: 100 }, (chunk) => got.push(chunk));
    expect(Buffer.concat(got)).toEqual(Buffer.concat(pieces));
  });

  it("reads nothing of a container that is not berth's, as of one that does not exist", async () => {
    engine.read = async (onChunk) => onChunk(Buffer.from("POSTGRES_PASSWORD=hunter2\n"));
    const got: Buffer[] = [];
    await remote.readLogs(stranger, { tail: 100 }, (chunk) => got.push(chunk));
    await remote.readLogs("nosuchcontainer", { tail: 100 }, (chunk) => got.push(chunk));
    const follow = await remote.followLogs(stranger, { tail: 10 }, (chunk) => got.push(chunk));
    await follow.done;
    expect(got).toEqual([]);
    expect(engine.calls.filter((c) => c.method === "readLogs" || c.method === "followLogs")).toEqual([]);
  });

  it("follows the output as it comes until closed, and closes the follow on the node", async () => {
    const got: string[] = [];
    const follow = await remote.followLogs(workload, { sinceMs: 1_000 }, (chunk) =>
      got.push(chunk.toString()),
    );
    const onNode = engine.follows[0]!;
    onNode.onChunk(Buffer.from("one\n"));
    onNode.onChunk(Buffer.from("two\n"));
    await expect.poll(() => got.join("")).toBe("one\ntwo\n");
    follow.close();
    await follow.done;
    await expect.poll(() => onNode.closed).toBe(true);
  });

  it("ends a follow when it ends on the node (the workload stopped, or was moved off it)", async () => {
    const follow = await remote.followLogs(workload, { tail: 10 }, () => {});
    engine.follows[0]!.end();
    await within(15_000, "the follow ended", follow.done);
  });

  it("ends a follow cleanly, never with a rejection, when the agent's connection drops", async () => {
    const follow = await remote.followLogs(workload, { tail: 10 }, () => {});
    agent.close();
    await expect(within(15_000, "the follow ended", follow.done)).resolves.toBeUndefined();
    // And on the node, nothing is left following for a server that is gone.
    expect(engine.follows[0]!.closed).toBe(true);
  });
});
