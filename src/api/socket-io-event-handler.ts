import { timingSafeEqual } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import type { ActivityEntry, ClientToServerEvents, ServerToClientEvents } from "#protocol";
import { EVERYONE } from "../activity/activity-entry.ts";
import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { RateLimiter } from "../admission/rate-limiter.ts";
import { ConnectionCounter } from "../auth/connection-counter.ts";
import { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import { actorOf, identityOf } from "../auth/identity.ts";
import type { TokenStore, TokensChange } from "../auth/token-store.ts";
import type { ContainerManager, StatusChange } from "../containers/container-manager.ts";
import type { ImageChecker } from "../images/image-checker.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerTelemetry } from "../monitoring/container-telemetry.ts";
import type { HealthChange, HealthMonitor } from "../monitoring/health-monitor.ts";
import type { CodeUpdater } from "../updates/code-updater.ts";
import { registerActivityHandlers } from "./activity-handlers.ts";
import { registerChannelHandlers } from "./channel-handlers.ts";
import { ConnectRefusals } from "./connect-refusals.ts";
import { ConnectionClosedError, ReadsInFlightError } from "./connection-limit-errors.ts";
import {
  type ConnectionLimits,
  type ConnectionLimitsConfig,
  MAX_READS_IN_FLIGHT,
} from "./connection-limits.ts";
import { registerContainerHandlers } from "./container-handlers.ts";
import type { InterServerEvents, SocketData } from "./contract.ts";
import { EngineOutbound } from "./engine-outbound.ts";
import { registerImageHandlers } from "./image-handlers.ts";
import { InFlightLimit } from "./in-flight-limit.ts";
import { registerMonitoringHandlers } from "./monitoring-handlers.ts";
import { PreAuthGuard } from "./pre-auth-guard.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";
import type { BerthSocket } from "./register-handler.ts";
import { ADMIN_ROOM, messagesRoom, ownerRoom } from "./rooms.ts";
import type { ServerInfoSource } from "./server-info.ts";
import { registerServerInfoHandlers } from "./server-info-handlers.ts";
import { guardSessionRecovery } from "./session-recovery-guard.ts";
import { StatsOverviews } from "./stats-overview.ts";
import { StreamGuard } from "./stream-guard.ts";
import { SubscriptionCap } from "./subscription-cap.ts";
import { Subscriptions } from "./subscriptions.ts";
import { answerUnknownEvents } from "./unknown-events.ts";
import { registerUpdateHandlers } from "./update-handlers.ts";
import type { WorkloadMessaging } from "./workload-messaging.ts";

export type BerthServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface SocketIOEventHandlerOptions {
  httpServer: HttpServer;
  /** Messages and requests to the workloads, and what they send (the channel hub). */
  channel: WorkloadMessaging;
  updater: CodeUpdater;
  /** Resource samples, their history and output of the containers a caller may see. */
  telemetry: ContainerTelemetry;
  activity: UserActivityLogger;
  health: HealthMonitor;
  auth: TokenStore;
  manager: ContainerManager;
  redactor: OwnerRedactors;
  log: SystemLogger;
  maxPayloadBytes: number;
  /** Per-owner rate limits on creates, lifecycle operations and updates; none when left out. */
  rates?: RateLimiter;
  /** Connections per owner at once (0: no cap); the admin is not capped. */
  maxConnectionsPerOwner?: number;
  /**
   * Handshakes per remote address (BERTH_HANDSHAKES_PER_MINUTE): the same limiter
   * as /metrics' failed tries, one budget of token guesses per address; no limit when left out.
   */
  handshakes?: HandshakeLimiter;
  /** Per-connection bounds: bytes buffered for the client, channel calls in flight, subscriptions. */
  limits: ConnectionLimitsConfig;
  /** What `server:info` answers from: version, limits, each owner's own quotas. */
  serverInfo: ServerInfoSource;
  /** Runs `image:check` (the admin's only). */
  images: ImageChecker;
}

/**
 * How long a connection may stay without a successful namespace connect.
 * Socket.IO's default (45 s) lets an unauthenticated peer hold a connection
 * for long; a client that can reach berth sends its CONNECT within a round
 * trip of opening, so 10 s is generous even on a slow mobile link.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The SocketIOEventHandler: authenticates each connection at the handshake,
 * puts it in its owner's room, binds the contract's events to the services,
 * and pushes status changes to the owner's (and admins') connections.
 *
 * Connection state recovery is on: a client that reconnects within two
 * minutes keeps its id, its rooms and the status changes, health changes and
 * activity entries it missed — only with the same token it connected with,
 * and only while that token is in force; telemetry (logs, stats, workload
 * messages) is not kept for it (RecoveryAdapter), and what falls behind on a
 * live connection is dropped and counted (StreamGuard).
 *
 * Before authentication a connection is held to little: handshakes per
 * remote address are rate-limited, it may send PRE_AUTH_MAX_BYTES, and it is
 * closed after CONNECT_TIMEOUT_MS without a successful connect.
 */
export class SocketIOEventHandler {
  readonly io: BerthServer;
  readonly #o: SocketIOEventHandlerOptions;
  readonly #onStatus = (change: StatusChange) => {
    this.#pushStatus(change);
    this.#overviews.follow(change.info);
  };
  readonly #onActivity = (owner: string, entry: ActivityEntry) => {
    if (owner === EVERYONE) this.io.emit("activity_log", entry);
    else this.io.to([ownerRoom(owner), ADMIN_ROOM]).emit("activity_log", entry);
  };
  #closed = false;
  readonly #preAuth: PreAuthGuard;
  readonly #connections: ConnectionCounter;
  readonly #handshakes: HandshakeLimiter;
  readonly #refusals: ConnectRefusals;

  constructor(options: SocketIOEventHandlerOptions) {
    this.#o = options;
    this.#connections = new ConnectionCounter(options.maxConnectionsPerOwner ?? 0);
    this.#handshakes = options.handshakes ?? new HandshakeLimiter({ perMinute: 0 });
    this.#subscriptionCap = new SubscriptionCap(options.limits.maxSubscriptions, this.#subscriptions);
    this.io = new Server(options.httpServer, {
      // One transport limit for authenticated connections; a message above it closes that connection
      // (Socket.IO's own behaviour). Before authentication the PreAuthGuard holds a connection to far less.
      maxHttpBufferSize: options.maxPayloadBytes,
      // Middlewares run for recovered sessions too: the connection cap counts them, and the token is checked
      // again (the session recovery guard below has already made sure it is the session's own token).
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
      connectTimeout: CONNECT_TIMEOUT_MS,
      allowRequest: (req, callback) => {
        if (this.#handshakes.allow(req.socket.remoteAddress)) return callback(null, true);
        callback("too many handshakes from this address", false);
      },
      adapter: RecoveryAdapter,
      serveClient: false,
      cors: { origin: false },
    });
    this.#preAuth = new PreAuthGuard(options.httpServer, { pollingLimitAfterAuth: options.maxPayloadBytes });
    this.io.engine.on("connection", this.#preAuth.onEngineConnection);
    // A session is restored only for the token it was made with, while that token is in force for the same
    // identity (a token moved to another owner in the tokens file does not carry the session along).
    guardSessionRecovery(this.io.of("/"), (token, session) => {
      const credential = options.auth.authenticate(token);
      if (!credential || session.tokenDigest?.length !== credential.digest.length) return false;
      const actor = actorOf(credential.identity);
      return (
        timingSafeEqual(credential.digest, session.tokenDigest) &&
        actor.admin === session.admin &&
        actor.owner === session.owner
      );
    });
    // One try at the token per connection: a refused CONNECT closes it (see ConnectRefusals).
    this.#refusals = new ConnectRefusals(options.log);
    this.io.use(this.#refusals.oneAttempt);
    this.io.use((socket, next) => {
      const credential = options.auth.authenticate(
        (socket.handshake.auth as { token?: unknown } | undefined)?.token,
      );
      if (!credential)
        return next(
          this.#refusals.refuse(socket, "UNAUTHORIZED", "refused connection: bad or missing token"),
        );
      const actor = actorOf(credential.identity);
      if (!actor.admin) {
        const release = this.#connections.take(actor.owner);
        if (!release) {
          const refusal = "refused connection: the owner is at its connection cap";
          const details = { limit: options.maxConnectionsPerOwner };
          return next(
            this.#refusals.refuse(socket, "TOO_MANY_CONNECTIONS", refusal, { owner: actor.owner, details }),
          );
        }
        // Given back once, whether the socket disconnects later or its connection closes before it connects.
        socket.once("disconnect", release);
        socket.conn.once("close", release);
      }
      socket.data = { ...actor, tokenDigest: credential.digest };
      next();
    });
    options.auth.on("changed", this.#onTokensChanged);
    this.io.on("connection", (socket) => {
      this.#preAuth.trust(socket.conn);
      const log = options.log.child({ connection: socket.id, owner: socket.data.owner });
      if (!socket.recovered) {
        socket.join(socket.data.admin ? ADMIN_ROOM : ownerRoom(socket.data.owner));
        log.info({ admin: socket.data.admin }, "client connected");
      } else {
        log.info("client reconnected with its state");
      }
      const limits = this.#limitsFor(socket, log);
      registerContainerHandlers(
        socket,
        options.manager,
        { log, redactor: options.redactor, rates: options.rates },
        limits,
      );
      registerChannelHandlers(
        socket,
        options.manager,
        options.channel,
        { log, redactor: options.redactor },
        limits,
      );
      registerUpdateHandlers(socket, options.updater, {
        log,
        redactor: options.redactor,
        rates: options.rates,
      });
      registerMonitoringHandlers(
        socket,
        {
          telemetry: options.telemetry,
          manager: options.manager,
          subscriptions: this.#subscriptions,
          overviews: this.#overviews,
        },
        { log, redactor: options.redactor },
        limits,
      );
      registerActivityHandlers(
        socket,
        options.activity,
        options.manager,
        { log, redactor: options.redactor },
        limits,
      );
      registerServerInfoHandlers(socket, options.serverInfo, { log, redactor: options.redactor });
      registerImageHandlers(socket, options.images, { log, redactor: options.redactor });
      answerUnknownEvents(socket, { log, redactor: options.redactor });
      socket.on("disconnect", (reason) => {
        log.info({ reason }, "client disconnected");
        // berth has one namespace, and the engine connection is trusted (and counted toward its owner's
        // cap) only because of its socket there: a client that leaves the namespace but keeps the engine
        // connection open would hold an uncounted, trusted connection. Closing it is a no-op when it is
        // already closing (transport close, server disconnect).
        socket.conn.close();
      });
    });
    options.manager.on("statusChanged", this.#onStatus);
    options.manager.on("statusChanged", this.#onDeleted);
    options.activity.on("entry", this.#onActivity);
    options.health.on("change", this.#onHealth);
    options.channel.on("message", this.#onMessage);
  }

  /** A revoked token's connections are told and closed at once; connections with other tokens are left alone. */
  readonly #onTokensChanged = (change: TokensChange) => {
    for (const socket of this.io.of("/").sockets.values()) {
      if (this.#o.auth.isCurrent({ identity: identityOf(socket.data), digest: socket.data.tokenDigest }))
        continue;
      this.#o.log.info(
        { connection: socket.id, owner: socket.data.owner, revoked: change.revoked.length },
        "closing connection: its token was revoked",
      );
      socket.emit("session:revoked", { reason: "token_revoked", ts: Date.now() });
      socket.disconnect(true);
    }
  };

  readonly #onMessage = (id: string, data: unknown, ts: number) => {
    const room = messagesRoom(id);
    const members = this.io.sockets.adapter.rooms.get(room);
    if (!members) return;
    // Encoded once for the whole room; the subscribers that are behind are left out (and count it).
    const behind: string[] = [];
    for (const socketId of members) {
      if (this.#guards.get(socketId)?.admit(id, "messages") === false) behind.push(socketId);
    }
    if (behind.length === 0) this.io.to(room).emit("container:message", { id, data, ts });
    else if (behind.length < members.size)
      this.io.to(room).except(behind).emit("container:message", { id, data, ts });
  };

  /** Each connection's StreamGuard, by socket id (for the pushes that go to rooms). */
  readonly #guards = new Map<string, StreamGuard>();

  #limitsFor(socket: BerthSocket, log: SystemLogger): ConnectionLimits {
    const closed = new AbortController();
    socket.once("disconnect", () => closed.abort(new ConnectionClosedError()));
    const outbound = new EngineOutbound(socket.conn);
    const guard = new StreamGuard(outbound, this.#o.limits, {
      notify: (event) => socket.emit("container:dropped", event),
      disconnect: (report) => {
        log.warn(
          { ...report, graceMs: this.#o.limits.graceMs },
          "disconnected a client that does not read: over its buffer bound",
        );
        socket.disconnect(true);
        outbound.terminate();
      },
    });
    this.#guards.set(socket.id, guard);
    socket.on("disconnect", () => {
      guard.close();
      outbound.close();
      if (this.#guards.get(socket.id) === guard) this.#guards.delete(socket.id);
    });
    return {
      closed: closed.signal,
      guard,
      inFlight: new InFlightLimit(this.#o.limits.maxRequestsInFlight),
      reads: new InFlightLimit(MAX_READS_IN_FLIGHT, (max) => new ReadsInFlightError(max)),
      subscriptions: this.#subscriptionCap,
    };
  }

  /** Bytes buffered now for the connection `socketId` (undefined when it is not connected). */
  bufferedBytes(socketId: string): number | undefined {
    return this.#guards.get(socketId)?.bufferedBytes;
  }

  /** Packets stored for connection-state recovery now. */
  get recoveryPackets(): number {
    return (this.io.of("/").adapter as unknown as RecoveryAdapter).storedPackets;
  }

  readonly #subscriptions = new Subscriptions();
  readonly #subscriptionCap: SubscriptionCap;
  readonly #overviews = new StatsOverviews();

  readonly #onDeleted = (change: StatusChange) => {
    // A deleted container's subscribers are let go; a new container never inherits them.
    if (change.info.state !== "removing") return;
    this.io.socketsLeave(messagesRoom(change.info.id));
    this.#subscriptions.removeContainer(change.info.id);
  };

  /** Health changes being pushed, one after the other: each first reads whose container it is. */
  #healthPushes: Promise<void> = Promise.resolve();

  readonly #onHealth = (change: HealthChange) => {
    this.#healthPushes = this.#healthPushes.then(async () => {
      const record = await this.#o.manager.findById(change.id).catch(() => undefined);
      if (!record) return;
      this.io.to([ownerRoom(record.owner), ADMIN_ROOM]).emit("container:health_changed", {
        id: change.id,
        name: record.name,
        health: change.health,
        previous: change.previous,
        reason: change.reason,
        ts: Date.now(),
      });
    });
  };

  #pushStatus({ info, from, reason, oomKilled }: StatusChange): void {
    const event = {
      id: info.id,
      name: info.name,
      from,
      to: info.state,
      health: info.health,
      ...(info.exitCode === undefined ? {} : { exitCode: info.exitCode }),
      ...(oomKilled ? { oomKilled } : {}),
      startedAt: info.startedAt,
      restartCount: info.restartCount,
      reason,
      ts: Date.now(),
    };
    this.io.to([ownerRoom(info.owner), ADMIN_ROOM]).emit("container:status_changed", event);
  }

  /** Stats watches and log follows that connections hold open right now. */
  get activeSubscriptions(): number {
    return this.#subscriptions.size;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.manager.off("statusChanged", this.#onStatus);
    this.#o.activity.off("entry", this.#onActivity);
    this.#o.health.off("change", this.#onHealth);
    this.#o.channel.off("message", this.#onMessage);
    this.#o.manager.off("statusChanged", this.#onDeleted);
    this.#o.auth.off("changed", this.#onTokensChanged);
    this.#preAuth.close();
    this.#refusals.close();
    this.#subscriptions.closeAll();
    this.io.disconnectSockets(true);
    // io.close() would also close the shared HTTP server; fastify owns that, so only the engine is closed here.
    this.io.engine.close();
  }
}
