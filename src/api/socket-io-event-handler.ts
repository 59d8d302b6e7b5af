import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import { type ActivityEntry, EVERYONE } from "../activity/activity-entry.ts";
import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import type { ContainerManager, StatusChange } from "../containers/container-manager.ts";
import type { Redactor } from "../logging/redactor.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { HealthChange, HealthMonitor } from "../monitoring/health-monitor.ts";
import type { CodeUpdater } from "../updates/code-updater.ts";
import { registerActivityHandlers } from "./activity-handlers.ts";
import type { TokenAuthenticator } from "./auth.ts";
import { registerChannelHandlers } from "./channel-handlers.ts";
import type { ConnectionLimits, ConnectionLimitsConfig } from "./connection-limits.ts";
import { registerContainerHandlers } from "./container-handlers.ts";
import type {
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from "./contract.ts";
import { EngineOutbound } from "./engine-outbound.ts";
import { InFlightLimit } from "./in-flight-limit.ts";
import { type MonitoringServices, registerMonitoringHandlers } from "./monitoring-handlers.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";
import type { BerthSocket } from "./register-handler.ts";
import { ADMIN_ROOM, messagesRoom, ownerRoom } from "./rooms.ts";
import { StatsOverviews } from "./stats-overview.ts";
import { StreamGuard } from "./stream-guard.ts";
import { SubscriptionCap } from "./subscription-cap.ts";
import { Subscriptions } from "./subscriptions.ts";
import { registerUpdateHandlers } from "./update-handlers.ts";

export type BerthServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface SocketIOEventHandlerOptions {
  httpServer: HttpServer;
  channel: SocketCommunicationHandler;
  updater: CodeUpdater;
  monitoring: Omit<MonitoringServices, "subscriptions" | "manager" | "overviews">;
  activity: UserActivityLogger;
  health: HealthMonitor;
  auth: TokenAuthenticator;
  manager: ContainerManager;
  redactor: Redactor;
  log: SystemLogger;
  maxPayloadBytes: number;
  /** Per-connection bounds: bytes buffered for the client, channel calls in flight, subscriptions. */
  limits: ConnectionLimitsConfig;
}

/**
 * The SocketIOEventHandler: authenticates each connection at the handshake,
 * puts it in its owner's room, binds the contract's events to the services,
 * and pushes status changes to the owner's (and admins') connections.
 *
 * Connection state recovery is on: a client that reconnects within two
 * minutes keeps its id, its rooms and the status changes, health changes and
 * activity entries it missed; telemetry (logs, stats, workload messages) is
 * not kept for it (RecoveryAdapter), and what falls behind on a live
 * connection is dropped and counted (StreamGuard).
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

  constructor(options: SocketIOEventHandlerOptions) {
    this.#o = options;
    this.#subscriptionCap = new SubscriptionCap(options.limits.maxSubscriptions, this.#subscriptions);
    this.io = new Server(options.httpServer, {
      // One transport limit for everything; a message above it closes that connection (Socket.IO's own behaviour).
      maxHttpBufferSize: options.maxPayloadBytes,
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true },
      adapter: RecoveryAdapter,
      serveClient: false,
      cors: { origin: false },
    });
    this.io.use((socket, next) => {
      const identity = options.auth.authenticate(
        (socket.handshake.auth as { token?: unknown } | undefined)?.token,
      );
      if (!identity) {
        const err = new Error("A valid token is required.") as Error & { data: unknown };
        err.data = { code: "UNAUTHORIZED", category: "auth", retryable: false };
        options.log.info({ address: socket.handshake.address }, "refused connection: bad or missing token");
        return next(err);
      }
      socket.data = identity;
      next();
    });
    this.io.on("connection", (socket) => {
      const log = options.log.child({ connection: socket.id, owner: socket.data.owner });
      if (!socket.recovered) {
        socket.join(socket.data.admin ? ADMIN_ROOM : ownerRoom(socket.data.owner));
        log.info({ admin: socket.data.admin }, "client connected");
      } else {
        log.info("client reconnected with its state");
      }
      registerContainerHandlers(socket, options.manager, { log, redactor: options.redactor });
      const limits = this.#limitsFor(socket, log);
      registerChannelHandlers(
        socket,
        options.manager,
        options.channel,
        { log, redactor: options.redactor },
        limits,
      );
      registerUpdateHandlers(socket, options.updater, { log, redactor: options.redactor });
      registerMonitoringHandlers(
        socket,
        {
          ...options.monitoring,
          manager: options.manager,
          subscriptions: this.#subscriptions,
          overviews: this.#overviews,
        },
        { log, redactor: options.redactor },
        limits,
      );
      registerActivityHandlers(socket, options.activity, options.manager, {
        log,
        redactor: options.redactor,
      });
      socket.on("disconnect", (reason) => log.info({ reason }, "client disconnected"));
    });
    options.manager.on("statusChanged", this.#onStatus);
    options.manager.on("statusChanged", this.#onDeleted);
    options.activity.on("entry", this.#onActivity);
    options.health.on("change", this.#onHealth);
    options.channel.on("message", this.#onMessage);
  }

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
      guard,
      inFlight: new InFlightLimit(this.#o.limits.maxRequestsInFlight),
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

  readonly #onHealth = (change: HealthChange) => {
    const record = this.#o.manager.findById(change.id);
    if (!record) return;
    this.io.to([ownerRoom(record.owner), ADMIN_ROOM]).emit("container:health_changed", {
      id: change.id,
      name: record.name,
      health: change.health,
      previous: change.previous,
      reason: change.reason,
      ts: Date.now(),
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
    this.#subscriptions.closeAll();
    this.io.disconnectSockets(true);
    // io.close() would also close the shared HTTP server; fastify owns that, so only the engine is closed here.
    this.io.engine.close();
  }
}
