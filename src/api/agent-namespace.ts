import { createHash, timingSafeEqual } from "node:crypto";
import type { Namespace } from "socket.io";
import { AGENTS_NAMESPACE, AgentHelloSchema } from "../agent-link/agent-link-contract.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { AgentConnection, type AgentSocket, type CallTimeouts } from "../node-agents/agent-connection.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";
import type { BerthServer } from "./berth-server.ts";
import { ConnectRefusals } from "./connect-refusals.ts";

export interface AgentNamespaceOptions {
  /** BERTH_AGENT_TOKEN: what every node agent proves itself with. */
  token: string;
  registry: AgentRegistry;
  log: SystemLogger;
  /** Told of each connection let in (the pre-auth guard then lets it send more than a handshake). */
  onAdmitted: (socket: AgentSocket) => void;
  /** How long a call waits for its answer: each method's own timeout unless a test says. */
  timeouts?: CallTimeouts;
}

/**
 * The `/agents` namespace of berth's Socket.IO server, where node agents
 * connect (cluster mode only: without BERTH_AGENT_TOKEN it does not exist).
 * A CONNECT must carry the agent token — compared in constant time, by
 * digest so that its length does not show either — and say which node it
 * serves (AgentHelloSchema); one try per connection, refusals logged by
 * address without the token, as on the clients' namespace. Owners' and the
 * admin's tokens open nothing here, and the agent token opens nothing on the
 * clients' namespace (ConnectionAuth knows only client tokens).
 * Each agent let in is handed to the registry as an AgentConnection.
 */
export class AgentNamespace {
  readonly #nsp: Namespace;
  readonly #digest: Buffer;
  readonly #o: AgentNamespaceOptions;
  readonly #refusals: ConnectRefusals;
  #closed = false;

  constructor(io: BerthServer, options: AgentNamespaceOptions) {
    this.#o = options;
    this.#digest = digest(options.token);
    // The server's types are the clients' contract; this namespace has its own (agent-link-contract.ts).
    this.#nsp = io.of(AGENTS_NAMESPACE) as unknown as Namespace;
    this.#refusals = new ConnectRefusals(options.log);
    this.#nsp.use(this.#refusals.oneAttempt);
    this.#nsp.use((socket, next) => this.#authenticate(socket as unknown as AgentSocket, next));
    this.#nsp.on("connection", this.#onConnection);
  }

  readonly #authenticate = (socket: AgentSocket, next: (err?: Error) => void) => {
    const auth = socket.handshake.auth as { token?: unknown } | undefined;
    const token = typeof auth?.token === "string" ? auth.token : undefined;
    if (token === undefined || !timingSafeEqual(digest(token), this.#digest))
      return next(
        this.#refusals.refuse(socket, "UNAUTHORIZED", "refused agent connection: bad or missing agent token"),
      );
    const hello = AgentHelloSchema.safeParse(auth);
    if (!hello.success) {
      const fields = hello.error.issues.map((i) => i.path.join(".")).join(", ");
      return next(
        this.#refusals.refuse(socket, "VALIDATION_FAILED", "refused agent connection: a malformed hello", {
          details: { fields },
        }),
      );
    }
    const { token: _, ...identity } = hello.data;
    socket.data = { agent: identity };
    next();
  };

  readonly #onConnection = (raw: unknown) => {
    const socket = raw as AgentSocket;
    if (this.#closed) {
      socket.disconnect(true);
      return;
    }
    const { agent: identity } = socket.data as { agent: AgentConnection["identity"] };
    const log = this.#o.log.child({ node: identity.nodeId, hostname: identity.hostname });
    this.#o.onAdmitted(socket);
    const agent = new AgentConnection(socket, identity, log, this.#o.timeouts);
    this.#o.registry.add(agent);
    log.info({ version: identity.version, address: socket.handshake.address }, "node agent connected");
    socket.on("disconnect", (reason) => {
      this.#o.registry.remove(agent, reason);
      log.info({ reason }, "node agent disconnected");
      // As on the clients' namespace: a connection trusted for this socket's sake goes with it.
      socket.conn.close();
    });
  };

  /** Ends every agent's connection and takes no new one; writes the refusal counts not logged yet. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.registry.close();
    this.#refusals.close();
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
