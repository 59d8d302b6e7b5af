import type { Server as HttpServer } from "node:http";
import type { Namespace } from "socket.io";
import { isAgentCredential } from "../agent-link/agent-credential.ts";
import { AGENTS_NAMESPACE, AgentHelloSchema } from "../agent-link/agent-link-contract.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import {
  AgentConnection,
  type AgentConnectionLimits,
  type AgentSocket,
  type CallTimeouts,
} from "../node-agents/agent-connection.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";
import type { BerthServer } from "./berth-server.ts";
import { ChannelLaneAcceptor } from "./channel-lane-acceptor.ts";
import { ConnectRefusals } from "./connect-refusals.ts";

export interface AgentNamespaceOptions {
  /** BERTH_AGENT_TOKEN: the master key each node's credential is derived from (agent-credential.ts). */
  masterKey: string;
  /** Told each credential that let an agent in, to hide it from every log line (the secret registry). */
  onCredential?: (credential: string) => void;
  registry: AgentRegistry;
  log: SystemLogger;
  /** Told of each connection let in (the pre-auth guard then lets it send more than a handshake). */
  onAdmitted: (socket: AgentSocket) => void;
  /** How long a call waits for its answer: each method's own timeout unless a test says. */
  timeouts?: CallTimeouts;
  /** What one agent connection may hold open (waits, subscriptions): DEFAULT_AGENT_CONNECTION_LIMITS unless a test says. */
  limits?: AgentConnectionLimits;
  /** Whether agents are offered a channel lane (agent-link/channel-lane.ts); default true. */
  channelLanes?: boolean;
}

/**
 * The `/agents` namespace of berth's Socket.IO server, where node agents
 * connect (cluster mode only: without BERTH_AGENT_TOKEN it does not exist).
 * A CONNECT must say which node it serves and carry that node's credential
 * (AgentHelloSchema), derived here from the master key for the node id
 * claimed and compared in constant time, by digest so that its length does
 * not show either: a credential is good for its own node id only, so an
 * agent cannot take another node's calls. One try per connection, refusals
 * logged by address and node id claimed, never with the credential, as on the
 * clients' namespace. Owners' and the admin's tokens, and the master key
 * itself, open nothing here; nothing of this namespace opens the clients'
 * (ConnectionAuth knows only client tokens).
 * Each agent let in is handed to the registry as an AgentConnection, and
 * offered a channel lane for its workloads' channel traffic
 * (ChannelLaneAcceptor), on the same HTTP server.
 */
export class AgentNamespace {
  readonly #nsp: Namespace;
  readonly #o: AgentNamespaceOptions;
  readonly #refusals: ConnectRefusals;
  readonly #lanes: ChannelLaneAcceptor | undefined;
  #closed = false;

  constructor(io: BerthServer, options: AgentNamespaceOptions) {
    this.#o = options;
    // The server's types are the clients' contract; this namespace has its own (agent-link-contract.ts).
    this.#nsp = io.of(AGENTS_NAMESPACE) as unknown as Namespace;
    this.#refusals = new ConnectRefusals(options.log);
    this.#nsp.use(this.#refusals.oneAttempt);
    this.#nsp.use((socket, next) => this.#authenticate(socket as unknown as AgentSocket, next));
    this.#nsp.on("connection", this.#onConnection);
    this.#lanes =
      options.channelLanes === false
        ? undefined
        : // berth's Socket.IO server is on fastify's node:http server (berth-server.ts).
          new ChannelLaneAcceptor(io.httpServer as HttpServer, {
            maxPayloadBytes: io.engine.opts.maxHttpBufferSize ?? 1024 * 1024,
            log: options.log,
          });
  }

  readonly #authenticate = (socket: AgentSocket, next: (err?: Error) => void) => {
    // No credential at all (a client's token, an agent of an older berth): unauthorized, not a malformed hello.
    const auth = socket.handshake.auth as { credential?: unknown } | undefined;
    if (typeof auth?.credential !== "string")
      return next(this.#refusals.refuse(socket, "UNAUTHORIZED", "refused agent connection: no credential"));
    const hello = AgentHelloSchema.safeParse(auth);
    if (!hello.success) {
      const fields = hello.error.issues.map((i) => i.path.join(".")).join(", ");
      return next(
        this.#refusals.refuse(socket, "VALIDATION_FAILED", "refused agent connection: a malformed hello", {
          details: { fields },
        }),
      );
    }
    const { credential, ...identity } = hello.data;
    // Another node's credential, the master key, a guess: the node id claimed goes to the log, not the credential.
    if (!isAgentCredential(this.#o.masterKey, identity.nodeId, credential))
      return next(
        this.#refusals.refuse(
          socket,
          "UNAUTHORIZED",
          "refused agent connection: not the credential of the node id claimed",
          { node: identity.nodeId },
        ),
      );
    this.#o.onCredential?.(credential);
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
    const agent = new AgentConnection(socket, identity, log, this.#o.timeouts, this.#o.limits);
    this.#o.registry.add(agent);
    if (this.#lanes) agent.offerLane(this.#lanes.offer(agent));
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
    this.#lanes?.close();
    this.#o.registry.close();
    this.#refusals.close();
  }
}
