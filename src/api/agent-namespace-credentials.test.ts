import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { io as dial } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { deriveAgentCredential } from "../agent-link/agent-credential.ts";
import { AGENTS_NAMESPACE } from "../agent-link/agent-link-contract.ts";
import { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { AgentRegistry } from "../node-agents/agent-registry.ts";
import { AgentNamespace } from "./agent-namespace.ts";
import { createBerthServer } from "./berth-server.ts";

const MASTER = "master-key-of-the-agents-0123456789abcdef0123";
const A = "nodeaaaaaaaaaaaaaaaaaaaaa";
const B = "nodebbbbbbbbbbbbbbbbbbbbb";
const hello = (nodeId: string) => ({ nodeId, hostname: `host-${nodeId}`, version: "test" });

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An API server's /agents namespace on the master key; its log as text, the credentials it was told of. */
async function namespace() {
  const secrets = new SecretRegistry();
  secrets.setServerSecrets([MASTER]);
  let logText = "";
  const destination = new PassThrough();
  destination.on("data", (c: Buffer) => {
    logText += c.toString();
  });
  const log = createSystemLogger({ level: "debug", redactor: secrets.system, destination });
  const http = createServer();
  const io = createBerthServer(http, {
    maxPayloadBytes: 1024 * 1024,
    handshakes: new HandshakeLimiter({ perMinute: 0 }),
  });
  const registry = new AgentRegistry();
  const told: string[] = [];
  const agents = new AgentNamespace(io, {
    masterKey: MASTER,
    registry,
    log,
    onAdmitted: () => {},
    onCredential: (credential) => told.push(credential),
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  closers.push(async () => {
    agents.close();
    io.disconnectSockets(true);
    io.engine.close();
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  /** Connects with this hello; resolves with "connected" or the refusal's code. */
  const connect = (auth: Record<string, unknown>) => {
    const socket = dial(new URL(AGENTS_NAMESPACE, url).href, {
      transports: ["websocket"],
      reconnection: false,
      auth,
    });
    closers.push(() => socket.disconnect());
    return new Promise<string>((resolve) => {
      socket.once("connect", () => resolve("connected"));
      socket.once("connect_error", (err: Error & { data?: { code?: string } }) =>
        resolve(err.data?.code ?? err.message),
      );
    });
  };
  return { registry, connect, told, logs: () => logText };
}

describe("a node agent's credential", () => {
  it("is derived from the master key and the node id: the same each time, another for another node or key", () => {
    const a = deriveAgentCredential(MASTER, A);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deriveAgentCredential(MASTER, A)).toBe(a);
    expect(deriveAgentCredential(MASTER, B)).not.toBe(a);
    expect(deriveAgentCredential(`${MASTER}x`, A)).not.toBe(a);
    // Fixed by its definition: base64url(HMAC-SHA256(master, "berth-agent-credential:v1:" + node id)).
    expect(deriveAgentCredential("k".repeat(32), "n1")).toBe("tc2QbHMKKf4CAoN2wHZ74Vr5K56b5oQnz23xhgrpQ14");
  });
});

describe("the /agents namespace, checking each node's credential", () => {
  it("lets node A's agent in with A's credential, and tells it to the secret registry", async () => {
    const { registry, connect, told } = await namespace();
    const credential = deriveAgentCredential(MASTER, A);
    expect(await connect({ credential, ...hello(A) })).toBe("connected");
    expect(registry.agentFor(A)?.identity).toEqual(hello(A));
    expect(told).toEqual([credential]);
  });

  it("carries whether the agent's node can filter outbound workloads, which an older agent's hello leaves out", async () => {
    const { registry, connect } = await namespace();
    const C = "nodeccccccccccccccccccccc";
    const withCredential = (nodeId: string) => ({
      credential: deriveAgentCredential(MASTER, nodeId),
      ...hello(nodeId),
    });
    expect(await connect({ ...withCredential(A), egressFilter: false })).toBe("connected");
    expect(registry.agentFor(A)?.identity.egressFilter).toBe(false);
    expect(await connect(withCredential(B))).toBe("connected");
    expect(registry.agentFor(B)?.identity.egressFilter).toBeUndefined();
    expect(await connect({ ...withCredential(C), egressFilter: "yes" })).toBe("VALIDATION_FAILED");
    expect(registry.agentFor(C)).toBeUndefined();
  });

  it("refuses A's credential for node B, logging the address and the node id claimed, never the credential", async () => {
    const { registry, connect, told, logs } = await namespace();
    const credential = deriveAgentCredential(MASTER, A);
    expect(await connect({ credential, ...hello(B) })).toBe("UNAUTHORIZED");
    expect(registry.agents).toEqual([]);
    expect(told).toEqual([]);
    const line = logs()
      .split("\n")
      .find((l) => l.includes("not the credential of the node id claimed"));
    expect(JSON.parse(line!)).toMatchObject({ address: "127.0.0.1", node: B, code: "UNAUTHORIZED" });
    expect(logs()).not.toContain(credential);
    expect(logs()).not.toContain(deriveAgentCredential(MASTER, B));
  });

  it("refuses the master key itself, and a credential derived from another master key", async () => {
    const { registry, connect } = await namespace();
    expect(await connect({ credential: MASTER, ...hello(A) })).toBe("UNAUTHORIZED");
    const foreign = deriveAgentCredential("another-master-key-0123456789abcdef0123456789", A);
    expect(await connect({ credential: foreign, ...hello(A) })).toBe("UNAUTHORIZED");
    expect(registry.agents).toEqual([]);
  });

  it("refuses a hello without a credential (a client's token, an older agent's) as unauthorized", async () => {
    const { registry, connect } = await namespace();
    expect(await connect({ token: deriveAgentCredential(MASTER, A), ...hello(A) })).toBe("UNAUTHORIZED");
    expect(await connect({ credential: deriveAgentCredential(MASTER, A), nodeId: "Not/A/Node" })).toBe(
      "VALIDATION_FAILED",
    );
    expect(registry.agents).toEqual([]);
  });
});
