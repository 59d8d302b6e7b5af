import type { ContainerManager } from "../containers/container-manager.ts";
import { MAX_LIST_LIMIT } from "../containers/list-containers.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerTelemetry } from "../monitoring/container-telemetry.ts";
import { ConnectionClosedError } from "./connection-limit-errors.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";
import { StatsOverview, type StatsOverviews } from "./stats-overview.ts";
import { OVERVIEW_KEY, Subscriptions } from "./subscriptions.ts";

const DEFAULT_STATS_INTERVAL_MS = 1_000;

export interface MonitoringServices {
  /** Lists the running containers an overview starts with. */
  manager: Pick<ContainerManager, "list">;
  /** Samples, the short history (`*:stats_history`) and output of the containers a caller may see. */
  telemetry: ContainerTelemetry;
  subscriptions: Subscriptions;
  overviews: StatsOverviews;
}

/** The Subscriptions key of a connection's overview (no container id ends with it). */

/**
 * Resource usage and output: one-off reads (`container:stats`,
 * `container:logs`) and streams that belong to the connection that asked
 * (`container:watch_stats` → `container:resource_usage`,
 * `container:follow_logs` → `container:log`), stopped when it asks, when it
 * disconnects, or when the container is deleted. One sampler serves every
 * watcher of a container. What the streams push passes the connection's
 * StreamGuard (dropped and counted while the client does not keep up), and
 * the connection's watches and follows count toward its SubscriptionCap.
 * One-off reads run under the connection's cap on reads under way
 * (MAX_READS_IN_FLIGHT), so that many at once cannot each hold a large
 * answer; a log answer is itself capped (MAX_LOG_ANSWER_BYTES).
 */
export function registerMonitoringHandlers(
  socket: BerthSocket,
  services: MonitoringServices,
  context: { log: SystemLogger; redactor: OwnerRedactors },
  limits: Pick<ConnectionLimits, "closed" | "guard" | "reads" | "subscriptions" | "inOrder">,
): void {
  const { guard } = limits;
  const { manager, telemetry, subscriptions, overviews } = services;

  registerHandler(
    socket,
    "container:stats",
    // The cap is taken as the event arrives, before the container is looked up, as every large read does.
    (p, actor) => limits.reads.run(async () => (await telemetry.container(actor, p.id)).usage()),
    context,
  );
  registerHandler(
    socket,
    "container:watch_stats",
    (p, actor) =>
      limits.inOrder.run(`stats:${p.id}`, async () => {
        const { id, watch } = await telemetry.container(actor, p.id);
        const intervalMs = p.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
        const key = Subscriptions.key("stats", id);
        return limits.subscriptions.open(socket, key, () => {
          const stop = watch(intervalMs, (sample) => {
            if (guard.admit(id, "stats")) socket.emit("container:resource_usage", { id, ...sample.usage });
          });
          subscriptions.add(socket.id, key, stop);
          return { id, intervalMs };
        });
      }),
    context,
  );
  registerHandler(
    socket,
    "container:unwatch_stats",
    (p, actor) =>
      limits.inOrder.run(`stats:${p.id}`, async () => {
        const { id } = await telemetry.container(actor, p.id);
        subscriptions.remove(socket.id, Subscriptions.key("stats", id));
        return { id, watching: false as const };
      }),
    context,
  );
  registerHandler(
    socket,
    "containers:watch_stats",
    (p, actor) =>
      limits.inOrder.run("overview", async () => {
        const intervalMs = p.intervalMs ?? DEFAULT_STATS_INTERVAL_MS;
        const overview = new StatsOverview({
          actor,
          intervalMs,
          watch: (id, ms, listener) => telemetry.watchById(id, ms, listener),
          push: (event) => {
            const ids = event.samples.map((sample) => sample.id);
            if (guard.admitAll(ids, "stats")) socket.emit("containers:resource_usage", event);
          },
        });
        // The new overview starts its watches before the one it replaces stops its own, so that the
        // sampler keeps what it knows of containers both watch (open files, CPU baseline).
        try {
          let cursor: string | undefined;
          do {
            const page = await manager.list(actor, {
              filter: { state: "running" },
              limit: MAX_LIST_LIMIT,
              ...(cursor === undefined ? {} : { cursor }),
            });
            for (const info of page.items) overview.follow(info);
            cursor = page.nextCursor;
          } while (cursor !== undefined);
          // The list waited on the store; a connection that left meanwhile has already given back everything
          // it held, so an overview registered now would follow every later container for nobody.
          if (limits.closed.aborted || !socket.connected) throw new ConnectionClosedError();
        } catch (err) {
          overview.close();
          throw err;
        }
        subscriptions.add(socket.id, OVERVIEW_KEY, () => overviews.delete(socket.id, overview));
        overviews.set(socket.id, overview);
        return { intervalMs, containers: overview.size };
      }),
    context,
  );
  registerHandler(
    socket,
    "containers:unwatch_stats",
    () =>
      limits.inOrder.run("overview", () => {
        subscriptions.remove(socket.id, OVERVIEW_KEY);
        return { watching: false as const };
      }),
    context,
  );
  registerHandler(
    socket,
    "container:stats_history",
    async (p, actor) => {
      const { id, history } = await telemetry.container(actor, p.id);
      return { id, intervalMs: telemetry.historyIntervalMs, samples: history() };
    },
    context,
  );
  registerHandler(
    socket,
    "containers:stats_history",
    (_p, actor) =>
      // Up to MAX_STATS_HISTORY_CONTAINERS × 120 samples (about 2 MB of JSON): a large read.
      limits.reads.run(async () => telemetry.historyOverview(actor)),
    context,
  );
  registerHandler(
    socket,
    "container:logs",
    (p, actor) =>
      limits.reads.run(async () => {
        const container = await telemetry.container(actor, p.id);
        const { lines, truncated } = await container.recentLogs({ tail: p.tail, sinceMs: p.since });
        return truncated ? { lines, truncated } : { lines };
      }),
    context,
  );
  registerHandler(
    socket,
    "container:follow_logs",
    (p, actor) =>
      limits.inOrder.run(`logs:${p.id}`, async () => {
        const { id, followLogs } = await telemetry.container(actor, p.id);
        const key = Subscriptions.key("logs", id);
        return limits.subscriptions.open(socket, key, async () => {
          const sub = await followLogs({ tail: p.tail }, (line) => {
            if (guard.admit(id, "logs")) socket.emit("container:log", { id, ...line });
          });
          // The follow waited on the engine; a connection that left meanwhile has already given back
          // everything it held, so what opened for it now is closed here, never registered.
          if (limits.closed.aborted) {
            sub.close();
            throw limits.closed.reason;
          }
          const dispose = () => sub.close();
          subscriptions.add(socket.id, key, dispose);
          // The stream ends by itself when the container goes away; forget it then (unless a newer follow replaced it).
          void sub.done.then(() => subscriptions.removeIfCurrent(socket.id, key, dispose));
          return { id, following: true as const };
        });
      }),
    context,
  );
  registerHandler(
    socket,
    "container:unfollow_logs",
    (p, actor) =>
      limits.inOrder.run(`logs:${p.id}`, async () => {
        const { id } = await telemetry.container(actor, p.id);
        subscriptions.remove(socket.id, Subscriptions.key("logs", id));
        return { id, following: false as const };
      }),
    context,
  );
  socket.on("disconnect", () => subscriptions.removeSocket(socket.id));
}
