import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { AgentWorkloadFiles } from "../agent/agent-workload-files.ts";
import { NodeAgent } from "../agent/node-agent.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { removeOrphanLeftovers } from "./node-leftovers.ts";
import { startAgentsTestServer, TEST_CREDENTIAL, TEST_NODE } from "./testing/agents-test-server.ts";

const ID = "C0123456789A";

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

/** A node whose agent holds ID's channel open and its directories on its disk, as an orphan left them. */
async function nodeWithOrphan() {
  const server = await startAgentsTestServer();
  closers.push(server.close);
  const root = await mkdtemp(join(tmpdir(), "berth-nl-"));
  closers.push(() => rm(root, { recursive: true, force: true }));
  const hub = new SocketCommunicationHandler({
    runDir: join(root, "run"),
    maxFrameBytes: 64 * 1024,
    maxRequestTimeoutMs: 30_000,
    heartbeatIntervalMs: 0,
    log: silent(),
  });
  closers.push(() => hub.closeAll());
  const files = new AgentWorkloadFiles(root);
  const agent = new NodeAgent({
    servers: [server.url],
    credential: TEST_CREDENTIAL,
    identity: TEST_NODE,
    docker: new FakeDockerClient(),
    files,
    channels: hub,
    log: silent(),
    minDelayMs: 50,
    maxDelayMs: 200,
  });
  agent.start();
  closers.push(() => agent.close());
  await files.layOut(ID, [{ path: "index.js", kind: "file", content: Buffer.from("1"), mode: 0o644 }], {
    push: () => {},
  });
  await hub.open(ID, { uid: 100_123, gid: 100_123 });
  await expect.poll(() => server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
  return { server, hub, root };
}

describe("an orphan's leftovers on its node", () => {
  it("are removed through the agent of the node its engine handle names: channel and directories", async () => {
    const { server, hub, root } = await nodeWithOrphan();
    await removeOrphanLeftovers(server.registry, ID, `${TEST_NODE.nodeId}:${"a".repeat(64)}`);
    expect(hub.openIds).toEqual([]);
    expect(existsSync(join(root, "data", "code", ID))).toBe(false);
    expect(existsSync(join(root, "run", ID))).toBe(false);
  });

  it("fail as DOCKER_UNAVAILABLE while that node's agent is away, and leave another node's alone", async () => {
    const { server, hub } = await nodeWithOrphan();
    await expect(
      removeOrphanLeftovers(server.registry, ID, `n9otherotherotherotherothe:${"a".repeat(64)}`),
    ).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE" });
    // Not a cluster's handle: nothing to route by, nothing done.
    await removeOrphanLeftovers(server.registry, ID, "a".repeat(64));
    expect(hub.openIds).toEqual([ID]);
  });
});
