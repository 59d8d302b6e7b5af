import { EventEmitter } from "node:events";
import type {
  ContainerDetail,
  ContainerInfo,
  ContainerState,
  CreatedContainer,
  CreateStep,
  ListResult,
} from "#protocol";
import { type AdmissionPort, admit, admitEverything } from "../admission/admission.ts";
import type { Turn } from "../admission/fair-queue.ts";
import type { CodeEntryList } from "../code/code-entry.ts";
import { readCode } from "../code/read-code.ts";
import { codeBytes } from "../code/release-stats.ts";
import type { Config } from "../config/config.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import { ConflictError, NameConflictError, NotFoundError, ValidationError } from "../errors/errors.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { SecretRegistry } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type StepOptions, StepTimer } from "../progress/step-timer.ts";
import { NameTakenError, UidTakenError } from "../store/store-errors.ts";
import type { ContainerRecord, ContainerStore, ReleaseStore } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { buildCreateBody } from "./container-config.ts";
import { layOutContainerFiles, removeContainerFiles } from "./container-files.ts";
import { isContainerId, newContainerId } from "./container-id.ts";
import { toContainerInfo } from "./container-info.ts";
import type { ContainerPaths } from "./container-paths.ts";
import { type ContainerSpec, toStoredSpec } from "./container-spec.ts";
import { toSpecInfo } from "./container-spec-info.ts";
import { STARTABLE, STOPPABLE, stateFromEngine } from "./container-state.ts";
import type { EgressGuard } from "./egress-guard.ts";
import { requireEntryFile } from "./entry-file.ts";
import { ImageCatalog, ImageNotFoundError } from "./image-catalog.ts";
import { type ListRequest, listContainers } from "./list-containers.ts";
import { OperationQueue } from "./operation-queue.ts";
import { type OperationName, type OperationOutcome, OperationTracker } from "./operation-tracker.ts";
import { ensureOwnerNetwork, ownerNetworkName } from "./owner-network.ts";
import { waitUntilReady } from "./readiness.ts";
import { imageOfSpec, runtimeOfImage } from "./runtime-choice.ts";
import { SpecInfoCache } from "./spec-info-cache.ts";
import { allocateUid, checkSpecLimits } from "./spec-limits.ts";
import { UndoStack } from "./undo-stack.ts";
import type { WorkloadChannel } from "./workload-channel.ts";

export interface ContainerManagerOptions {
  config: Config;
  docker: DockerClient;
  repo: ContainerStore;
  releases: ReleaseStore;
  channel: WorkloadChannel;
  /** Where each container's secrets are registered, for its owner's redactor and the system log's. */
  secrets: SecretRegistry;
  log: SystemLogger;
  instanceId: string;
  paths: ContainerPaths;
  /** Quotas and the fair engine queue; none when left out. */
  admission?: AdmissionPort;
  /** Filters what `network: 'outbound'` containers can reach; consulted before each of them starts. */
  egress: EgressGuard;
  /** Whether the engine has an image, and what it runs by default; one over `docker` when left out. */
  images?: ImageCatalog;
  /**
   * Uids taken outside the store (an image check's throwaway container): a
   * new container never shares one, since its socket is chowned to its uid.
   */
  uidsInUse?: (uid: number) => boolean;
}

export interface StatusChange {
  info: ContainerInfo;
  /** "new" for a container that did not exist before. */
  from: ContainerState | "new";
  reason: string;
  /** Set when the engine killed the workload for using more memory than its limit. */
  oomKilled?: boolean;
}

export interface ContainerManagerEvents {
  statusChanged: [StatusChange];
  operation: [OperationOutcome];
}

/** How the workload last ended, as the engine tells (ContainerManager.syncFromEngine). */
export interface EngineExit {
  exitCode: number;
  oomKilled: boolean;
  /** When it ended; undefined when the engine does not say. */
  finishedAt: number | undefined;
}

export interface StartOptions {
  waitReady?: boolean;
  /**
   * The restart policy's start after an exit: counted in `restartCount` (a client's start is not).
   * It starts only a container still `exited` or `failed` when its turn comes, and otherwise
   * answers the container as it is, not started (an owner's stop queued before it stands).
   */
  restart?: boolean;
}

export interface StopOptions {
  timeoutSec?: number;
}

/**
 * The ContainerManager: every container's lifecycle, from create to delete,
 * through the Docker engine. Operations on one container are serialised by an
 * operation queue; operations on different containers run concurrently. Each
 * multi-step operation records how to undo what it made, so a failure half-way
 * leaves nothing behind and the caller gets the original error.
 */
export class ContainerManager extends EventEmitter<ContainerManagerEvents> {
  readonly #o: ContainerManagerOptions;
  readonly #queue = new OperationQueue();
  readonly #operations: OperationTracker;
  readonly #log: SystemLogger;
  readonly #admission: AdmissionPort;
  readonly #images: ImageCatalog;
  /** Each spec as `container:status { spec: true }` shows it, until its owner's secrets change. */
  readonly #specs = new SpecInfoCache();
  /** The latest health of each container the HealthMonitor has judged (noteHealth); forgotten on delete. */
  readonly #health = new Map<string, ContainerRecord["health"]>();
  /** The restart policy's writes under way, per container (setRestartDue). */
  readonly #restartDueWrites = new Map<string, Promise<void>>();
  /** Uids of creates storing their row now: chosen, not yet in the store. */
  readonly #storingUids = new Set<number>();

  constructor(options: ContainerManagerOptions) {
    super();
    this.#o = options;
    this.#log = options.log.child({ component: "ContainerManager" });
    this.#admission = options.admission ?? admitEverything;
    this.#images = options.images ?? new ImageCatalog(options.docker, options.log);
    this.#operations = new OperationTracker(
      async (id) => (await options.repo.get(id)) !== undefined,
      (outcome) => this.emit("operation", outcome),
    );
  }

  get queue(): OperationQueue {
    return this.#queue;
  }

  /** Finds a container by berth id or by name, as `actor` may see it; anything else is NOT_FOUND. */
  async resolve(actor: Actor, ref: string): Promise<ContainerRecord> {
    const { repo } = this.#o;
    let record: ContainerRecord | undefined;
    if (isContainerId(ref)) {
      record = await repo.get(ref);
    } else if (actor.admin) {
      const matches = await repo.findByName(ref);
      if (matches.length > 1) {
        throw new ValidationError(`Several owners have a container named '${ref}'; use its id.`, {
          details: { ids: matches.map((m) => m.id) },
        });
      }
      record = matches[0];
    } else {
      record = await repo.getByName(actor.owner, ref);
    }
    if (!record || (!actor.admin && record.owner !== actor.owner)) throw new NotFoundError();
    return record;
  }

  /** The record by berth id, whoever owns it (for berth's own components, never for a client's ref). */
  findById(id: string): Promise<ContainerRecord | undefined> {
    return this.#o.repo.get(id);
  }

  /** Every container record, whoever owns it (for berth's own recovery at start-up). */
  all(): Promise<ContainerRecord[]> {
    return this.#o.repo.all();
  }

  info(record: ContainerRecord): ContainerInfo {
    // Health is the HealthMonitor's to write, in the store; a record held through an operation (a create
    // waiting for its hello) has an older copy, and its answer must say what `health_changed` said.
    const health = this.#health.get(record.id) ?? record.health;
    return toContainerInfo({ ...record, health }, this.#o.channel.status(record.id));
  }

  /**
   * The health the HealthMonitor has just written to the store (its `change` event), so that
   * `info` answers it for a record read before — synchronously, as a status change is emitted.
   */
  noteHealth(id: string, health: ContainerRecord["health"]): void {
    this.#health.set(id, health);
  }

  /** The container as berth sees it now (`container:status` without `spec`). */
  async status(actor: Actor, ref: string): Promise<ContainerInfo> {
    return this.info(await this.resolve(actor, ref));
  }

  /**
   * The container with its spec, secret values left out, bounded (toSpecInfo).
   * Other text in the spec is redacted with the container owner's secrets, as
   * its output is, so the admin sees it exactly as the owner does (see
   * SecretRegistry.forViewer). The shown form is kept until the owner's
   * secrets change — never because another owner's did.
   */
  async detail(actor: Actor, ref: string): Promise<ContainerDetail> {
    const record = await this.resolve(actor, ref);
    const { config, secrets } = this.#o;
    const spec = this.#specs.get(record.spec, secrets.generationOf(record.owner), () =>
      toSpecInfo(
        record.spec,
        { memoryMb: config.defaultMemoryMb, cpus: config.defaultCpus, pids: config.defaultPids },
        secrets.forOwner(record.owner),
      ),
    );
    return { ...this.info(record), spec };
  }

  list(actor: Actor, request: ListRequest): Promise<ListResult> {
    return listContainers(this.#o.repo, actor, request, (r) => this.info(r));
  }

  /**
   * Creates a container from a validated spec; with `start` (the default) it
   * answers once the workload is ready, with each step's timings. `onStep`
   * hears of each step (validate, write, create, start, ready) as it starts and ends.
   */
  async create(actor: Actor, spec: ContainerSpec, options: StepOptions = {}): Promise<CreatedContainer> {
    const id = newContainerId();
    const timer = new StepTimer<CreateStep>(id, options.onStep);
    return this.track("create", { owner: actor.owner, name: spec.name }, () =>
      this.#create(actor, spec, id, timer).catch((err: unknown) => {
        timer.fail();
        throw err;
      }),
    );
  }

  async #create(
    actor: Actor,
    spec: ContainerSpec,
    id: string,
    timer: StepTimer<CreateStep>,
  ): Promise<CreatedContainer> {
    const { config, repo, docker, paths, secrets } = this.#o;
    timer.start("validate");
    const image = imageOfSpec(spec, config);
    checkSpecLimits(spec, image, config);
    // Files or an archive, with the same checks and limits as an update; nothing is written if any entry is bad.
    const entries = spec.code
      ? readCode(spec.code, { maxBytes: config.maxCodeBytes, maxFiles: config.maxCodeFiles })
      : undefined;

    const existing = await repo.getByName(actor.owner, spec.name);
    if (existing) throw new NameConflictError(spec.name, existing.id);
    // Before anything is made: a missing or incompatible image, a runtime the image is not for, or code
    // its default command cannot run, fails here.
    const found = await this.#images.require(image);
    const runtime = runtimeOfImage(spec, image, found.labels, config);
    if (entries && !spec.command) requireEntryFile(entries, found, runtime);
    const stored = toStoredSpec(spec);
    // Kept as resolved, so that the container shows what it runs whatever the spec said.
    if (runtime !== undefined) stored.runtime = runtime;
    else delete stored.runtime;

    const log = this.#log.child({ containerId: id, op: "create" });
    const undo = new UndoStack();
    log.info({ name: spec.name, image, runtime }, "creating container");
    return this.#queue.run(id, "create", async () => {
      let startedAt: number | undefined;
      let networkName: string | undefined;
      // Released once the store records the outcome (or the create is undone): counted once, never twice or not at all.
      const admitted = await admit(
        this.#admission,
        actor.owner,
        !actor.admin,
        (a) =>
          a.reserveCreate(actor.owner, id, {
            resources: spec.resources,
            starts: spec.start !== false,
            codeBytes: entries ? codeBytes(entries) : 0,
          }),
        async () => {
          if (spec.network === "outbound") networkName = await this.#filteredNetwork(actor.owner);
        },
      );
      const record: ContainerRecord = {
        id,
        owner: actor.owner,
        name: spec.name,
        image,
        spec: stored,
        dockerId: null,
        dockerName: `berth-${id}`,
        state: "created",
        health: "none",
        uid: 0, // chosen as it is stored (insertWithFreeUid)
        createdAt: Date.now(),
        startedAt: null,
        exitCode: null,
        release: entries ? 1 : null,
        restartCount: 0,
      };
      try {
        timer.start("write");
        try {
          await this.#insertWithFreeUid(record);
        } catch (err) {
          if (!(err instanceof NameTakenError)) throw err;
          // A create of the same name that stored its row first (after the check above): NAME_CONFLICT, as then.
          const taken = await repo.getByName(actor.owner, spec.name);
          if (taken) throw new NameConflictError(spec.name, taken.id);
          throw err;
        }
        undo.push("delete row", () => repo.delete(id));
        secrets.addEnvironment(actor.owner, spec.env, spec.secretEnv);
        undo.push("forget secrets", () => secrets.removeEnvironment(actor.owner, spec.env, spec.secretEnv));

        await layOutContainerFiles({
          paths,
          releases: this.#o.releases,
          id,
          code: entries,
          createdAt: record.createdAt,
          createdBy: actor.owner,
          undo,
        });
        undo.push("close channel", () => this.#o.channel.close(id));
        await this.#o.channel.open(id, { uid: record.uid, gid: record.uid });

        timer.start("create");
        const dockerId = await docker
          .createContainer(
            buildCreateBody({
              id,
              owner: actor.owner,
              instanceId: this.#o.instanceId,
              uid: record.uid,
              spec: record.spec,
              image,
              socketDir: paths.socketDir(id),
              codeDir: paths.codeDir(id),
              hasCode: entries !== undefined,
              networkName,
              config,
            }),
          )
          .catch((err: unknown) => {
            // The engine's 404 on a create is its image (removed since the check above).
            if (err instanceof NotFoundError) throw new ImageNotFoundError(image);
            throw err;
          });
        undo.push("remove engine container", () => docker.removeContainer(dockerId));
        record.dockerId = dockerId;
        startedAt = Date.now();
        if (spec.start !== false) {
          timer.start("start");
          await docker.startContainer(dockerId);
        }
        // Stored once the engine container is made and started, before its state is: a row
        // without it is a create that a crash cut half-way, which the next start undoes (reconciler).
        await repo.update(id, { dockerId });
        timer.done();
      } catch (err) {
        timer.fail();
        log.warn({ err }, "create failed; cleaning up");
        await undo.unwind(log);
        admitted.release();
        throw err;
      }
      try {
        log.info("created container");
        this.#emit(record, "new", "created");
        // Recorded running before the reservation goes: from then on the quota counts it from the store.
        if (spec.start !== false)
          await this.#setState(record, "running", "started", { startedAt: Date.now(), exitCode: null });
      } finally {
        admitted.release();
      }
      if (spec.start === false) return created(this.info(record), timer);
      // From here on the container exists: a workload that is not ready is the owner's to inspect, fix or delete.
      if (spec.waitReady !== false) await timer.time("ready", () => this.#waitReady(record, startedAt));
      return created(this.info(record), timer);
    });
  }

  async start(actor: Actor, ref: string, options: StartOptions = {}): Promise<ContainerInfo> {
    const record = await this.resolve(actor, ref);
    return this.track("start", record, () => this.#start(record, options, actor));
  }

  #start(record: ContainerRecord, options: StartOptions, actor: Actor): Promise<ContainerInfo> {
    return this.#queue.run(record.id, "start", async () => {
      const current = await this.#fresh(record.id);
      // berth's own start after an exit (restart policy, the engine's return) was decided before
      // this turn: an owner's stop or start queued meanwhile answered the exit, and is not undone.
      if (options.restart === true && !RESTARTABLE.has(current.state)) return this.info(current);
      this.#require(current, STARTABLE, "start");
      const log = this.#log.child({ containerId: current.id, op: "start" });
      // The filter may have gone since the create (a host firewall reload, a reboot): never start unfiltered.
      const admitted = await admit(
        this.#admission,
        current.owner,
        !actor.admin,
        (a) => a.reserveRun(current.owner, current.id, current.spec.resources),
        async () => {
          if (current.spec.network === "outbound") await this.#filteredNetwork(current.owner);
        },
      );
      const before = current.state;
      // Asked of the engine even when berth believes it runs: the workload may
      // have exited a moment ago, before the engine's event reached berth.
      const t0 = Date.now();
      let started: boolean;
      try {
        if (before !== "running") {
          log.info("starting container");
          await this.#setState(current, "starting", "starting");
        }
        try {
          started = await this.#o.docker.startContainer(this.#dockerId(current));
        } catch (err) {
          await this.#setState(current, this.#afterFailure(err, before), "start failed");
          throw err;
        }
        if (started || before !== "running") {
          await this.#setState(current, "running", "started", {
            startedAt: Date.now(),
            exitCode: null,
            ...(options.restart === true && started ? { restartCount: current.restartCount + 1 } : {}),
          });
          log.info({ started }, "started container");
        }
      } finally {
        admitted.release(); // once the store has the outcome
      }
      if (options.waitReady === false) return this.info(current);
      try {
        await this.#waitReady(current, started ? t0 : undefined);
      } catch (err) {
        // The engine said "already running" while the workload was on its way out; now it is out: start it for real.
        if (started || !(err instanceof BerthError && err.details?.cause === "exited")) throw err;
        log.info("workload had just exited; starting it again");
        const t1 = Date.now();
        await this.#o.docker.startContainer(this.#dockerId(current));
        await this.#setState(current, "running", "started", { startedAt: Date.now(), exitCode: null });
        await this.#waitReady(current, t1);
      }
      return this.info(current);
    });
  }

  async stop(actor: Actor, ref: string, options: StopOptions = {}): Promise<ContainerInfo> {
    const record = await this.resolve(actor, ref);
    return this.track("stop", record, () => this.#stop(record, options));
  }

  #stop(record: ContainerRecord, options: StopOptions): Promise<ContainerInfo> {
    return this.#queue.run(record.id, "stop", async () => {
      const current = await this.#fresh(record.id);
      this.#require(current, STOPPABLE, "stop");
      await this.#stopNow(current, options.timeoutSec ?? this.#o.config.stopTimeoutSec);
      return this.info(current);
    });
  }

  /** Stops and starts the workload; `onStep` hears of each step (stop, start, ready) as it starts and ends. */
  async restart(
    actor: Actor,
    ref: string,
    options: StopOptions & StartOptions & StepOptions = {},
  ): Promise<ContainerInfo> {
    const record = await this.resolve(actor, ref);
    return this.track("restart", record, () => this.#restart(record, options));
  }

  #restart(
    record: ContainerRecord,
    options: StopOptions & StartOptions & StepOptions,
  ): Promise<ContainerInfo> {
    const timer = new StepTimer<"stop" | "start" | "ready">(record.id, options.onStep);
    return this.#queue.run(record.id, "restart", async () => {
      const current = await this.#fresh(record.id);
      let startedAt: number | undefined;
      this.#require(current, STOPPABLE, "restart");
      // Checked here and counted by the store from `restarting` on: nothing to hold.
      (await this.#admission.reserveRun(current.owner, current.id, current.spec.resources)).release();
      const log = this.#log.child({ containerId: current.id, op: "restart" });
      log.info("restarting container");
      await this.#setState(current, "restarting", "restarting");
      const dockerId = this.#dockerId(current);
      try {
        if (current.spec.network === "outbound") await this.#filteredNetwork(current.owner);
        await timer.time("stop", () =>
          this.#o.docker.stopContainer(dockerId, options.timeoutSec ?? this.#o.config.stopTimeoutSec),
        );
        startedAt = await timer.time("start", () => this.startProcess(current));
      } catch (err) {
        await this.#setState(current, this.#afterFailure(err, "running"), "restart failed");
        throw err;
      }
      await this.#setState(current, "running", "restarted", {
        startedAt: Date.now(),
        exitCode: null,
        restartCount: current.restartCount + 1,
      });
      log.info("restarted container");
      if (options.waitReady !== false) await timer.time("ready", () => this.#waitReady(current, startedAt));
      return this.info(current);
    });
  }

  /**
   * Removes the container, its directories and its row. Idempotent: deleting
   * what is already gone answers `{ deleted: false }`, so a client that lost
   * an acknowledgement can simply ask again.
   */
  async delete(actor: Actor, ref: string): Promise<{ id?: string; deleted: boolean }> {
    let record: ContainerRecord;
    try {
      record = await this.resolve(actor, ref);
    } catch (err) {
      if (err instanceof NotFoundError) return { deleted: false };
      throw err;
    }
    return this.track("delete", record, () =>
      this.#queue.run(record.id, "delete", async () => {
        const current = await this.#o.repo.get(record.id);
        if (!current) return { id: record.id, deleted: false };
        const turn = await this.#admission.engineTurn(current.owner, { bounded: !actor.admin });
        await this.removeEverything(current, "deleted", turn).finally(() => turn.release());
        return { id: current.id, deleted: true };
      }),
    );
  }

  /**
   * Tears a container down completely; also used by reconciliation to finish
   * an interrupted delete. A `turn` at the engine is given back before the
   * egress filter of the owner's last outbound container goes (iptables).
   */
  async removeEverything(record: ContainerRecord, reason: string, turn?: Turn): Promise<void> {
    const { docker, repo, paths, channel, secrets } = this.#o;
    const log = this.#log.child({ containerId: record.id, op: "delete" });
    log.info("deleting container");
    const from = record.state;
    if (record.state !== "removing") await this.#setState(record, "removing", reason);
    // The engine container and the host-side files go in parallel: the row,
    // which lets a later reconciliation finish the job, goes only once both have.
    const [engine, files] = await Promise.allSettled([
      record.dockerId ? docker.removeContainer(record.dockerId) : Promise.resolve(),
      (async () => {
        await channel.close(record.id);
        await removeContainerFiles(paths, record.id);
      })(),
    ]);
    if (engine.status === "rejected") throw engine.reason;
    if (files.status === "rejected") throw files.reason;
    await repo.delete(record.id);
    this.#health.delete(record.id);
    secrets.removeEnvironment(record.owner, record.spec.env, record.spec.secretEnv);
    if (record.spec.network === "outbound") await this.#removeOwnerNetworkIfUnused(record.owner, turn);
    log.info({ from }, "deleted container");
  }

  /**
   * Reads the engine's truth about one container and records any change.
   * Engine events and resyncs come here; it runs in the container's operation
   * queue, so it never interleaves with an operation berth itself is making
   * (whose own outcome is recorded by that operation).
   */
  syncFromEngine(id: string, reason: string): Promise<EngineExit | undefined> {
    return this.#queue.run(id, "sync", async () => {
      const record = await this.#o.repo.get(id);
      if (!record || record.state === "removing") return undefined;
      const inspect = record.dockerId ? await this.#o.docker.inspectContainer(record.dockerId) : undefined;
      if (!inspect) {
        if (record.dockerId) await this.observe(record, "missing", "engine container vanished");
        return undefined;
      }
      const finishedAt = Date.parse(inspect.State.FinishedAt ?? "");
      const exit: EngineExit | undefined = inspect.State.Running
        ? undefined
        : {
            exitCode: inspect.State.ExitCode,
            oomKilled: inspect.State.OOMKilled === true,
            // The engine's zero time ("0001-01-01…") for a container that never ran.
            finishedAt: finishedAt > 0 ? finishedAt : undefined,
          };
      const to = stateFromEngine(inspect.State.Status, record.state);
      if (to === record.state) return exit;
      const changes: Partial<ContainerRecord> = {};
      let why = reason;
      if (to === "exited" || to === "stopped") {
        changes.exitCode = inspect.State.ExitCode;
        if (inspect.State.OOMKilled) why = "out of memory";
      }
      if (to === "running") {
        changes.startedAt = Date.parse(inspect.State.StartedAt) || Date.now();
        // Started outside berth after it had stopped: a restart all the same (see ContainerInfo.restartCount).
        if (STOPPED_BEFORE.has(record.state)) changes.restartCount = record.restartCount + 1;
      }
      await this.#setState(record, to, why, changes, { oomKilled: inspect.State.OOMKilled === true });
      return exit;
    });
  }

  /**
   * The restart policy's bookkeeping (RestartSupervisor): when its start is due (null: none) and
   * its attempts, kept in the store so that a berth killed during a back-off leaves them to the next.
   */
  setRestartDue(id: string, due: { at: number | null; attempts?: number }): Promise<void> {
    // One write at a time per container, in the order asked: the store answers later, and a
    // decision must not be overwritten by the mark that preceded it.
    const write = (this.#restartDueWrites.get(id) ?? Promise.resolve()).then(async () => {
      const record = await this.#o.repo.get(id);
      if (!record) return;
      // A start, a stop or a delete made since answered the exit (and cleared it): nothing is due any more.
      if (due.at !== null && record.state !== "exited") return;
      const { at, attempts } = due;
      await this.#o.repo.update(id, {
        restartDueAt: at,
        ...(attempts === undefined ? {} : { restartAttempts: attempts }),
      });
    });
    const settled = write.catch(() => {});
    this.#restartDueWrites.set(id, settled);
    void settled.then(() => {
      if (this.#restartDueWrites.get(id) === settled) this.#restartDueWrites.delete(id);
    });
    return write;
  }

  // ---- The process itself, for berth's own multi-step operations (code updates). ----
  // They change no recorded state: the caller runs inside the container's
  // operation queue and records the outcome of the whole step.

  /** The container's current record; NOT_FOUND when it is gone. */
  current(id: string): Promise<ContainerRecord> {
    return this.#fresh(id);
  }

  async stopProcess(record: ContainerRecord): Promise<void> {
    await this.#o.docker.stopContainer(this.#dockerId(record), this.#o.config.stopTimeoutSec);
  }

  /** Starts the process and returns when berth asked for it, for `waitReady`. */
  async startProcess(record: ContainerRecord): Promise<number> {
    // The filter first, so no turn at the engine is held while iptables runs.
    if (record.spec.network === "outbound") await this.#filteredNetwork(record.owner);
    // A step of an operation already admitted: it waits for its turn, never refused half-way.
    const turn = await this.#admission.engineTurn(record.owner, { bounded: false });
    const t0 = Date.now();
    await this.#o.docker.startContainer(this.#dockerId(record)).finally(() => turn.release());
    return t0;
  }

  /**
   * Starts the process and records it running, for a step berth makes on its
   * own (a start a crash cut, an update undone): one place that says what a
   * start leaves in the row. In the caller's queue turn.
   */
  async finishStart(
    record: ContainerRecord,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    await this.startProcess(record);
    await this.observe(record, "running", reason, { startedAt: Date.now(), exitCode: null, ...changes });
  }

  /** NOT_READY (with its cause, exit code and output) unless a hello arrives after `since` within `timeoutMs`. */
  async waitReady(record: ContainerRecord, since: number, timeoutMs: number): Promise<void> {
    await waitUntilReady({
      id: record.id,
      dockerId: this.#dockerId(record),
      startedAt: since,
      timeoutMs,
      docker: this.#o.docker,
      channel: this.#o.channel,
      redactor: this.#o.secrets.forOwner(record.owner),
    });
  }

  /**
   * VALIDATION_FAILED when new code lacks the file that the container's
   * image runs by default (and its spec names no command of its own).
   */
  async checkEntryFile(record: ContainerRecord, entries: CodeEntryList): Promise<void> {
    if (record.spec.command) return;
    // The engine container exists and holds its image; one removed by force since is the engine's to report.
    const found = await this.#images.describe(record.image);
    if (found) requireEntryFile(entries, found, record.spec.runtime ?? found.labels.runtime);
  }

  /** The last lines of the workload's output since `sinceMs` (all it kept, without), as its owner may see them. */
  async recentOutput(record: ContainerRecord, sinceMs?: number, lines = 20): Promise<string[]> {
    if (!record.dockerId) return [];
    const out = await this.#o.docker.containerLogs(record.dockerId, lines, sinceMs).catch(() => []);
    const redactor = this.#o.secrets.forOwner(record.owner);
    return out.map((l) => presentOutputLine(l, redactor));
  }

  /** Text that came from the workload (an error it answered with), as its owner may see it (presentOutputLine). */
  presentWorkloadText(record: ContainerRecord, text: string): string {
    return presentOutputLine(text, this.#o.secrets.forOwner(record.owner));
  }

  /**
   * Whether a container has `uid`, or a create is storing one with it (an image check
   * asks, to run its throwaway container as a uid no container has or is about to have).
   */
  async isUidTaken(uid: number): Promise<boolean> {
    return this.#storingUids.has(uid) || (await this.#o.repo.isUidTaken(uid));
  }

  /**
   * Stores a new container's row with a free uid. The store is asked whether a
   * uid is free, and answers later: another create (or another berth's) may take
   * the same one in between, which the store's uniqueness refuses — then another
   * is chosen. An image check's uid is avoided too (uidsInUse).
   */
  async #insertWithFreeUid(record: ContainerRecord): Promise<void> {
    const { config, repo } = this.#o;
    for (let attempt = 1; ; attempt++) {
      const uid = await allocateUid(
        config.uidRange,
        async (u) =>
          this.#storingUids.has(u) || (await repo.isUidTaken(u)) || this.#o.uidsInUse?.(u) === true,
      );
      if (this.#storingUids.has(uid) || this.#o.uidsInUse?.(uid) === true) continue;
      record.uid = uid;
      this.#storingUids.add(uid);
      try {
        await repo.insert(record);
        return;
      } catch (err) {
        if (!(err instanceof UidTakenError) || attempt >= MAX_UID_TRIES) throw err;
        this.#log.debug({ containerId: record.id, uid }, "uid taken meanwhile; choosing another");
      } finally {
        this.#storingUids.delete(uid);
      }
    }
  }

  /** Waits for every operation in flight; used at shutdown. */
  drain(): Promise<void> {
    return this.#queue.drain();
  }

  /** Records a state that berth observed rather than caused (engine events, reconciliation). */
  async observe(
    record: ContainerRecord,
    to: ContainerState,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    if (record.state === to && Object.keys(changes).length === 0) return;
    await this.#setState(record, to, reason, changes);
  }

  /**
   * Whether an engine event is the echo of berth's own operation — the `die`
   * of a stop, the `start` of a restart — which that operation records itself.
   * True while such an operation is under way, or when the event happened
   * before the last one ended (events can arrive a moment late). Anything
   * else (a crash, a stop from outside) is not, and gets a sync.
   */
  causedByBerth(id: string, action: string, time: number): boolean {
    return this.#operations.causedByBerth(id, action, time, this.#queue.current(id));
  }

  /** Runs an operation and tells listeners (the activity feed) how it went and how long it took. */
  track<T>(
    op: OperationName,
    subject: { id?: string; owner: string; name: string },
    fn: () => Promise<T>,
  ): Promise<T> {
    return this.#operations.track(op, subject, fn);
  }

  async #stopNow(record: ContainerRecord, timeoutSec: number): Promise<void> {
    if (record.state === "stopped" || record.state === "created") return;
    const log = this.#log.child({ containerId: record.id, op: "stop" });
    // Already out, yet its owner wants it down: recorded, so that no automatic start undoes it.
    if (record.state === "exited") return await this.#setState(record, "stopped", "stopped");
    log.info({ timeoutSec }, "stopping container");
    const before = record.state;
    await this.#setState(record, "stopping", "stopping");
    try {
      await this.#o.docker.stopContainer(this.#dockerId(record), timeoutSec);
    } catch (err) {
      await this.#setState(record, this.#afterFailure(err, before), "stop failed");
      throw err;
    }
    await this.#setState(record, "stopped", "stopped");
    log.info("stopped container");
  }

  async #waitReady(record: ContainerRecord, startedAt: number | undefined): Promise<void> {
    try {
      await waitUntilReady({
        id: record.id,
        startedAt,
        dockerId: this.#dockerId(record),
        timeoutMs: this.#o.config.readyTimeoutMs,
        docker: this.#o.docker,
        channel: this.#o.channel,
        redactor: this.#o.secrets.forOwner(record.owner),
      });
    } catch (err) {
      // The container exists and is kept: its id lets the client read its output, fix it or delete it.
      if (err instanceof BerthError && err.details) err.details.containerId = record.id;
      if (err instanceof BerthError && err.code === "NOT_READY" && err.details?.cause === "exited") {
        await this.#setState(record, "exited", "exited before ready", {
          exitCode: Number(err.details.exitCode),
        });
      }
      throw err;
    }
  }

  /** The owner's bridge, created if missing, with its egress filter in place (or EGRESS_FILTER_UNAVAILABLE). */
  async #filteredNetwork(owner: string): Promise<string> {
    const network = await ensureOwnerNetwork(this.#o.docker, this.#o.instanceId, owner);
    await this.#o.egress.protect(network.bridge);
    return network.name;
  }

  async #removeOwnerNetworkIfUnused(owner: string, turn: Turn | undefined): Promise<void> {
    const stillUsed = (await this.#o.repo.list({ owner, limit: 1_000_000 })).some(
      (r) => r.spec.network === "outbound",
    );
    if (stillUsed) return;
    const name = ownerNetworkName(this.#o.instanceId, owner);
    const network = await this.#o.docker.inspectNetwork(name);
    const removed = await this.#o.docker.removeNetwork(name);
    turn?.release(); // the engine's part is done; iptables can take seconds, and needs no turn
    // The rules go only once the network has: a bridge that still has containers stays filtered.
    if (removed && network) await this.#o.egress.release(network.bridge);
  }

  /**
   * The state to record after an engine call failed: unchanged when the engine
   * could not be reached (nothing happened; a resync tells the truth later),
   * `failed` when it refused.
   */
  #afterFailure(err: unknown, before: ContainerState): ContainerState {
    return err instanceof BerthError && err.code === "DOCKER_UNAVAILABLE" ? before : "failed";
  }

  async #fresh(id: string): Promise<ContainerRecord> {
    const record = await this.#o.repo.get(id);
    if (!record) throw new NotFoundError();
    return record;
  }

  #dockerId(record: ContainerRecord): string {
    if (!record.dockerId) throw new ConflictError("The container is still being created.");
    return record.dockerId;
  }

  #require(record: ContainerRecord, allowed: ReadonlySet<ContainerState>, op: string): void {
    if (!allowed.has(record.state)) {
      throw new ConflictError(`Cannot ${op} a container that is ${record.state}.`, {
        retryable: false,
        details: { state: record.state },
      });
    }
  }

  async #setState(
    record: ContainerRecord,
    to: ContainerState,
    reason: string,
    changes: Partial<ContainerRecord> = {},
    extra: { oomKilled?: boolean } = {},
  ): Promise<void> {
    const from = record.state;
    // Anything but an exit answers the restart the policy had due (RestartSupervisor): a start, a stop, a delete.
    const written = to === "exited" ? changes : { ...changes, restartDueAt: null };
    // The store first: a failed write leaves the record as it was, and tells no one of a change.
    await this.#o.repo.update(record.id, { ...written, state: to });
    Object.assign(record, written, { state: to });
    if (from !== to) this.#emit(record, from, reason, extra);
  }

  #emit(
    record: ContainerRecord,
    from: ContainerState | "new",
    reason: string,
    extra: { oomKilled?: boolean } = {},
  ): void {
    this.emit("statusChanged", { info: this.info(record), from, reason, ...extra });
  }
}

/** How often a create chooses another uid when the store says the one it chose was taken meanwhile. */
const MAX_UID_TRIES = 5;

/** The states an automatic start (StartOptions.restart) starts from: the workload stopped on its own. */
const RESTARTABLE: ReadonlySet<ContainerState> = new Set(["exited", "failed"]);

/** States after which the workload running again, started by someone other than berth, counts as a restart. */
const STOPPED_BEFORE: ReadonlySet<ContainerState> = new Set(["exited", "stopped", "failed"]);

/** The create's answer: the container and its steps' timings (0 for a step that did not run). */
function created(info: ContainerInfo, timer: StepTimer<CreateStep>): CreatedContainer {
  return { ...info, timings: timer.report(["validate", "write", "create", "start", "ready"]) };
}
