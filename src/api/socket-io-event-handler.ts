import type { Server as HttpServer } from "node:http";
import { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import type { TokenStore } from "../auth/token-store.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { HealthMonitor } from "../monitoring/health-monitor.ts";
import type { AgentRegistry } from "../node-agents/agent-registry.ts";
import { AgentNamespace } from "./agent-namespace.ts";
import {
  type BerthServer,
  closeBerthServer,
  createBerthServer,
  storedRecoveryPackets,
} from "./berth-server.ts";
import type { FanOut } from "./cluster-sessions.ts";
import { ConnectionAuth } from "./connection-auth.ts";
import { ConnectionBounds } from "./connection-bounds.ts";
import { type HandlerServices, registerConnectionHandlers } from "./connection-handlers.ts";
import type { ConnectionLimitsConfig } from "./connection-limits.ts";
import { PreAuthGuard } from "./pre-auth-guard.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";
import type { BerthSocket } from "./register-handler.ts";
import { ADMIN_ROOM, ownerRoom } from "./rooms.ts";
import { ServerPushes } from "./server-pushes.ts";
import { forgetWhenEndedForGood } from "./session-end.ts";
import { SessionKeeper } from "./session-keeper.ts";
import { StatsOverviews } from "./stats-overview.ts";
import { Subscriptions } from "./subscriptions.ts";
import { TokenRevocation } from "./token-revocation.ts";

export interface SocketIOEventHandlerOptions extends HandlerServices {
  httpServer: HttpServer;
  health: HealthMonitor;
  auth: TokenStore;
  log: SystemLogger;
  maxPayloadBytes: number;
  /** Connections per owner at once (0: no cap); the admin is not capped. */
  maxConnectionsPerOwner?: number;
  /**
   * Handshakes per remote address (BERTH_HANDSHAKES_PER_MINUTE): the same limiter
   * as /metrics' failed tries, one budget of token guesses per address; no limit when left out.
   */
  handshakes?: HandshakeLimiter;
  /** Per-connection bounds: bytes buffered for the client, channel calls in flight, subscriptions. */
  limits: ConnectionLimitsConfig;
  /**
   * Cluster mode: node agents connect to the `/agents` namespace, each with its node's credential
   * derived from this master key, into this registry; each credential that let one in is told to
   * `onCredential`; `channelLanes`: whether they are offered a channel lane (default true). Left out
   * (single-host mode), the namespace does not exist.
   */
  agents?:
    | {
        masterKey: string;
        registry: AgentRegistry;
        onCredential?: (credential: string) => void;
        channelLanes?: boolean;
      }
    | undefined;
  /**
   * Fan-out across API servers (BERTH_REDIS_URL): the cluster adapter that
   * carries pushes and sessions to the other servers, and those sessions.
   * Without it, this server's memory holds them.
   */
  fanOut?: FanOut | undefined;
}

/**
 * The SocketIOEventHandler: authenticates each connection at the handshake,
 * puts it in its owner's room, binds the contract's events to the services,
 * and pushes status changes to the owner's (and admins') connections. It
 * puts together the parts that do each:
 * - createBerthServer: the Socket.IO server and its transport settings;
 * - PreAuthGuard: what a connection may send before it is authenticated;
 * - ConnectionAuth: the token at the handshake and at a session's recovery, the connection cap;
 * - TokenRevocation: a revoked token's connections closed at once;
 * - ConnectionBounds and registerConnectionHandlers: each connection's bounds, and its events bound to the services;
 * - ServerPushes: the services' events pushed to the rooms that may see them.
 *
 * Connection state recovery is on: a client that reconnects within two
 * minutes keeps its id, its rooms and the status changes, health changes and
 * activity entries it missed — only with the same token it connected with,
 * and only while that token is in force; telemetry (logs, stats, workload
 * messages) is not kept for it (RecoveryAdapter), and what falls behind on a
 * live connection is dropped and counted (StreamGuard). With fan-out
 * (BERTH_REDIS_URL) the pushes and sessions go through Redis, so a client
 * recovers its session on any API server, and telemetry stays on the server
 * it is emitted on (keepTelemetryLocal).
 *
 * Before authentication a connection is held to little: handshakes per
 * remote address are rate-limited, it may send PRE_AUTH_MAX_BYTES, and it is
 * closed after a connect timeout without a successful connect.
 */
export class SocketIOEventHandler {
  readonly io: BerthServer;
  readonly #services: HandlerServices;
  readonly #log: SystemLogger;
  readonly #subscriptions = new Subscriptions();
  readonly #overviews = new StatsOverviews();
  readonly #preAuth: PreAuthGuard;
  readonly #connectionAuth: ConnectionAuth;
  readonly #revocation: TokenRevocation;
  readonly #bounds: ConnectionBounds;
  readonly #pushes: ServerPushes;
  readonly #agents: AgentNamespace | undefined;
  readonly #handOver: boolean;
  /** With fan-out: every connection's session kept in Redis while it lasts, for a server that is killed. */
  readonly #sessions: SessionKeeper | undefined;
  #closed = false;

  constructor(options: SocketIOEventHandlerOptions) {
    this.#services = options;
    this.#log = options.log;
    this.#bounds = new ConnectionBounds(options.limits, this.#subscriptions);
    this.io = createBerthServer(options.httpServer, {
      maxPayloadBytes: options.maxPayloadBytes,
      handshakes: options.handshakes ?? new HandshakeLimiter({ perMinute: 0 }),
      fanOut: options.fanOut?.adapter,
    });
    // Among other API servers, a closing one hands its clients over to them with their sessions,
    // and one killed has kept them all along.
    this.#handOver = options.fanOut !== undefined;
    this.#sessions = options.fanOut ? new SessionKeeper(this.io, options.fanOut) : undefined;
    this.#preAuth = new PreAuthGuard(options.httpServer, { pollingLimitAfterAuth: options.maxPayloadBytes });
    this.io.engine.on("connection", this.#preAuth.onEngineConnection);
    this.#connectionAuth = new ConnectionAuth(this.io, {
      auth: options.auth,
      log: options.log,
      maxConnectionsPerOwner: options.maxConnectionsPerOwner ?? 0,
      sessions: options.fanOut,
    });
    this.#revocation = new TokenRevocation(this.io, options.auth, options.log);
    this.#agents =
      options.agents &&
      new AgentNamespace(this.io, {
        ...options.agents,
        log: options.log,
        onAdmitted: (socket) => this.#preAuth.trust(socket.conn),
      });
    this.io.on("connection", this.#onConnection);
    this.#pushes = new ServerPushes(this.io, {
      manager: options.manager,
      activity: options.activity,
      health: options.health,
      channel: options.channel,
      redactor: options.redactor,
      subscriptions: this.#subscriptions,
      overviews: this.#overviews,
      guardOf: (socketId) => this.#bounds.guardOf(socketId),
    });
  }

  readonly #onConnection = (socket: BerthSocket) => {
    this.#preAuth.trust(socket.conn);
    const log = this.#log.child({ connection: socket.id, owner: socket.data.owner });
    if (!socket.recovered) {
      // In-memory rooms: joined at once (the adapter answers a promise only in a cluster).
      void socket.join(socket.data.admin ? ADMIN_ROOM : ownerRoom(socket.data.owner));
      log.info({ admin: socket.data.admin }, "client connected");
    } else {
      log.info("client reconnected with its state");
    }
    if (this.#sessions) this.#sessions.keep(socket);
    else {
      // Alone: the in-memory adapter still holds the session of an earlier recovery (SessionKeeper forgets with fan-out).
      const adapter = this.io.of("/").adapter;
      if (adapter instanceof RecoveryAdapter)
        forgetWhenEndedForGood(socket, (pid) => adapter.forgetSession(pid));
    }
    const limits = this.#bounds.setUp(socket, log);
    const watches = { subscriptions: this.#subscriptions, overviews: this.#overviews };
    registerConnectionHandlers(socket, this.#services, watches, limits, log);
    socket.on("disconnect", (reason) => {
      log.info({ reason }, "client disconnected");
      // berth has one namespace, and the engine connection is trusted (and counted toward its owner's
      // cap) only because of its socket there: a client that leaves the namespace but keeps the engine
      // connection open would hold an uncounted, trusted connection. Closing it is a no-op when it is
      // already closing (transport close, server disconnect).
      socket.conn.close();
    });
  };

  /** Bytes buffered now for the connection `socketId` (undefined when it is not connected). */
  bufferedBytes(socketId: string): number | undefined {
    return this.#bounds.bufferedBytes(socketId);
  }

  /** Packets stored for connection-state recovery now. */
  get recoveryPackets(): number {
    return storedRecoveryPackets(this.io);
  }

  /** Stats watches and log follows that connections hold open right now. */
  get activeSubscriptions(): number {
    return this.#subscriptions.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pushes.close();
    this.#agents?.close();
    this.#sessions?.close();
    this.#revocation.close();
    this.#preAuth.close();
    this.#connectionAuth.close();
    this.#subscriptions.closeAll();
    closeBerthServer(this.io, { handOver: this.#handOver });
  }
}
