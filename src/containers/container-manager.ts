import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type {
  ContainerDetail,
  ContainerInfo,
  ContainerState,
  CreatedContainer,
  CreateStep,
  ListResult,
} from "#protocol";
import { admitEverything } from "../admission/admission.ts";
import type { Turn } from "../admission/fair-queue.ts";
import { NotFoundError } from "../errors/errors.ts";
import { type StepOptions, StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { AskedOperations } from "./asked-operations.ts";
import { newContainerId } from "./container-id.ts";
import { toContainerInfo } from "./container-info.ts";
import { ContainerLifecycleSteps } from "./container-lifecycle-steps.ts";
import { ContainerOwners } from "./container-owners.ts";
import type { ContainerSpec } from "./container-spec.ts";
import { toSpecInfo } from "./container-spec-info.ts";
import { createContainer } from "./create-container.ts";
import { syncFromEngine } from "./engine-sync.ts";
import { ImageCatalog } from "./image-catalog.ts";
import type { LifecycleContext } from "./lifecycle-context.ts";
import type { LifecycleSteps } from "./lifecycle-steps.ts";
import type {
  ContainerManagerEvents,
  ContainerManagerOptions,
  EngineExit,
  StartOptions,
  StopOptions,
} from "./lifecycle-types.ts";
import { type ListRequest, listContainers } from "./list-containers.ts";
import { OperationQueue } from "./operation-queue.ts";
import { type OperationName, OperationTracker } from "./operation-tracker.ts";
import { relocateContainer } from "./relocate-container.ts";
import { deleteContainer, removeEverything } from "./remove-container.ts";
import { resolveContainer } from "./resolve-container.ts";
import { restartContainer } from "./restart-container.ts";
import { RestartDueWrites } from "./restart-due-writes.ts";
import { SpecInfoCache } from "./spec-info-cache.ts";
import { startContainer } from "./start-container.ts";
import { StateWriter } from "./state-writer.ts";
import { stopContainer } from "./stop-container.ts";
import { UidClaims } from "./uid-claims.ts";

// The façade's types live in lifecycle-types.ts (the parts it hands its work to use them too); its users import them from here.
export type {
  ContainerManagerEvents,
  ContainerManagerOptions,
  EngineExit,
  StartOptions,
  StatusChange,
  StopOptions,
} from "./lifecycle-types.ts";

/**
 * The ContainerManager: every container's lifecycle, from create to delete,
 * through the Docker engine — the façade the API and berth's own components
 * use. Operations on one container are serialised by an operation queue;
 * operations on different containers run concurrently. Each multi-step
 * operation records how to undo what it made, so a failure half-way leaves
 * nothing behind and the caller gets the original error. Each idea lives in
 * a file of its own (create-container.ts, start-container.ts, …); every state
 * is written by one StateWriter, against one transition table.
 *
 * berth's own multi-step operations (code updates, the recovery of what a
 * crash cut) drive lifecycle through `steps`, a narrow port; engine events
 * and reconciliation record what they saw through `observe` and `syncFromEngine`.
 *
 * A little over 300 lines on purpose: it is the one façade, and each method is
 * the few lines that resolve, track and hand over to the file that holds the idea.
 */
export class ContainerManager extends EventEmitter<ContainerManagerEvents> {
  readonly #options: ContainerManagerOptions;
  readonly #ctx: LifecycleContext;
  readonly #uids: UidClaims;
  readonly #restartDue: RestartDueWrites;
  /** Each spec as `container:status { spec: true }` shows it, until its owner's secrets change. */
  readonly #specs = new SpecInfoCache();
  /** The latest health of each container the HealthMonitor has judged (noteHealth); forgotten on delete. */
  readonly #health = new Map<string, ContainerRecord["health"]>();
  /** Who owns each container, for the hot per-workload calls (reach); forgotten on delete. */
  readonly #owners: ContainerOwners;
  /** Closed by drain(): operations asked for from then on are refused SHUTTING_DOWN. */
  readonly #asked = new AskedOperations();
  /** The lifecycle steps berth's own multi-step operations take (the updater, the recovery of cut operations). */
  readonly steps: LifecycleSteps;

  constructor(options: ContainerManagerOptions) {
    super();
    this.#options = options;
    const log = options.log.child({ component: "ContainerManager" });
    const info = (record: ContainerRecord) => this.info(record);
    const queue = new OperationQueue(options.locks);
    this.#owners = new ContainerOwners(options.repo, options.changes);
    this.#ctx = {
      options,
      log,
      queue,
      operations: new OperationTracker(
        async (id) => (await options.repo.get(id)) !== undefined,
        (outcome) => this.emit("operation", outcome),
        (latest) => {
          const health = this.#health.get(latest.id);
          return health === undefined || health === latest.health ? latest : { ...latest, health };
        },
      ),
      states: new StateWriter(
        options.repo,
        info,
        (change) => this.emit("statusChanged", change),
        (id) => queue.assertHeld(id),
      ),
      admission: options.admission ?? admitEverything,
      images: options.images ?? new ImageCatalog(options.docker, options.log),
      info,
      forget: (id) => {
        this.#health.delete(id);
        this.#owners.forget(id);
      },
    };
    this.#uids = options.uids ?? new UidClaims(options.repo, options.config.uidRange, log);
    this.#restartDue = new RestartDueWrites(options.repo);
    this.steps = new ContainerLifecycleSteps(this.#ctx);
  }

  /**
   * Zero when no lifecycle work is under way: neither an operation a caller
   * asked for that has not answered (a create has no turn of its container
   * until its row exists) nor a turn berth took itself (an engine sync, a
   * recovery). Otherwise the larger of the two counts.
   */
  get operationsUnderWay(): number {
    return Math.max(this.#ctx.queue.busyKeys, this.#ctx.operations.inFlight, this.#asked.count);
  }

  // ---- Finding and showing containers. ----

  /** Finds a container by berth id or by name, as `actor` may see it; anything else is NOT_FOUND. */
  resolve(actor: Actor, ref: string): Promise<ContainerRecord> {
    return resolveContainer(this.#options.repo, actor, ref);
  }

  /**
   * Runs `call` with the id of the container `ref` names, as `actor` may reach it (NOT_FOUND otherwise, as
   * `resolve`), for the calls that need nothing of the container but that: a request, a message. With
   * PostgreSQL the owner is kept in memory until the store tells the container's removal (container-owners.ts).
   */
  reach<T>(actor: Actor, ref: string, call: (id: string) => Promise<T>): Promise<T> {
    return this.#owners.reach(actor, ref, call);
  }

  /** The record by berth id, whoever owns it (for berth's own components, never for a client's ref). */
  findById(id: string): Promise<ContainerRecord | undefined> {
    return this.#options.repo.get(id);
  }

  /** Every container record, whoever owns it (for berth's own recovery at start-up). */
  all(): Promise<ContainerRecord[]> {
    return this.#options.repo.all();
  }

  info(record: ContainerRecord): ContainerInfo {
    // Health is the HealthMonitor's to write, in the store; a record held through an operation (a create
    // waiting for its hello) has an older copy, and its answer must say what `health_changed` said.
    const health = this.#health.get(record.id) ?? record.health;
    return toContainerInfo({ ...record, health }, this.#options.channel.status(record.id));
  }

  /**
   * The health the HealthMonitor has just written to the store (its `change` event), so that
   * `info` answers it for a record read before — synchronously, as a status change is emitted.
   */
  noteHealth(id: string, health: ContainerRecord["health"]): void {
    this.#health.set(id, health);
  }
  /**
   * Forgets every health noted: from now on the store's word is answered. Cluster mode: the server that
   * stops leading stops watching health, and another server writes it from then on.
   */
  forgetHealth(): void {
    this.#health.clear();
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
    const { config, secrets } = this.#options;
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
    return listContainers(this.#options.repo, actor, request, (r) => this.info(r));
  }

  // ---- The operations clients ask for, each tracked (the activity feed hears how it went). ----

  /**
   * Creates a container from a validated spec; with `start` (the default) it
   * answers once the workload is ready, with each step's timings. `onStep`
   * hears of each step (validate, write, create, start, ready) as it starts and ends.
   */
  async create(actor: Actor, spec: ContainerSpec, options: StepOptions = {}): Promise<CreatedContainer> {
    return this.#asked.run(() => {
      const id = newContainerId();
      const timer = new StepTimer<CreateStep>(id, options.onStep);
      return this.#track("create", { owner: actor.owner, name: spec.name }, () =>
        createContainer(this.#ctx, this.#uids, actor, spec, id, timer).catch((err: unknown) => {
          timer.fail();
          throw err;
        }),
      );
    });
  }

  async start(actor: Actor, ref: string, options: StartOptions = {}): Promise<ContainerInfo> {
    return this.#asked.run(async () => {
      const record = await this.resolve(actor, ref);
      return this.#track("start", record, () => startContainer(this.#ctx, record, options, actor));
    });
  }

  async stop(actor: Actor, ref: string, options: StopOptions = {}): Promise<ContainerInfo> {
    return this.#asked.run(async () => {
      const record = await this.resolve(actor, ref);
      return this.#track("stop", record, () => stopContainer(this.#ctx, record, options));
    });
  }

  /**
   * Cluster mode: moves a workload off a node Swarm calls down to another node (relocate-container.ts);
   * false when there was nothing to move. Run by the leader of re-placement, not asked for by a client.
   */
  relocate(id: string, lostNode: string): Promise<boolean> {
    return relocateContainer(this.#ctx, id, lostNode);
  }

  /** Stops and starts the workload; `onStep` hears of each step (stop, start, ready) as it starts and ends. */
  async restart(
    actor: Actor,
    ref: string,
    options: StopOptions & StartOptions & StepOptions = {},
  ): Promise<ContainerInfo> {
    return this.#asked.run(async () => {
      const record = await this.resolve(actor, ref);
      return this.#track("restart", record, () => restartContainer(this.#ctx, record, options));
    });
  }

  /**
   * Removes the container, its directories and its row. Idempotent: deleting
   * what is already gone answers `{ deleted: false }`, so a client that lost
   * an acknowledgement can simply ask again.
   */
  async delete(actor: Actor, ref: string): Promise<{ id?: string; deleted: boolean }> {
    return this.#asked.run(async () => {
      let record: ContainerRecord;
      try {
        record = await this.resolve(actor, ref);
      } catch (err) {
        if (err instanceof NotFoundError) return { deleted: false };
        throw err;
      }
      return this.#track("delete", record, () => deleteContainer(this.#ctx, record, actor));
    });
  }

  /** Runs an operation and tells listeners (the activity feed) how it went and how long it took. */
  #track<T>(
    op: OperationName,
    subject: { id?: string; owner: string; name: string },
    fn: () => Promise<T>,
  ): Promise<T> {
    return this.#ctx.operations.track(op, subject, fn);
  }

  // ---- berth's own upkeep: reconciliation, engine events, the restart policy. ----

  /**
   * Tears a container down completely; also used by reconciliation to finish
   * an interrupted delete. A `turn` at the engine is given back before the
   * egress filter of the owner's last outbound container goes (iptables).
   */
  removeEverything(record: ContainerRecord, reason: string, turn?: Turn): Promise<void> {
    return removeEverything(this.#ctx, record, reason, turn);
  }

  /** Reads the engine's truth about one container and records any change (engine-sync.ts), in its turn. */
  syncFromEngine(id: string, reason: string): Promise<EngineExit | undefined> {
    return syncFromEngine(this.#ctx, id, reason);
  }

  /**
   * Records a state that berth observed rather than caused (reconciliation:
   * an engine container that vanished, or one adopted), as the engine's move.
   * berth's own steps go through `steps.reach` instead.
   */
  async observe(
    record: ContainerRecord,
    to: ContainerState,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    if (record.state === to && Object.keys(changes).length === 0) return;
    await this.#ctx.states.write(record, to, reason, "engine", changes);
  }

  /**
   * Whether an engine event is the echo of berth's own operation — the `die`
   * of a stop, the `start` of a restart — which that operation records itself.
   * True while such an operation is under way, or when the event happened
   * before the last one ended (events can arrive a moment late). Anything
   * else (a crash, a stop from outside) is not, and gets a sync.
   */
  causedByBerth(id: string, action: string, time: number): boolean {
    return this.#ctx.operations.causedByBerth(id, action, time, this.#ctx.queue.current(id));
  }

  /**
   * The restart policy's bookkeeping (RestartSupervisor): when its start is due (null: none) and
   * its attempts, kept in the store so that a berth killed during a back-off leaves them to the next.
   */
  setRestartDue(id: string, due: { at: number | null; attempts?: number }): Promise<void> {
    return this.#restartDue.set(id, due);
  }

  /**
   * Used at shutdown: refuses operations asked for from now on, and turns asked for from now on
   * (SHUTTING_DOWN), then waits until nothing is under way — neither a turn nor an operation still
   * on its way to the queue (reading the store, checking its image, preparing an update), which
   * then meets the closed queue rather than parts being disposed.
   */
  async drain(): Promise<void> {
    this.#asked.close();
    this.#ctx.queue.close();
    // Polled: shutdown waits once, and the counts change in many places (the queue, the tracker, the asks).
    while (this.operationsUnderWay > 0) await sleep(10);
  }
}
