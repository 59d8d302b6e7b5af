import type { UpdateStep } from "#protocol";
import type { LifecycleSteps } from "../containers/lifecycle-steps.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord, ReleaseStore } from "../store/store-ports.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { type GateChannel, gateErrorText, type HealthCheckSpec, passGate } from "./release-gate.ts";
import { type GateFailure, RollbackFailedError, UpdateRolledBackError } from "./update-errors.ts";

export interface GatedSwitchOptions {
  lifecycle: LifecycleSteps;
  channel: GateChannel;
  releases: Pick<ReleaseStore, "setStatus">;
  files: Pick<WorkloadFiles, "switchRelease">;
  /** How long a workload has to say hello when the request does not say (BERTH_READY_TIMEOUT_MS). */
  readyTimeoutMs: number;
  /**
   * Called once the store records `updating`, the switch's first step: from then on the store counts the
   * container as running until the switch writes `running` or `failed` (an engine sync waits for the
   * update's turn, so nothing else writes its state meanwhile), and the caller's run quota reservation
   * has done its work.
   */
  onUpdating?: () => void;
}

/** What a switch may be told beyond its release: its own readiness timeout and health check. */
export interface GateRequest {
  readyTimeoutMs?: number | undefined;
  healthCheck?: HealthCheckSpec | undefined;
}

/**
 * Stop → switch → start → ready → health, in the container's turn; on any
 * failure, the same back to the release that ran before. Each step is
 * measured (and reported) by `timer`. It ends with the container `running`
 * (on `release`, or rolled back with UPDATE_ROLLED_BACK) or `failed`
 * (ROLLBACK_FAILED, or an abandoned switch that could not bring the old
 * release back). The release rows are the caller's to commit.
 */
export async function gatedSwitch(
  o: GatedSwitchOptions,
  record: ContainerRecord,
  release: number,
  request: GateRequest,
  log: SystemLogger,
  timer: StepTimer<UpdateStep>,
): Promise<void> {
  const { lifecycle } = o;
  const previous = record.release;
  const readyTimeoutMs = request.readyTimeoutMs ?? o.readyTimeoutMs;
  // The release that ran before worked: it gets at least the server's readiness wait however short the
  // request asked for its new release's — a short wait is the owner's bound on the new code, and must not
  // turn a slow (loaded) return of the old code into ROLLBACK_FAILED and a `failed` container.
  const backReadyMs = Math.max(readyTimeoutMs, o.readyTimeoutMs);
  const healthCheck = request.healthCheck ?? record.spec.healthCheck;
  await lifecycle.reach(record, "updating", `switching to release ${release}`);
  o.onUpdating?.();
  try {
    await timer.time("stop", () => lifecycle.stop(record));
    await timer.time("switch", () =>
      o.files.switchRelease(record.id, release).catch((err) => {
        throw asStorageError(err);
      }),
    );
  } catch (err) {
    // Nothing switched yet: the old release is still in place; bring it back up.
    await restartQuietly(o, record, backReadyMs, log, timer);
    await o.releases.setStatus(record.id, release, "failed");
    throw err;
  }
  const failure = await passGate(o, record, readyTimeoutMs, healthCheck, timer, "");
  if (!failure) {
    // The release number is recorded by the caller's commit, with the release rows, in one transaction.
    await lifecycle.reach(record, "running", `release ${release} is running`, {
      startedAt: Date.now(),
      exitCode: null,
    });
    return;
  }
  log.warn(
    { failedStep: failure.failedStep, cause: failure.cause },
    "new release failed its gate; rolling back",
  );
  await o.releases.setStatus(record.id, release, "failed");
  const rollback = await restore(o, record, previous, backReadyMs, timer);
  if (rollback) {
    log.error({ cause: rollback.cause }, "rollback failed too");
    await lifecycle.reach(record, "failed", "rollback failed");
    throw new RollbackFailedError(release, previous, failure, rollback);
  }
  await lifecycle.reach(record, "running", `rolled back to release ${previous ?? "none"}`, {
    startedAt: Date.now(),
    exitCode: null,
  });
  throw new UpdateRolledBackError(release, previous, failure);
}

/** Puts `previous` back and checks it is ready; the failure, or undefined when it is back. */
async function restore(
  o: GatedSwitchOptions,
  record: ContainerRecord,
  previous: number | null,
  readyTimeoutMs: number,
  timer: StepTimer<UpdateStep>,
): Promise<GateFailure | undefined> {
  try {
    await timer.time("rollback:stop", () => o.lifecycle.stop(record));
    if (previous !== null) {
      await timer.time("rollback:switch", () => o.files.switchRelease(record.id, previous));
    }
  } catch (err) {
    return {
      failedStep: "restart",
      cause: "switch_failed",
      output: [],
      message: gateErrorText(o.lifecycle, record, err),
    };
  }
  return passGate(o, record, readyTimeoutMs, undefined, timer, "rollback:");
}

/** After a switch that failed before anything switched: the old release up again, or the container `failed`. */
async function restartQuietly(
  o: GatedSwitchOptions,
  record: ContainerRecord,
  readyTimeoutMs: number,
  log: SystemLogger,
  timer: StepTimer<UpdateStep>,
): Promise<void> {
  const failure = await passGate(o, record, readyTimeoutMs, undefined, timer, "rollback:");
  if (failure) {
    log.error({ cause: failure.cause }, "could not bring the old release back after a failed switch");
    await o.lifecycle.reach(record, "failed", "update failed");
  } else {
    await o.lifecycle.reach(record, "running", "update abandoned");
  }
}
