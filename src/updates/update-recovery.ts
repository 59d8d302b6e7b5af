import type { CutByCrash } from "../containers/cut-by-crash.ts";
import type { InterruptedOperations } from "../containers/interrupted-operation.ts";
import type { LifecycleSteps } from "../containers/lifecycle-steps.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ReleaseStore } from "../store/store-ports.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";

export interface UpdateRecoveryOptions {
  /** The lifecycle's steps: the container's turn, stop, start. */
  lifecycle: LifecycleSteps;
  releases: ReleaseStore;
  files: WorkloadFiles;
  log: SystemLogger;
  /** Told of each update the crash cut (the activity feed listens). */
  interrupted: InterruptedOperations;
}

/**
 * Undoes the updates and rollbacks that a crash interrupted, and tells the
 * owner: the pointer goes back to the release the store holds active, the
 * workload is started again on it if the crash came after it was stopped for
 * the switch (`updating`), and a `pending` release is marked failed. A
 * container is `updating` also during a rollback and during an update's own
 * rollback after a failed gate, with no pending release: it is undone all the
 * same. Containers with an operation of this berth under way are left to it
 * (the engine's return calls this too); only what `cut` holds, or a release
 * made before this berth started, is told as interrupted.
 */
export async function recoverUpdates(o: UpdateRecoveryOptions, cut: CutByCrash): Promise<void> {
  const { lifecycle, releases } = o;
  const ids = new Set([
    ...(await releases.pending()).map((p) => p.containerId),
    ...(await lifecycle.all()).filter((r) => r.state === "updating").map((r) => r.id),
  ]);
  for (const id of ids) {
    if (lifecycle.underWay(id)) continue;
    const log = o.log.child({ containerId: id, op: "recover" });
    try {
      // The list above was read before earlier containers' awaits: an update may have committed since.
      // Everything is read again in the container's turn, where no update of this berth runs.
      const told = await lifecycle.recoveryTurn(id, async () => {
        const record = await lifecycle.findById(id);
        if (!record) return undefined;
        // `updating`: the crash came after the workload was stopped for the switch. An update always
        // ends with the workload running, on the new release or the old one: here, the old one.
        const interrupted = record.state === "updating";
        // A pending release made before this process started is a crash's; one of this process is
        // an update whose clean-up failed (it answered its error), marked failed without a word.
        const pending = await releases.pendingOf(id);
        const byCrash = (interrupted && cut.holds(record)) || pending.some((p) => p.createdAt < cut.since);
        const leftovers = await o.files.sweepCrashLeftovers(id);
        if (leftovers.length > 0) log.warn({ leftovers }, "removed what a crash left half-written");
        const pointer = await o.files.currentRelease(id);
        // `running` with the pointer moved: the crash came after the new release passed its gate and was
        // recorded running, before its switch was committed. The workload runs the release the pointer
        // names, not the active one: it is started again on the active one, like an `updating` one.
        const runsPointer =
          record.state === "running" && record.release !== null && pointer !== record.release;
        if (record.release !== null && pointer !== record.release) {
          log.warn({ active: record.release, pointer }, "undoing an update that a crash interrupted");
          if (interrupted || runsPointer) await lifecycle.stop(record);
          await o.files.switchRelease(id, record.release);
        }
        if (interrupted || runsPointer) await lifecycle.startRunning(record, "interrupted update undone");
        for (const p of pending) await releases.failPending(id, p.number);
        cut.settle(id);
        return byCrash ? record : undefined;
      });
      if (told) o.interrupted.tell(told, "update", "undone");
    } catch (err) {
      // Cluster mode: another server's update or rollback holds it, alive: not a crash's to undo.
      if (err instanceof BerthError && err.code === "CONFLICT") continue;
      log.error({ err }, "could not undo an interrupted update");
    }
  }
}
