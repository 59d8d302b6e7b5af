import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import type { AgentIdentity } from "../../agent-link/agent-link-contract.ts";
import { AgentNamespace } from "../../api/agent-namespace.ts";
import { createBerthServer } from "../../api/berth-server.ts";
import { PreAuthGuard } from "../../api/pre-auth-guard.ts";
import { HandshakeLimiter } from "../../auth/handshake-limiter.ts";
import { SecretRegistry } from "../../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../../logging/system-logger.ts";
import type { CallTimeouts } from "../agent-connection.ts";
import { AgentRegistry } from "../agent-registry.ts";

export const TEST_AGENT_TOKEN = "agent-token-0123456789abcdef0123456789abcdef";
export const TEST_NODE: AgentIdentity = {
  nodeId: "n3abcdefghijklmnopqrstuvw",
  hostname: "node-3",
  version: "0.1.0",
};

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
  options: { timeouts?: CallTimeouts | undefined; port?: number } = {},
): Promise<AgentsTestServer> {
  const secrets = new SecretRegistry();
  secrets.setServerSecrets([TEST_AGENT_TOKEN]);
  let logText = "";
  const destination = new PassThrough();
  destination.on("data", (c: Buffer) => {
    logText += c.toString();
  });
  const log = createSystemLogger({ level: "debug", redactor: secrets.system, destination });
  const http: HttpServer = createServer();
  const io = createBerthServer(http, {
    maxPayloadBytes: 1024 * 1024,
    handshakes: new HandshakeLimiter({ perMinute: 0 }),
  });
  const preAuth = new PreAuthGuard(http, { pollingLimitAfterAuth: 1024 * 1024 });
  io.engine.on("connection", preAuth.onEngineConnection);
  const registry = new AgentRegistry();
  const agents = new AgentNamespace(io, {
    token: TEST_AGENT_TOKEN,
    registry,
    log,
    onAdmitted: (socket) => preAuth.trust(socket.conn),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
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
