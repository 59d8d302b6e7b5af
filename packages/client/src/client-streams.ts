import type { ClientCore } from "./client-core.ts";
import { LogFollows } from "./log-follows.ts";
import { MessageSubscriptions } from "./message-subscriptions.ts";
import type { ResourceUsageEvent, StatsOverviewEvent } from "./protocol/index.ts";
import { SharedStreams } from "./shared-streams.ts";

/** The key of the one overview (`containers:watch_stats`) a connection has. */
export const OVERVIEW_KEY = "*";

/** One client's registries of what berth pushes, shared by all its container handles. */
export interface ClientStreams {
  core: ClientCore;
  messages: MessageSubscriptions;
  logs: LogFollows;
  stats: SharedStreams<ResourceUsageEvent, { intervalMs?: number }>;
  overview: SharedStreams<StatsOverviewEvent, { intervalMs?: number }>;
}

export function clientStreams(core: ClientCore): ClientStreams {
  return {
    core,
    messages: new MessageSubscriptions(core),
    logs: new LogFollows(core),
    stats: new SharedStreams(core, {
      event: "container:resource_usage",
      keyOf: (e: ResourceUsageEvent) => e.id,
      open: (c, id, o: { intervalMs?: number }) => c.call("container:watch_stats", { id, ...o }),
      close: (c, id) => c.call("container:unwatch_stats", { id }),
      dropped: "stats",
    }),
    overview: new SharedStreams(core, {
      event: "containers:resource_usage",
      keyOf: () => OVERVIEW_KEY,
      open: (c, _key, o: { intervalMs?: number }) => c.call("containers:watch_stats", { ...o }),
      close: (c) => c.call("containers:unwatch_stats", {}),
    }),
  };
}
