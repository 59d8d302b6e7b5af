import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { deriveAgentCredential } from "../../agent-link/agent-credential.ts";
import type { AgentIdentity } from "../../agent-link/agent-link-contract.ts";
import { AgentNamespace } from "../../api/agent-namespace.ts";
import { createBerthServer } from "../../api/berth-server.ts";
import type { AdapterFactory } from "../../api/local-telemetry.ts";
import { PreAuthGuard } from "../../api/pre-auth-guard.ts";
import { HandshakeLimiter } from "../../auth/handshake-limiter.ts";
import { SecretRegistry } from "../../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../../logging/system-logger.ts";
import type { CallTimeouts } from "../agent-connection.ts";
import { AgentRegistry } from "../agent-registry.ts";

/** The API servers' master key (BERTH_AGENT_TOKEN). */
export const TEST_MASTER_KEY = "agent-token-0123456789abcdef0123456789abcdef";
export const TEST_NODE: AgentIdentity = {
  nodeId: "n3abcdefghijklmnopqrstuvw",
  hostname: "node-3",
  version: "0.1.0",
};
/** TEST_NODE's credential, derived from the master key as `npm run agent:credential` derives it. */
export const TEST_CREDENTIAL = deriveAgentCredential(TEST_MASTER_KEY, TEST_NODE.nodeId);

export interface AgentsTestServer {
  url: string;
  registry: AgentRegistry;
  /** Everything the server logged so far (JSON lines). */
  logs: () => string;
  log: SystemLogger;
  /** As berth closes its Socket.IO server: the agents told, every connection ended. Safe to call twice. */
  close: () => Promise<unknown>;
}

/** An API server's Socket.IO server with the /agents namespace, as berth builds it (pre-auth guard included). */
export async function startAgentsTestServer(
  options: {
    timeouts?: CallTimeouts | undefined;
    port?: number;
    logLevel?: "debug" | "warn";
    /** A fan-out adapter for the clients' namespace, as BERTH_REDIS_URL gives one. */
    fanOut?: AdapterFactory;
    /** Whether agents are offered a channel lane (default true, as berth does). */
    channelLanes?: boolean;
  } = {},
): Promise<AgentsTestServer> {
  const secrets = new SecretRegistry();
  secrets.setServerSecrets([TEST_MASTER_KEY]);
  let logText = "";
  const destination = new PassThrough();
  destination.on("data", (c: Buffer) => {
    logText += c.toString();
  });
  const log = createSystemLogger({
    level: options.logLevel ?? "debug",
    redactor: secrets.system,
    destination,
  });
  const http: HttpServer = createServer();
  const io = createBerthServer(http, {
    maxPayloadBytes: 1024 * 1024,
    handshakes: new HandshakeLimiter({ perMinute: 0 }),
    fanOut: options.fanOut,
  });
  const preAuth = new PreAuthGuard(http, { pollingLimitAfterAuth: 1024 * 1024 });
  io.engine.on("connection", preAuth.onEngineConnection);
  const registry = new AgentRegistry();
  const agents = new AgentNamespace(io, {
    masterKey: TEST_MASTER_KEY,
    registry,
    onCredential: (credential) => secrets.addServerSecret(credential),
    log,
    onAdmitted: (socket) => preAuth.trust(socket.conn),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.channelLanes === undefined ? {} : { channelLanes: options.channelLanes }),
  });
  http.listen(options.port ?? 0, "127.0.0.1");
  await once(http, "listening");
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  let closing: Promise<unknown> | undefined;
  const close = () => {
    closing ??= (async () => {
      agents.close();
      preAuth.close();
      io.disconnectSockets(true);
      io.engine.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    })();
    return closing;
  };
  return { url, registry, logs: () => logText, log, close };
}
