import type { ActivityEntry } from "#protocol";
import { EVERYONE } from "../activity/activity-entry.ts";
import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { ContainerManager, StatusChange } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { HealthChange, HealthMonitor } from "../monitoring/health-monitor.ts";
import type { BerthServer } from "./berth-server.ts";
import { ADMIN_ROOM, messagesRoom, ownerRoom } from "./rooms.ts";
import type { StatsOverviews } from "./stats-overview.ts";
import type { StreamGuard } from "./stream-guard.ts";
import type { Subscriptions } from "./subscriptions.ts";
import type { WorkloadMessaging } from "./workload-messaging.ts";

export interface ServerPushesSources {
  manager: ContainerManager;
  activity: UserActivityLogger;
  health: HealthMonitor;
  /** Messages the workloads send. */
  channel: WorkloadMessaging;
  /** A health reason may quote the workload (a failed check's answer): hidden for its owner as everything else is. */
  redactor: Pick<OwnerRedactors, "forOwner">;
  /** Let go of a deleted container's watches and follows. */
  subscriptions: Subscriptions;
  /** Told every status change, to sample the containers that run. */
  overviews: StatsOverviews;
  /** The StreamGuard of a connected socket: a connection that is behind is left out of a room's message. */
  guardOf: (socketId: string) => StreamGuard | undefined;
}

/**
 * What berth pushes without being asked, from the services' events to the
 * rooms of the connections that may see it: status and health changes and
 * activity entries to the owner's connections and the admins' (an entry for
 * everyone to all), workload messages to their subscribers. A deleted
 * container's subscribers are let go.
 */
export class ServerPushes {
  readonly #io: BerthServer;
  readonly #sources: ServerPushesSources;

  constructor(io: BerthServer, sources: ServerPushesSources) {
    this.#io = io;
    this.#sources = sources;
    sources.manager.on("statusChanged", this.#onStatus);
    sources.manager.on("statusChanged", this.#onDeleted);
    sources.activity.on("entry", this.#onActivity);
    sources.health.on("change", this.#onHealth);
    sources.channel.on("message", this.#onMessage);
  }

  readonly #onStatus = (change: StatusChange) => {
    this.#pushStatus(change);
    this.#sources.overviews.follow(change.info);
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
    this.#io.to([ownerRoom(info.owner), ADMIN_ROOM]).emit("container:status_changed", event);
  }

  readonly #onDeleted = (change: StatusChange) => {
    // A deleted container's subscribers are let go; a new container never inherits them.
    if (change.info.state !== "removing") return;
    this.#io.socketsLeave(messagesRoom(change.info.id));
    this.#sources.subscriptions.removeContainer(change.info.id);
  };

  readonly #onActivity = (owner: string, entry: ActivityEntry) => {
    if (owner === EVERYONE) this.#io.emit("activity_log", entry);
    else this.#io.to([ownerRoom(owner), ADMIN_ROOM]).emit("activity_log", entry);
  };

  readonly #onHealth = (change: HealthChange) => {
    // Pushed in the same turn as the change, with nothing read from the store: the lifecycle answers with
    // the health this change says (ContainerManager.noteHealth, on the same event), and an answer must not
    // reach a client before the push it reflects — with a store that answers later (PostgreSQL), a read here
    // would let a create's answer overtake its own health_changed.
    const reason = this.#sources.redactor.forOwner(change.owner).redactString(change.reason);
    this.#io.to([ownerRoom(change.owner), ADMIN_ROOM]).emit("container:health_changed", {
      id: change.id,
      name: change.name,
      health: change.health,
      previous: change.previous,
      reason,
      ts: Date.now(),
    });
  };

  readonly #onMessage = (id: string, data: unknown, ts: number) => {
    const room = messagesRoom(id);
    const members = this.#io.sockets.adapter.rooms.get(room);
    if (!members) return;
    // Encoded once for the whole room; the subscribers that are behind are left out (and count it).
    const behind: string[] = [];
    for (const socketId of members) {
      if (this.#sources.guardOf(socketId)?.admit(id, "messages") === false) behind.push(socketId);
    }
    // This server's subscribers only (`local`): with fan-out, every API server gets the workload's messages
    // itself, and they must not go through Redis's recovery stream (keepTelemetryLocal).
    if (behind.length === 0) this.#io.local.to(room).emit("container:message", { id, data, ts });
    else if (behind.length < members.size)
      this.#io.local.to(room).except(behind).emit("container:message", { id, data, ts });
  };

  /** Stops pushing: the services' events are no longer listened to. */
  close(): void {
    const { manager, activity, health, channel } = this.#sources;
    manager.off("statusChanged", this.#onStatus);
    manager.off("statusChanged", this.#onDeleted);
    activity.off("entry", this.#onActivity);
    health.off("change", this.#onHealth);
    channel.off("message", this.#onMessage);
  }
}
