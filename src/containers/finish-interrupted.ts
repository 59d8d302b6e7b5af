import type { ContainerState } from "#protocol";
import type { ContainerSummary } from "../docker/docker-client.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { LifecycleSteps } from "./lifecycle-steps.ts";

/** The operation a container's state says was under way; the state is never left behind once it ends. */
export const CUT_BY_STATE: Partial<Record<ContainerState, "start" | "stop" | "restart">> = {
  starting: "start",
  stopping: "stop",
  restarting: "restart",
};

/**
 * Finishes a start, stop or restart that a crash of berth cut half-way —
 * whichever step it had reached, since the engine may or may not have made
 * it. Left as the engine had it, the container would read as exited on its
 * own ("stopped unexpectedly"), or stay `starting`. To be called in the
 * container's queue turn (LifecycleSteps.recoveryTurn), with the row just read.
 */
export async function finishInterrupted(
  steps: LifecycleSteps,
  record: ContainerRecord,
  found: ContainerSummary,
  op: "start" | "stop" | "restart",
): Promise<void> {
  if (op === "stop" || op === "restart") {
    if (found.state === "running") await steps.stop(record);
  }
  if (op === "stop") {
    await steps.reach(record, "stopped", "interrupted stop finished");
    return;
  }
  await steps.startRunning(
    record,
    `interrupted ${op} finished`,
    // A restart counts once it is made, as container:restart counts it.
    op === "restart" ? { restartCount: record.restartCount + 1 } : {},
  );
}
