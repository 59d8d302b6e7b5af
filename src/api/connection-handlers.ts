import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { RateGate } from "../admission/rate-limiter.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { ImageChecker } from "../images/image-checker.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerTelemetry } from "../monitoring/container-telemetry.ts";
import type { CodeUpdater } from "../updates/code-updater.ts";
import { registerActivityHandlers } from "./activity-handlers.ts";
import { registerChannelHandlers } from "./channel-handlers.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { registerContainerHandlers } from "./container-handlers.ts";
import { registerImageHandlers } from "./image-handlers.ts";
import { registerMonitoringHandlers } from "./monitoring-handlers.ts";
import type { BerthSocket } from "./register-handler.ts";
import type { ServerInfoSource } from "./server-info.ts";
import { registerServerInfoHandlers } from "./server-info-handlers.ts";
import type { StatsOverviews } from "./stats-overview.ts";
import type { Subscriptions } from "./subscriptions.ts";
import { answerUnknownEvents } from "./unknown-events.ts";
import { registerUpdateHandlers } from "./update-handlers.ts";
import type { WorkloadMessaging } from "./workload-messaging.ts";

/** The services the events of a connection are bound to. */
export interface HandlerServices {
  /** Messages and requests to the workloads, and what they send (the channel hub). */
  channel: WorkloadMessaging;
  updater: CodeUpdater;
  /** Resource samples, their history and output of the containers a caller may see. */
  telemetry: ContainerTelemetry;
  activity: UserActivityLogger;
  manager: ContainerManager;
  redactor: OwnerRedactors;
  /** Per-owner rate limits on creates, lifecycle operations and updates; none when left out. */
  rates?: RateGate;
  /** What `server:info` answers from: version, limits, each owner's own quotas. */
  serverInfo: ServerInfoSource;
  /** Runs `image:check` (the admin's only). */
  images: ImageChecker;
}

/** What every connection shares: who watches what, and the stats overviews being sampled. */
export interface SharedWatches {
  subscriptions: Subscriptions;
  overviews: StatsOverviews;
}

/**
 * Binds every event of the contract on `socket` to its service, feature by
 * feature, each under the connection's bounds; an event the contract does not
 * know is answered as such.
 */
export function registerConnectionHandlers(
  socket: BerthSocket,
  services: HandlerServices,
  watches: SharedWatches,
  limits: ConnectionLimits,
  log: SystemLogger,
): void {
  const { manager, redactor, rates } = services;
  registerContainerHandlers(socket, manager, { log, redactor, rates }, limits);
  registerChannelHandlers(socket, manager, services.channel, { log, redactor }, limits);
  registerUpdateHandlers(socket, services.updater, { log, redactor, rates });
  registerMonitoringHandlers(
    socket,
    { telemetry: services.telemetry, manager, ...watches },
    { log, redactor },
    limits,
  );
  registerActivityHandlers(socket, services.activity, manager, { log, redactor }, limits);
  registerServerInfoHandlers(socket, services.serverInfo, { log, redactor });
  registerImageHandlers(socket, services.images, { log, redactor });
  answerUnknownEvents(socket, { log, redactor });
}
