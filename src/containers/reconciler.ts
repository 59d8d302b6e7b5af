import { rm } from "node:fs/promises";
import type { ContainerState } from "#protocol";
import type { ContainerSummary, DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord, ContainerRepository } from "../store/container-repository.ts";
import { managedLabels } from "./container-config.ts";
import { isContainerId } from "./container-id.ts";
import type { ContainerManager } from "./container-manager.ts";
import type { ContainerPaths } from "./container-paths.ts";
import { stateFromEngine } from "./container-state.ts";
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
}

export interface ReconcilerOptions {
  docker: DockerClient;
  repo: ContainerRepository;
  manager: ContainerManager;
  channel: WorkloadChannel;
  paths: ContainerPaths;
  instanceId: string;
  log: SystemLogger;
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
  };
  const engine = await o.docker.listContainers(managedLabels(o.instanceId));
  const byBerthId = new Map(engine.map((c) => [c.labels["berth.id"] ?? "", c]));
  const known = new Set<string>();

  for (const record of o.repo.all()) {
    known.add(record.id);
    const log = o.log.child({ containerId: record.id, op: "reconcile" });
    // One container that cannot be brought in line must not hold up the others.
    try {
      await reconcileOne(o, record, byBerthId.get(record.id), report, log);
    } catch (err) {
      report.failed++;
      log.warn({ err }, "could not reconcile this container; will try again");
    }
  }

  for (const c of engine) {
    const id = c.labels["berth.id"];
    if (id && known.has(id)) continue;
    o.log.warn({ dockerId: c.dockerId, containerId: id }, "removing engine container that no row knows");
    try {
      await o.docker.removeContainer(c.dockerId);
      if (id && isContainerId(id)) {
        await rm(o.paths.socketDir(id), { recursive: true, force: true });
        await rm(o.paths.codeDir(id), { recursive: true, force: true });
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
  record: ContainerRecord,
  found: ContainerSummary | undefined,
  report: ReconcileReport,
  log: SystemLogger,
): Promise<void> {
  // Left half-way by a crash only when this berth has no operation under way on it: the engine's
  // return reconciles too, while this berth's own operations may be waiting on the engine.
  const leftByCrash = o.manager.queue.current(record.id) === undefined;
  if (record.state === "removing") {
    await o.manager.removeEverything(record, "delete finished after restart");
    if (leftByCrash) o.manager.interrupted(record, "delete", "finished", true);
    report.finishedDeletes++;
    return;
  }
  if (record.dockerId === null) {
    // A create under way (the engine came back during it) is settled by its own steps or their undo.
    if (!leftByCrash) return;
    // The create was interrupted before its engine container was made and started (the row learns
    // its engine id only then): whatever it made goes, the engine container too if there is one.
    if (found) record.dockerId = found.dockerId;
    await o.manager.removeEverything(record, "interrupted create undone");
    o.manager.interrupted(record, "create", "undone", true);
    report.abandonedCreates++;
    return;
  }
  if (!found) {
    if (record.state !== "missing") {
      log.warn("engine container vanished; marking missing");
      o.manager.observe(record, "missing", "engine container vanished");
      report.missing++;
    }
    return;
  }
  if (record.dockerId !== found.dockerId)
    o.manager.observe(record, record.state, "adopted", { dockerId: found.dockerId });
  await o.channel.open(record.id, { uid: record.uid, gid: record.uid });
  const cut = CUT_BY_STATE[record.state];
  if (cut && leftByCrash) {
    await finishInterrupted(o, record, found, cut);
    report.finishedOperations++;
    report.adopted++;
    return;
  }
  // What changed while berth was away (an exit, with its code) is read and reported once —
  // except during an update that a crash interrupted, which the CodeUpdater's recovery finishes.
  if (record.state !== "updating" && stateFromEngine(found.state, record.state) !== record.state) {
    await o.manager.syncFromEngine(record.id, "changed while berth was away");
  }
  report.adopted++;
}

/** The operation a container's state says was under way; the state is never left behind once it ends. */
const CUT_BY_STATE: Partial<Record<ContainerState, "start" | "stop" | "restart">> = {
  starting: "start",
  stopping: "stop",
  restarting: "restart",
};

/**
 * Finishes a start, stop or restart that a crash of berth cut half-way —
 * whichever step it had reached, since the engine may or may not have made
 * it — and tells the owner. Left as the engine had it, the container would
 * read as exited on its own ("stopped unexpectedly"), or stay `starting`.
 */
async function finishInterrupted(
  o: ReconcilerOptions,
  record: ContainerRecord,
  found: ContainerSummary,
  op: "start" | "stop" | "restart",
): Promise<void> {
  const { manager } = o;
  await manager.queue.run(record.id, "recover", async () => {
    if (op === "stop" || op === "restart") {
      if (found.state === "running") await manager.stopProcess(record);
    }
    if (op === "stop") {
      manager.observe(record, "stopped", "interrupted stop finished");
      return;
    }
    await manager.startProcess(record);
    manager.observe(record, "running", `interrupted ${op} finished`, {
      startedAt: Date.now(),
      exitCode: null,
      // A restart counts once it is made, as container:restart counts it.
      ...(op === "restart" ? { restartCount: record.restartCount + 1 } : {}),
    });
  });
  o.log
    .child({ containerId: record.id, op: "reconcile" })
    .warn({ op }, "finished an operation a crash interrupted");
  manager.interrupted(record, op, "finished");
}
