import type { ReleaseInfo, UpdateResult, UpdateStep } from "#protocol";
import { type AdmissionPort, admitEverything } from "../admission/admission.ts";
import type { QuotaReservation } from "../admission/quota-ledger.ts";
import { type CodeUpload, readCode } from "../code/read-code.ts";
import { releaseStats } from "../code/release-stats.ts";
import type { Config } from "../config/config.ts";
import type { Actor } from "../containers/actor.ts";
import type { LifecycleSteps } from "../containers/lifecycle-steps.ts";
import { keepReleaseContent } from "../containers/release-content.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import { BerthError } from "../errors/berth-error.ts";
import { NotFoundError, ValidationError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type StepOptions, StepTimer } from "../progress/step-timer.ts";
import type {
  ContainerRecord,
  ContainerStore,
  ReleaseContentStore,
  ReleaseStore,
} from "../store/store-ports.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { type GateRequest, gatedSwitch } from "./gated-switch.ts";
import type { GateChannel } from "./release-gate.ts";
import { ReleasePruning } from "./release-pruning.ts";

export type { GateChannel } from "./release-gate.ts";

export interface CodeUpdaterOptions {
  config: Config;
  /** The lifecycle's steps (ContainerManager.steps): all the updater knows of lifecycle. */
  lifecycle: LifecycleSteps;
  releases: ReleaseStore;
  /** Where a committed switch is recorded (the container's release with the release rows, in one transaction). */
  containers: Pick<ContainerStore, "switchRelease">;
  channel: GateChannel;
  /** The workload's releases and pointer on the host it runs on. */
  files: WorkloadFiles;
  log: SystemLogger;
  /** The owner's code and running quotas; none when left out. */
  admission?: AdmissionPort;
  /** Cluster mode: where each release's contents are kept for the nodes a workload may move to. */
  releaseContents?: ReleaseContentStore;
}

export interface UpdateRequest extends GateRequest {
  code: CodeUpload;
}

/**
 * Code updates with a health-gated restart and automatic rollback.
 *
 * An update validates the code (nothing is written if any entry is bad),
 * writes it as a new immutable release, stops the workload, switches the
 * `current` pointer (one atomic rename), starts it, waits for its hello and,
 * when a health check is set, for a good answer — then commits. Any failure
 * after the switch puts the previous release back the same way and answers
 * UPDATE_ROLLED_BACK saying what failed; if that fails too, the container is
 * marked `failed` and the answer is ROLLBACK_FAILED (gated-switch.ts).
 *
 * A crash in the middle leaves a `pending` release row: at start-up,
 * `recoverUpdates()` puts the pointer back on the active release and marks the
 * pending one failed, so the store and the disk agree.
 */
export class CodeUpdater {
  readonly #options: CodeUpdaterOptions;
  readonly #log: SystemLogger;
  readonly #admission: AdmissionPort;
  readonly #pruning: ReleasePruning;

  constructor(options: CodeUpdaterOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: "CodeUpdater" });
    this.#admission = options.admission ?? admitEverything;
    this.#pruning = new ReleasePruning(
      options.releases,
      options.files,
      options.config.keepReleases,
      this.#log,
    );
  }

  async update(
    actor: Actor,
    ref: string,
    request: UpdateRequest,
    options: StepOptions = {},
  ): Promise<UpdateResult> {
    const { lifecycle, config } = this.#options;
    const record = await lifecycle.resolve(actor, ref);
    const timer = new StepTimer<UpdateStep>(record.id, options.onStep);
    return lifecycle.runOperation("update", record, {
      // Checked before anything is written, and before taking the container's turn.
      prepare: () =>
        timer.time("validate", async () => {
          const read = readCode(request.code, {
            maxBytes: config.maxCodeBytes,
            maxFiles: config.maxCodeFiles,
          });
          await lifecycle.checkEntryFile(record, read);
          return read;
        }),
      inTurn: async (current, entries) => {
        this.#requireUpdatable(current);
        const run = await this.#reserveRun(current);
        try {
          const number = await this.#options.releases.nextNumber(current.id);
          const log = this.#log.child({ containerId: current.id, op: "update", release: number });
          log.info("updating container");
          const stats = releaseStats(entries);
          // Held until the release row counts the bytes (or is gone again).
          const quota = await this.#admission.reserveCode(current.owner, current.id, stats.bytes);
          timer.start("write");
          try {
            await this.#options.releases.insert({
              containerId: current.id,
              number,
              status: "pending",
              createdAt: Date.now(),
              createdBy: actor.owner,
              ...stats,
              ...(await keepReleaseContent(this.#options.releaseContents, entries)),
            });
            await this.#options.files.writeRelease(current.id, number, entries);
          } catch (err) {
            timer.fail();
            // A row whose bytes could not go stays `pending`, still counted; recovery marks it failed at the next start.
            await this.#pruning.remove(current.id, number, "could not remove a release that failed to write");
            throw asStorageError(err);
          } finally {
            quota.release();
          }
          timer.done();
          await this.#switch(current, number, request, log, timer, run).catch(async (err: unknown) => {
            await this.#pruning.pruneFailed(current.id);
            throw err;
          });
          const result: UpdateResult = {
            id: current.id,
            release: number,
            previousRelease: current.release,
            timings: updateTimings(timer),
          };
          await this.#commit(current, number, "previous");
          await this.#pruning.prune(current.id, number);
          log.info({ timings: result.timings }, "updated container");
          return result;
        } finally {
          run.release();
        }
      },
    });
  }

  /** Goes back to the previous release, or to a named one, through the same gate. */
  async rollback(
    actor: Actor,
    ref: string,
    release: number | undefined,
    options: StepOptions = {},
  ): Promise<UpdateResult> {
    const { lifecycle } = this.#options;
    const record = await lifecycle.resolve(actor, ref);
    return lifecycle.runOperation("rollback", record, {
      inTurn: async (current) => {
        // Nothing to validate or write: a rollback reports its gate's steps only (validate and write are 0).
        const timer = new StepTimer<UpdateStep>(record.id, options.onStep);
        this.#requireUpdatable(current);
        const target =
          release ??
          (await this.#options.releases.list(current.id)).find((r) => r.status === "previous")?.number;
        const row = target === undefined ? undefined : await this.#options.releases.get(current.id, target);
        if (!row || row.status === "pending") throw new NotFoundError("release");
        if (row.number === current.release) {
          throw new ValidationError(`Release ${row.number} is already active.`, {
            details: { field: "release" },
          });
        }
        const log = this.#log.child({ containerId: current.id, op: "rollback", release: row.number });
        log.info("rolling back");
        const replaced = current.release;
        const run = await this.#reserveRun(current);
        try {
          await this.#switch(current, row.number, {}, log, timer, run);
          await this.#commit(current, row.number, "rolled-back");
          return {
            id: current.id,
            release: row.number,
            previousRelease: replaced,
            timings: updateTimings(timer),
          };
        } finally {
          run.release();
        }
      },
    });
  }

  async releases(actor: Actor, ref: string): Promise<ReleaseInfo[]> {
    const record = await this.#options.lifecycle.resolve(actor, ref);
    // Field by field: a record carries what clients are not shown (its container, its content's digest).
    return (await this.#options.releases.list(record.id)).map((r) => ({
      number: r.number,
      status: r.status,
      createdAt: r.createdAt,
      createdBy: r.createdBy,
      bytes: r.bytes,
      files: r.files,
      hash: r.hash,
    }));
  }

  #switch(
    record: ContainerRecord,
    release: number,
    request: GateRequest,
    log: SystemLogger,
    timer: StepTimer<UpdateStep>,
    run: QuotaReservation,
  ): Promise<void> {
    const { lifecycle, channel, releases, files, config } = this.#options;
    return gatedSwitch(
      {
        lifecycle,
        channel,
        releases,
        files,
        readyTimeoutMs: config.readyTimeoutMs,
        // Counted by the store from `updating` on: the reservation (and, on several servers, the owner's
        // admission lock with it) need not be held through the readiness wait and the health check.
        onUpdating: () => run.release(),
      },
      record,
      release,
      request,
      log,
      timer,
    );
  }

  /** Records the switch to `release` in one transaction; the release it replaces gets `replacedStatus`. */
  async #commit(
    record: ContainerRecord,
    release: number,
    replacedStatus: "previous" | "rolled-back",
  ): Promise<void> {
    // Cluster mode: a server whose lock dropped mid-update must not commit over what the leader recovered.
    this.#options.lifecycle.assertHeld(record);
    await this.#options.containers.switchRelease(record.id, release, replacedStatus);
    record.release = release;
  }

  /**
   * An update or rollback ends with the workload running, whatever it was
   * before: a stopped container is held to the `running`, `memoryMb` and
   * `cpus` quotas as a start is (QUOTA_EXCEEDED before anything is written
   * or switched); one that already runs asks for nothing more. Held until the
   * store records `updating`, the switch's first step (gatedSwitch's
   * `onUpdating`), which counts as running from then on — as does the
   * `running` the update ends in — or until the operation fails before it.
   * No longer: on several servers the owner's admission lock goes with it,
   * and the readiness wait and health check would hold up the owner's
   * operations on every other server.
   * No turn at the engine is held with it: the start inside the gate takes
   * its own, and holding one across the disk writes and the readiness wait
   * would stall every owner's engine operations.
   */
  #reserveRun(record: ContainerRecord): Promise<QuotaReservation> {
    return this.#admission.reserveRun(record.owner, record.id, record.spec.resources);
  }

  #requireUpdatable(record: ContainerRecord): void {
    if (record.state === "removing" || record.state === "missing") {
      throw new BerthError("CONFLICT", `Cannot update a container that is ${record.state}.`, {
        retryable: false,
        details: { state: record.state },
      });
    }
  }
}

/** The answer's timings: each step of the operation itself (0 when it did not run), and the total. */
function updateTimings(timer: StepTimer<UpdateStep>): UpdateResult["timings"] {
  return timer.report(["validate", "write", "stop", "switch", "start", "ready", "health"]);
}
