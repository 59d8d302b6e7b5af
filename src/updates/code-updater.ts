import { rm } from "node:fs/promises";
import type { z } from "zod";
import type { ReleaseInfo, UpdateResult, UpdateStep } from "#protocol";
import { type AdmissionPort, admitEverything } from "../admission/admission.ts";
import type { QuotaReservation } from "../admission/quota-ledger.ts";
import { type CodeUpload, readCode } from "../code/read-code.ts";
import { switchRelease } from "../code/release-pointer.ts";
import { releaseStats } from "../code/release-stats.ts";
import { writeReleaseEntries } from "../code/write-release-entries.ts";
import type { Config } from "../config/config.ts";
import type { Actor } from "../containers/actor.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { ContainerPaths } from "../containers/container-paths.ts";
import type { HealthCheck } from "../containers/container-spec.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import { BerthError } from "../errors/berth-error.ts";
import { NotFoundError, ValidationError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type StepOptions, StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord, ContainerStore, ReleaseStore } from "../store/store-ports.ts";
import { partialMatch } from "../util/partial-match.ts";
import {
  describeGateCause,
  type GateFailure,
  RollbackFailedError,
  UpdateRolledBackError,
} from "./update-errors.ts";

type HealthCheckSpec = z.infer<typeof HealthCheck>;

/** The channel requests a health gate sends. */
export interface GateChannel {
  request(id: string, data: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
}

export interface CodeUpdaterOptions {
  config: Config;
  manager: ContainerManager;
  releases: ReleaseStore;
  /** Where a committed switch is recorded (the container's release with the release rows, in one transaction). */
  containers: Pick<ContainerStore, "switchRelease">;
  channel: GateChannel;
  paths: ContainerPaths;
  log: SystemLogger;
  /** The owner's code and running quotas; none when left out. */
  admission?: AdmissionPort;
}

export interface UpdateRequest {
  code: CodeUpload;
  readyTimeoutMs?: number | undefined;
  healthCheck?: HealthCheckSpec | undefined;
}

const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;

/**
 * Code updates with a health-gated restart and automatic rollback.
 *
 * An update validates the code (nothing is written if any entry is bad),
 * writes it as a new immutable release, stops the workload, switches the
 * `current` pointer (one atomic rename), starts it, waits for its hello and,
 * when a health check is set, for a good answer — then commits. Any failure
 * after the switch puts the previous release back the same way and answers
 * UPDATE_ROLLED_BACK saying what failed; if that fails too, the container is
 * marked `failed` and the answer is ROLLBACK_FAILED.
 *
 * A crash in the middle leaves a `pending` release row: at start-up,
 * `recover()` puts the pointer back on the active release and marks the
 * pending one failed, so the store and the disk agree.
 */
export class CodeUpdater {
  readonly #o: CodeUpdaterOptions;
  readonly #log: SystemLogger;

  constructor(options: CodeUpdaterOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "CodeUpdater" });
  }

  async update(
    actor: Actor,
    ref: string,
    request: UpdateRequest,
    options: StepOptions = {},
  ): Promise<UpdateResult> {
    const { manager, config } = this.#o;
    const record = await manager.resolve(actor, ref);
    return manager.track("update", record, async () => {
      const timer = new StepTimer<UpdateStep>(record.id, options.onStep);
      // Checked before anything is written, and before taking the container's turn.
      const entries = await timer.time("validate", async () => {
        const read = readCode(request.code, { maxBytes: config.maxCodeBytes, maxFiles: config.maxCodeFiles });
        await manager.checkEntryFile(record, read);
        return read;
      });
      return manager.queue.runExclusive(record.id, "update", async () => {
        const current = await manager.current(record.id);
        this.#requireUpdatable(current);
        const run = await this.#reserveRun(current);
        try {
          const number = await this.#o.releases.nextNumber(current.id);
          const log = this.#log.child({ containerId: current.id, op: "update", release: number });
          log.info("updating container");
          const dir = this.#o.paths.releaseDir(current.id, number);
          const stats = releaseStats(entries);
          // Held until the release row counts the bytes (or is gone again).
          const quota = await (this.#o.admission ?? admitEverything).reserveCode(
            current.owner,
            current.id,
            stats.bytes,
          );
          timer.start("write");
          try {
            await this.#o.releases.insert({
              containerId: current.id,
              number,
              status: "pending",
              createdAt: Date.now(),
              createdBy: actor.owner,
              ...stats,
            });
            await writeReleaseEntries(dir, entries);
          } catch (err) {
            timer.fail();
            // A row whose bytes could not go stays `pending`, still counted; recover() marks it failed at the next start.
            await this.#removeRelease(current.id, number, "could not remove a release that failed to write");
            throw asStorageError(err);
          } finally {
            quota.release();
          }
          timer.done();
          await this.#gatedSwitch(current, number, request, log, timer).catch(async (err: unknown) => {
            await this.#pruneFailed(current.id);
            throw err;
          });
          const result: UpdateResult = {
            id: current.id,
            release: number,
            previousRelease: current.release,
            timings: updateTimings(timer),
          };
          await this.#commit(current, number, "previous");
          await this.#prune(current.id, number);
          log.info({ timings: result.timings }, "updated container");
          return result;
        } finally {
          run.release();
        }
      });
    });
  }

  /** Goes back to the previous release, or to a named one, through the same gate. */
  async rollback(
    actor: Actor,
    ref: string,
    release: number | undefined,
    options: StepOptions = {},
  ): Promise<UpdateResult> {
    const { manager } = this.#o;
    const record = await manager.resolve(actor, ref);
    return manager.track("rollback", record, () =>
      manager.queue.runExclusive(record.id, "rollback", async () => {
        // Nothing to validate or write: a rollback reports its gate's steps only (validate and write are 0).
        const timer = new StepTimer<UpdateStep>(record.id, options.onStep);
        const current = await manager.current(record.id);
        this.#requireUpdatable(current);
        const target =
          release ?? (await this.#o.releases.list(current.id)).find((r) => r.status === "previous")?.number;
        const row = target === undefined ? undefined : await this.#o.releases.get(current.id, target);
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
          await this.#gatedSwitch(current, row.number, {}, log, timer);
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
      }),
    );
  }

  async releases(actor: Actor, ref: string): Promise<ReleaseInfo[]> {
    const record = await this.#o.manager.resolve(actor, ref);
    return (await this.#o.releases.list(record.id)).map(({ containerId: _c, ...r }) => r);
  }

  /**
   * Stop → switch → start → ready → health; on any failure, the same back to
   * the release that ran before. Each step is measured (and reported) by `timer`.
   */
  async #gatedSwitch(
    record: ContainerRecord,
    release: number,
    request: Omit<UpdateRequest, "code">,
    log: SystemLogger,
    timer: StepTimer<UpdateStep>,
  ): Promise<void> {
    const { manager } = this.#o;
    const codeDir = this.#o.paths.codeDir(record.id);
    const previous = record.release;
    const readyTimeoutMs = request.readyTimeoutMs ?? this.#o.config.readyTimeoutMs;
    const healthCheck = request.healthCheck ?? record.spec.healthCheck;
    await manager.observe(record, "updating", `switching to release ${release}`);
    try {
      await timer.time("stop", () => manager.stopProcess(record));
      await timer.time("switch", () =>
        switchRelease(codeDir, release).catch((err) => {
          throw asStorageError(err);
        }),
      );
    } catch (err) {
      // Nothing switched yet: the old release is still in place; bring it back up.
      await this.#restartQuietly(record, readyTimeoutMs, log, timer);
      await this.#o.releases.setStatus(record.id, release, "failed");
      throw err;
    }
    const failure = await this.#gate(record, readyTimeoutMs, healthCheck, timer, "");
    if (!failure) {
      // The release number is recorded by #commit, with the release rows, in one transaction.
      await manager.observe(record, "running", `release ${release} is running`, {
        startedAt: Date.now(),
        exitCode: null,
      });
      return;
    }
    log.warn(
      { failedStep: failure.failedStep, cause: failure.cause },
      "new release failed its gate; rolling back",
    );
    await this.#o.releases.setStatus(record.id, release, "failed");
    const rollback = await this.#restore(record, previous, readyTimeoutMs, timer);
    if (rollback) {
      log.error({ cause: rollback.cause }, "rollback failed too");
      await manager.observe(record, "failed", "rollback failed");
      throw new RollbackFailedError(release, previous, failure, rollback);
    }
    await manager.observe(record, "running", `rolled back to release ${previous ?? "none"}`, {
      startedAt: Date.now(),
      exitCode: null,
    });
    throw new UpdateRolledBackError(release, previous, failure);
  }

  /**
   * Starts the process and checks readiness and health; the failure, or
   * undefined when it passed. Its steps are `start`, `ready`, `health`, under
   * `prefix` (`rollback:` when it brings the previous release back).
   */
  async #gate(
    record: ContainerRecord,
    readyTimeoutMs: number,
    healthCheck: HealthCheckSpec | undefined,
    timer: StepTimer<UpdateStep>,
    prefix: "" | "rollback:",
  ): Promise<GateFailure | undefined> {
    const { manager } = this.#o;
    let since: number;
    timer.start(`${prefix}start`);
    try {
      since = await manager.startProcess(record);
      timer.done();
    } catch (err) {
      timer.fail();
      return {
        failedStep: "restart",
        cause: "start_failed",
        output: [],
        message: this.#errorText(record, err),
      };
    }
    timer.start(`${prefix}ready`);
    try {
      await manager.waitReady(record, since, readyTimeoutMs);
      timer.done();
    } catch (err) {
      timer.fail();
      const details = err instanceof BerthError ? (err.details ?? {}) : {};
      const cause = typeof details.cause === "string" ? details.cause : "timeout";
      const failure: GateFailure = {
        failedStep: "ready",
        cause,
        output: Array.isArray(details.output)
          ? (details.output as string[])
          : await manager.recentOutput(record, since),
        message: describeGateCause(cause, details.exitCode),
      };
      if (typeof details.exitCode === "number") failure.exitCode = details.exitCode;
      return failure;
    }
    if (!healthCheck) return undefined;
    timer.start(`${prefix}health`);
    try {
      const answer = await this.#o.channel.request(record.id, healthCheck.request, {
        timeoutMs: healthCheck.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
      });
      if (healthCheck.expect !== undefined && !partialMatch(answer, healthCheck.expect)) {
        timer.fail();
        return {
          failedStep: "health",
          cause: "health_mismatch",
          output: await manager.recentOutput(record, since),
          message: "its health check answered, but not as expected",
        };
      }
      timer.done();
      return undefined;
    } catch (err) {
      timer.fail();
      return {
        failedStep: "health",
        cause: "health_error",
        output: await manager.recentOutput(record, since),
        message: `its health check failed: ${this.#errorText(record, err)}`,
      };
    }
  }

  /** Puts `previous` back and checks it is ready; the failure, or undefined when it is back. */
  async #restore(
    record: ContainerRecord,
    previous: number | null,
    readyTimeoutMs: number,
    timer: StepTimer<UpdateStep>,
  ): Promise<GateFailure | undefined> {
    const { manager } = this.#o;
    try {
      await timer.time("rollback:stop", () => manager.stopProcess(record));
      if (previous !== null) {
        await timer.time("rollback:switch", () => switchRelease(this.#o.paths.codeDir(record.id), previous));
      }
    } catch (err) {
      return {
        failedStep: "restart",
        cause: "switch_failed",
        output: [],
        message: this.#errorText(record, err),
      };
    }
    return this.#gate(record, readyTimeoutMs, undefined, timer, "rollback:");
  }

  async #restartQuietly(
    record: ContainerRecord,
    readyTimeoutMs: number,
    log: SystemLogger,
    timer: StepTimer<UpdateStep>,
  ): Promise<void> {
    const failure = await this.#gate(record, readyTimeoutMs, undefined, timer, "rollback:");
    if (failure) {
      log.error({ cause: failure.cause }, "could not bring the old release back after a failed switch");
      await this.#o.manager.observe(record, "failed", "update failed");
    } else {
      await this.#o.manager.observe(record, "running", "update abandoned");
    }
  }

  /** Records the switch to `release` in one transaction; the release it replaces gets `replacedStatus`. */
  async #commit(
    record: ContainerRecord,
    release: number,
    replacedStatus: "previous" | "rolled-back",
  ): Promise<void> {
    await this.#o.containers.switchRelease(record.id, release, replacedStatus);
    record.release = release;
  }

  /**
   * After a failed update: the oldest failed releases go while more than
   * BERTH_KEEP_RELEASES are kept. A failed release stays for its owner to
   * look at, but only a successful update prunes otherwise, so an owner whose
   * updates keep failing would fill the disk (or its code quota) without this.
   */
  async #pruneFailed(id: string): Promise<void> {
    const all = await this.#o.releases.list(id);
    let excess = all.length - this.#o.config.keepReleases;
    for (const r of all.toReversed()) {
      if (excess <= 0) return;
      if (r.status !== "failed") continue;
      excess--;
      await this.#removeRelease(id, r.number, "could not remove a failed release");
    }
  }

  /** Keeps the newest BERTH_KEEP_RELEASES releases (and always the active one). */
  async #prune(id: string, active: number): Promise<void> {
    const keep = this.#o.config.keepReleases;
    const all = await this.#o.releases.list(id);
    for (const r of all.slice(keep)) {
      if (r.number === active) continue;
      await this.#removeRelease(id, r.number, "could not remove an old release");
    }
  }

  /**
   * Removes a release's directory, then its row. The row is what the code
   * quota counts, so it goes only once the bytes have: a directory that
   * cannot be removed stays counted (and listed), and the next prune tries again.
   */
  async #removeRelease(id: string, release: number, failure: string): Promise<void> {
    try {
      await rm(this.#o.paths.releaseDir(id, release), { recursive: true, force: true });
    } catch (err) {
      this.#log.warn({ err, containerId: id, release }, failure);
      return;
    }
    await this.#o.releases.delete(id, release);
  }

  /**
   * An update or rollback ends with the workload running, whatever it was
   * before: a stopped container is held to the `running`, `memoryMb` and
   * `cpus` quotas as a start is (QUOTA_EXCEEDED before anything is written
   * or switched); one that already runs asks for nothing more. Held until the
   * operation ends, after the store records its outcome (`updating` counts
   * from the switch on, and so does the `running` or `failed` it ends in).
   * No turn at the engine is held with it: the start inside the gate takes
   * its own, and holding one across the disk writes and the readiness wait
   * would stall every owner's engine operations.
   */
  #reserveRun(record: ContainerRecord): Promise<QuotaReservation> {
    return (this.#o.admission ?? admitEverything).reserveRun(record.owner, record.id, record.spec.resources);
  }

  /**
   * An error's message as the failed gate quotes it. A health check's error
   * comes back from the workload, so whatever it says goes through the one
   * step all workload text takes before anyone sees it: sanitised, then
   * redacted with the owner's secrets, then cut (presentOutputLine), so
   * neither an escape sequence nor a secret split by one (`canar\x1b[0my-…`)
   * reaches the answer. Anything but a BerthError stays in the system log.
   */
  #errorText(record: ContainerRecord, err: unknown): string {
    if (!(err instanceof BerthError)) return "an internal error";
    return this.#o.manager.presentWorkloadText(record, err.message);
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
