import { randomBytes } from "node:crypto";
import { copyFile, mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import { workloadBody } from "../../src/agent-link/testing/workload-body.ts";
import { newContainerId } from "../../src/containers/container-id.ts";
import { SecretRegistry } from "../../src/logging/secret-registry.ts";
import { createSystemLogger } from "../../src/logging/system-logger.ts";
import type { AgentConnection } from "../../src/node-agents/agent-connection.ts";
import type { AgentRegistry } from "../../src/node-agents/agent-registry.ts";
import { RemoteChannels } from "../../src/node-agents/remote-channels.ts";
import { RemoteDockerClient } from "../../src/node-agents/remote-docker-client.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { AgentProcess } from "./agent-process.ts";
import { BRIDGE_ADDRESS } from "./testbed/names.ts";
import { RUNTIME_IMAGE, Testbed } from "./testbed/testbed.ts";

const AGENT_TOKEN = randomBytes(32).toString("hex");
/** The example workload that answers every request with a greeting (examples/hello). */
const HELLO = new URL("../../examples/hello/index.js", import.meta.url).pathname;
/** A hardened start on a node of the bed, and the workload's connect and hello: seconds, on a loaded machine. */
const HELLO_WITHIN_MS = 30_000;

function agentOf(registry: AgentRegistry, nodeId: string): Promise<AgentConnection> {
  return within(
    15_000,
    `the agent of node ${nodeId} connected`,
    new Promise<AgentConnection>((resolve) => {
      const now = registry.agentFor(nodeId);
      if (now) return resolve(now);
      const onConnected = (agent: AgentConnection) => {
        if (agent.nodeId !== nodeId) return;
        registry.off("connected", onConnected);
        resolve(agent);
      };
      registry.on("connected", onConnected);
    }),
  );
}

describe.skipIf(NEEDS_ROOT)("a workload on node 3 reached through node 3's agent (RemoteChannels)", () => {
  let bed: Testbed;
  let server: TestServer;
  let agent: AgentProcess | undefined;
  let nodeId: string;
  let root: string;
  let remote: RemoteDockerClient;
  let channels: RemoteChannels;
  const placements = new Map<string, string>();
  const messages: Array<[string, unknown]> = [];
  const id = newContainerId();
  let dockerId: string | undefined;

  beforeAll(async () => {
    bed = await Testbed.up();
    server = await startTestServer({ BERTH_HOST: BRIDGE_ADDRESS, BERTH_AGENT_TOKEN: AGENT_TOKEN });
    const registry = server.berth.agents!;
    nodeId = (await bed.nodeLs()).find((n) => n.hostname === "berthc-n3")!.id;
    root = join(bed.node(3).node.dir, "agent-channel-test");
    agent = new AgentProcess(bed.node(3).node, {
      servers: server.url,
      credential: deriveAgentCredential(AGENT_TOKEN, nodeId),
      mountRoot: root,
    });
    await agentOf(registry, nodeId);
    remote = new RemoteDockerClient(registry, nodeId);
    channels = new RemoteChannels({
      registry,
      nodeOf: async (c) => placements.get(c),
      maxFrameBytes: 1024 * 1024,
      maxRequestTimeoutMs: 30_000,
      log: createSystemLogger({
        level: "silent",
        redactor: new SecretRegistry().system,
        destination: new PassThrough(),
      }),
    });
    channels.on("message", (c, data) => messages.push([c, data]));
  });

  afterAll(async () => {
    if (dockerId) await remote.removeContainer(dockerId).catch(() => undefined);
    await channels?.closeAll();
    await agent?.kill("SIGKILL");
    await server?.close();
    await bed?.down();
  });

  it("says hello to the agent, and answers a request sent from the API side", async () => {
    placements.set(id, nodeId);
    // The agent makes the socket directory on its node: <mount root>/run/<id>.
    await channels.open(id, { uid: 100_123, gid: 100_123 });
    // The example's code, as a release behind the `current` pointer (the host's file system is the node's).
    const codeDir = join(root, "code", id);
    await mkdir(join(codeDir, "releases", "r1"), { recursive: true });
    await copyFile(HELLO, join(codeDir, "releases", "r1", "index.js"));
    await symlink("releases/r1", join(codeDir, "current"));
    const hello = channels.waitForHello(id, { fresh: true });
    dockerId = await remote.createContainer(
      workloadBody({
        id,
        image: RUNTIME_IMAGE,
        socketDir: join(root, "run", id),
        codeDir,
        hasCode: true,
        spec: { name: "hello", command: ["node", "index.js"] },
      }),
    );
    expect(await remote.startContainer(dockerId)).toBe(true);
    expect(await within(HELLO_WITHIN_MS, "the workload's hello through the agent", hello)).toMatchObject({
      protocol: 1,
      meta: { example: "hello" },
    });
    expect(channels.status(id)).toMatchObject({ connected: true, meta: { example: "hello" } });
    await expect(channels.request(id, { name: "cluster" }, { timeoutMs: 10_000 })).resolves.toEqual({
      hello: "cluster",
    });
    await eventually(10_000, "the workload's message through the agent", () =>
      messages.some(([c, data]) => c === id && (data as { event?: string })?.event === "started"),
    );
    expect(await channels.ping(id)).toBeGreaterThanOrEqual(0);
  });

  it("closes the channel on the node when asked, and the workload is no longer reachable", async () => {
    await remote.stopContainer(dockerId!, 5);
    await channels.close(id);
    expect(channels.status(id).connected).toBe(false);
    await expect(channels.request(id, "x")).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
    await remote.removeContainer(dockerId!);
    dockerId = undefined;
  });
});
