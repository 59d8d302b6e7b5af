import type { ContainerSummary, DockerClient } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { checkUnderWay } from "./check-container.ts";
import { managedLabels } from "./container-config.ts";
import { isContainerId } from "./container-id.ts";
import type { ContainerManager } from "./container-manager.ts";
import { stateFromEngine } from "./container-state.ts";
import type { CutByCrash } from "./cut-by-crash.ts";
import { CUT_BY_STATE, finishInterrupted } from "./finish-interrupted.ts";
import type { InterruptedOperations } from "./interrupted-operation.ts";
import type { WorkloadChannel } from "./workload-channel.ts";

export interface ReconcileReport {
  adopted: number;
  missing: number;
  orphansRemoved: number;
  finishedDeletes: number;
  abandonedCreates: number;
  /** Starts, stops and restarts that a crash cut half-way, finished now. */
  finishedOperations: number;
  /** Steps that failed this time (the engine refused, a file could not go); the caller tries again later. */
  failed: number;
  /**
   * Rows left to an operation of this berth under way. The caller looks again later too: what that
   * operation leaves when it fails (a create undone while the engine was away, its engine container
   * still there) is for a pass after it to find.
   */
  busy: number;
}

export interface ReconcilerOptions {
  docker: DockerClient;
  repo: ContainerStore;
  manager: ContainerManager;
  channel: WorkloadChannel;
  files: WorkloadFiles;
  instanceId: string;
  log: SystemLogger;
  /** The rows as a crash left them, taken when this process started: only those are finished or undone as cut. */
  cut: CutByCrash;
  /** Told what became of each operation the crash cut (the activity feed listens). */
  interrupted: InterruptedOperations;
  /**
   * What an orphan leaves beside its engine container, removed after it: by default its files
   * (`files.removeAll`). In cluster mode its files and its channel on the node its engine handle names —
   * an orphan has no placement for the files port to route by.
   */
  orphanLeftovers?: (containerId: string, dockerId: string) => Promise<void>;
}

/**
 * Brings the store and the engine into agreement at start-up (and whenever
 * the engine comes back): adopts this instance's labelled containers, marks
 * rows whose engine container vanished as `missing`, finishes deletes and
 * undoes creates that a crash interrupted, and removes engine containers of
 * this instance that no row knows (a create that died before its row). Other
 * instances' containers are never touched.
 */
export async function reconcile(o: ReconcilerOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    adopted: 0,
    missing: 0,
    orphansRemoved: 0,
    finishedDeletes: 0,
    abandonedCreates: 0,
    finishedOperations: 0,
    failed: 0,
    busy: 0,
  };
  const engine = await o.docker.listContainers(managedLabels(o.instanceId));
  const byBerthId = new Map(engine.map((c) => [c.labels["berth.id"] ?? "", c]));
  const known = new Set<string>();

  for (const record of await o.repo.all()) {
    known.add(record.id);
    const log = o.log.child({ containerId: record.id, op: "reconcile" });
    // One container that cannot be brought in line must not hold up the others.
    try {
      await reconcileOne(o, record, byBerthId.get(record.id), report, log);
    } catch (err) {
      // Cluster mode: another server's operation holds the row (its turn does not wait for it); a later
      // pass looks at it again, as at a row this server's own operation holds.
      if (err instanceof BerthError && err.code === "CONFLICT") report.busy++;
      else {
        report.failed++;
        log.warn({ err }, "could not reconcile this container; will try again");
      }
    }
  }

  for (const c of engine) {
    const id = c.labels["berth.id"];
    if (id && known.has(id)) continue;
    // An image check's throwaway has no row: until its time is up it is a check under way (in a cluster,
    // maybe another server's), which removes it itself.
    if (checkUnderWay(c.labels, Date.now())) continue;
    o.log.warn({ dockerId: c.dockerId, containerId: id }, "removing engine container that no row knows");
    try {
      await o.docker.removeContainer(c.dockerId);
      if (id && isContainerId(id)) {
        await (o.orphanLeftovers ? o.orphanLeftovers(id, c.dockerId) : o.files.removeAll(id));
      }
      report.orphansRemoved++;
    } catch (err) {
      report.failed++;
      o.log.warn(
        { err, dockerId: c.dockerId },
        "could not remove an orphaned engine container; will try again",
      );
    }
  }
  o.log.info(report, "reconciled with the engine");
  return report;
}

async function reconcileOne(
  o: ReconcilerOptions,
  copy: ContainerRecord,
  found: ContainerSummary | undefined,
  report: ReconcileReport,
  log: SystemLogger,
): Promise<void> {
  const { manager } = o;
  const { steps } = manager;
  // An operation of this berth under way (the engine's return reconciles too) settles the row itself:
  // waiting for its turn would hold every later row up behind it.
  if (steps.underWay(copy.id)) {
    report.busy++;
    return;
  }
  // The list was read before this row's turn came (and before every earlier row's awaits): each
  // step re-reads the row in the container's queue turn and leaves it alone if it moved on since.
  const inTurn = <T>(fn: (record: ContainerRecord) => Promise<T>): Promise<T | undefined> =>
    steps.recoveryTurn(copy.id, async () => {
      const record = await o.repo.get(copy.id);
      if (!record || record.state !== copy.state || record.dockerId !== copy.dockerId) return undefined;
      return fn(record);
    });

  if (copy.state === "removing") {
    await inTurn(async (record) => {
      const byCrash = o.cut.holds(record);
      // Its row never learnt its engine id: the create never finished (a crash during its undo).
      const op = record.dockerId === null ? "create" : "delete";
      if (found && record.dockerId === null) record.dockerId = found.dockerId;
      await manager.removeEverything(record, "delete finished after restart");
      report.finishedDeletes++;
      if (byCrash) o.interrupted.tell(record, op, op === "create" ? "undone" : "finished", true);
      o.cut.settle(record.id);
    });
    return;
  }
  if (copy.dockerId === null) {
    await inTurn(async (record) => {
      // A create of this process (the engine came back during it) is settled by its own steps or their undo.
      if (!o.cut.holds(record)) return;
      // The create was interrupted before its engine container was made and started (the row learns
      // its engine id only then): whatever it made goes, the engine container too if there is one.
      if (found) record.dockerId = found.dockerId;
      await manager.removeEverything(record, "interrupted create undone");
      o.interrupted.tell(record, "create", "undone", true);
      o.cut.settle(record.id);
      report.abandonedCreates++;
    });
    return;
  }
  if (!found) {
    await inTurn(async (record) => {
      if (record.state === "missing") return;
      // The list may be older than the row: read before a create or a move made the engine container the
      // row names now (a list waiting on a slow node, in cluster mode). Asked once more, in the row's turn.
      if (record.dockerId && (await o.docker.inspectContainer(record.dockerId))) return;
      log.warn("engine container vanished; marking missing");
      await manager.observe(record, "missing", "engine container vanished");
      report.missing++;
    });
    return;
  }
  if (copy.dockerId !== found.dockerId) {
    const adopted = await inTurn(async (record) => {
      await manager.observe(record, record.state, "adopted", { dockerId: found.dockerId });
      return record;
    });
    if (!adopted) return;
    copy = adopted;
  }
  // In the row's turn, on the row as it is then: a delete made meanwhile (on another server, in cluster
  // mode) must not have the channel it closed opened again here. Not `inTurn`: a row whose state moved
  // on since the list (a bring-back after the engine's return started it) still needs its channel.
  await steps.recoveryTurn(copy.id, async () => {
    const record = await o.repo.get(copy.id);
    if (!record || record.state === "removing") return;
    await o.channel.open(record.id, { uid: record.uid, gid: record.uid });
  });
  const op = CUT_BY_STATE[copy.state];
  if (op) {
    const finished = await inTurn(async (record) => {
      if (!o.cut.holds(record)) return false;
      await finishInterrupted(steps, record, found, op);
      o.cut.settle(record.id);
      o.interrupted.tell(record, op, "finished");
      return true;
    });
    if (finished) {
      log.warn({ op }, "finished an operation a crash interrupted");
      report.finishedOperations++;
      report.adopted++;
      return;
    }
  }
  // What changed while berth was away (an exit, with its code) is read and reported once —
  // except during an update that a crash interrupted, which the CodeUpdater's recovery finishes.
  if (copy.state !== "updating" && stateFromEngine(found.state, copy.state) !== copy.state) {
    await manager.syncFromEngine(copy.id, "changed while berth was away");
  }
  report.adopted++;
}
