import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { NodeAgent } from "../../src/agent/node-agent.ts";
import { deriveAgentCredential } from "../../src/agent-link/agent-credential.ts";
import { AGENTS_NAMESPACE } from "../../src/agent-link/agent-link-contract.ts";
import { workloadBody } from "../../src/agent-link/testing/workload-body.ts";
import { PRE_AUTH_MAX_BYTES } from "../../src/api/pre-auth-guard.ts";
import { newContainerId } from "../../src/containers/container-id.ts";
import { DockerodeClient } from "../../src/docker/dockerode-client.ts";
import { Redactor } from "../../src/logging/redactor.ts";
import { createSystemLogger } from "../../src/logging/system-logger.ts";
import { RemoteDockerClient } from "../../src/node-agents/remote-docker-client.ts";
import { within } from "../helpers/deadline.ts";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";

const AGENT_TOKEN = "agent-token-for-the-namespace-test-0123456789";
const NODE = { nodeId: "localnodeforthetest000001", hostname: "this-host", version: "test" };
const CREDENTIAL = deriveAgentCredential(AGENT_TOKEN, NODE.nodeId);

/** A bare Socket.IO connection to `namespace`; resolves with the refusal's code, or "connected". */
function tryConnect(url: string, namespace: string, auth: Record<string, unknown>): Promise<string> {
  const socket = io(new URL(namespace, url).href, { transports: ["websocket"], reconnection: false, auth });
  return new Promise<string>((resolve) => {
    socket.once("connect", () => resolve("connected"));
    socket.once("connect_error", (err: Error & { data?: { code?: string } }) =>
      resolve(err.data?.code ?? err.message),
    );
  }).finally(() => socket.disconnect());
}

const silent = () =>
  createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });

describe("the /agents namespace of a berth with BERTH_AGENT_TOKEN", () => {
  const server = useTestServer({ BERTH_AGENT_TOKEN: AGENT_TOKEN });

  it("refuses a client's token, the admin's included", async () => {
    expect(await tryConnect(server.url, AGENTS_NAMESPACE, { credential: TOKENS.alice, ...NODE })).toBe(
      "UNAUTHORIZED",
    );
    expect(await tryConnect(server.url, AGENTS_NAMESPACE, { credential: TOKENS.admin, ...NODE })).toBe(
      "UNAUTHORIZED",
    );
    expect(server.berth.agents?.agents).toEqual([]);
  });

  it("refuses a client already connected that tries the agents' namespace on its connection", async () => {
    const alice = await server.connectRaw("alice");
    const agents = alice.io.socket(AGENTS_NAMESPACE, { auth: { credential: TOKENS.alice, ...NODE } });
    const code = await new Promise<string | undefined>((resolve) =>
      agents.once("connect_error", (err: Error & { data?: { code?: string } }) => resolve(err.data?.code)),
    );
    expect(code).toBe("UNAUTHORIZED");
    expect(server.berth.agents?.agents).toEqual([]);
  });

  it("refuses the master key itself, and another node's credential", async () => {
    expect(await tryConnect(server.url, AGENTS_NAMESPACE, { credential: AGENT_TOKEN, ...NODE })).toBe(
      "UNAUTHORIZED",
    );
    const other = deriveAgentCredential(AGENT_TOKEN, "othernodeforthetest000002");
    expect(await tryConnect(server.url, AGENTS_NAMESPACE, { credential: other, ...NODE })).toBe(
      "UNAUTHORIZED",
    );
    expect(server.berth.agents?.agents).toEqual([]);
  });

  it("refuses the agent token, and a node's credential, on the clients' namespace", async () => {
    expect(await tryConnect(server.url, "/", { token: AGENT_TOKEN })).toBe("UNAUTHORIZED");
    expect(await tryConnect(server.url, "/", { token: CREDENTIAL })).toBe("UNAUTHORIZED");
  });

  it("lets a node agent in, and serves berth's engine calls through it", async () => {
    const log = silent();
    const agent = new NodeAgent({
      servers: [server.url],
      credential: CREDENTIAL,
      identity: NODE,
      docker: new DockerodeClient({ socketPath: "/var/run/docker.sock", log }),
      log,
    });
    const registry = server.berth.agents!;
    const connected = once(registry, "connected");
    agent.start();
    try {
      await within(30_000, "the agent connected", connected);
      const remote = new RemoteDockerClient(registry, NODE.nodeId);
      expect((await remote.version()).apiVersion).toMatch(/^1\.\d+$/);
      expect(await remote.inspectImage("berth/runtime-node:24")).toMatchObject({ cmd: expect.any(Array) });
      // An answer larger than a connection may send before it is let in (the pre-auth limit): the
      // agent's connection is trusted once admitted.
      const dir = await mkdtemp(join(tmpdir(), "bt-agent-"));
      const big = "x".repeat(PRE_AUTH_MAX_BYTES);
      const id = await remote.createContainer(
        workloadBody({ id: newContainerId(), socketDir: dir, codeDir: dir, spec: { env: { BIG: big } } }),
      );
      try {
        expect((await remote.inspectContainer(id))?.Config.Env).toContain(`BIG=${big}`);
      } finally {
        await remote.removeContainer(id);
        await rm(dir, { recursive: true, force: true });
      }
    } finally {
      const gone = once(registry, "disconnected");
      agent.close();
      await within(30_000, "the agent's connection ended", gone);
    }
    expect(registry.agents).toEqual([]);
  });

  it("never writes the agent token, or a credential that let an agent in, to its log", () => {
    expect(server.logs()).toContain("refused agent connection");
    expect(server.logs()).not.toContain(AGENT_TOKEN);
    expect(server.logs()).not.toContain(CREDENTIAL);
    // Known to the secret registry once it let its agent in: no later line holds it either.
    expect(server.berth.secrets.system.redactString(`credential ${CREDENTIAL}`)).not.toContain(CREDENTIAL);
  });
});

describe("a berth without BERTH_AGENT_TOKEN (single-host mode)", () => {
  const server = useTestServer();

  it("has no agents' namespace and no registry of agents", async () => {
    expect(await tryConnect(server.url, AGENTS_NAMESPACE, { token: TOKENS.admin, ...NODE })).toBe(
      "Invalid namespace",
    );
    expect(server.berth.agents).toBeUndefined();
  });
});
