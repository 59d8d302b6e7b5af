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
  const onOperation = (outcome: OperationOutcome) => {
    metrics.operationEnded(outcome);
    // A deleted container's per-container series go with it.
    if (outcome.op === "delete" && outcome.ok && outcome.id !== undefined) metrics.channel.forget(outcome.id);
  };
  const onEntry = (_owner: string, entry: ActivityEntry) => metrics.activityEntryWritten(entry.action);
  sources.manager.on("operation", onOperation);
  sources.activity.on("entry", onEntry);
  return () => {
    sources.manager.off("operation", onOperation);
    sources.activity.off("entry", onEntry);
  };
}
