import type { ActivityEntry } from "#protocol";
import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { OperationOutcome } from "../containers/operation-tracker.ts";
import type { BerthMetrics } from "./berth-metrics.ts";

/**
 * Feeds the metrics from the events berth's components already emit — the
 * manager's `operation` (lifecycle and updates alike: the updater runs
 * through the manager's tracker) and the activity feed's `entry` — so that
 * none of them knows about metrics. Returns the function that detaches.
 */
export function observeBerth(
  metrics: BerthMetrics,
  sources: { manager: ContainerManager; activity: UserActivityLogger },
): () => void {
  // A removed container's per-container channel series go when the hub closes its channel (ChannelObserver.forget).
  const onOperation = (outcome: OperationOutcome) => metrics.operationEnded(outcome);
  const onEntry = (_owner: string, entry: ActivityEntry) => metrics.activityEntryWritten(entry.action);
  sources.manager.on("operation", onOperation);
  sources.activity.on("entry", onEntry);
  return () => {
    sources.manager.off("operation", onOperation);
    sources.activity.off("entry", onEntry);
  };
}
