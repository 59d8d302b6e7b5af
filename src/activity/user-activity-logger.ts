import { EventEmitter } from "node:events";
import type { ActivityEntry, ContainerInfo } from "#protocol";
import type { ContainerManager, StatusChange } from "../containers/container-manager.ts";
import type { EngineReturnRestarter } from "../containers/engine-return-restarter.ts";
import type { InterruptedOperation, InterruptedOperations } from "../containers/interrupted-operation.ts";
import type { OperationOutcome } from "../containers/operation-tracker.ts";
import type { RestartEvent, RestartSupervisor } from "../containers/restart-supervisor.ts";
import type { EngineMonitorEvents } from "../docker/engine-monitor.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { HealthChange, HealthMonitor } from "../monitoring/health-monitor.ts";
import type { PressureMonitor } from "../monitoring/pressure-monitor.ts";
import type { PressureReport } from "../monitoring/pressure-report.ts";
import type { ActivityStore, HistoryQuery } from "../store/store-ports.ts";
import { type ActivityDraft, EVERYONE } from "./activity-entry.ts";
import {
  describeBringBackFailed,
  describeBroughtBack,
  describeInterrupted,
  describeOperation,
  describeRestartFailed,
  describeStatusChange,
} from "./activity-messages.ts";
import { describePressure } from "./pressure-messages.ts";
import { describeRestart } from "./restart-messages.ts";

export interface RetentionOptions {
  maxEntriesPerOwner: number;
  maxAgeMs: number;
}

export interface UserActivityLoggerEvents {
  /** A new entry, already stored and redacted, for `owner` ("*": everyone). */
  entry: [owner: string, entry: ActivityEntry];
}

/**
 * The UserActivityLogger: tells end users what happens to their containers,
 * in plain words. Every entry passes through its owner's redactor (the fixed
 * rules alone for entries to everyone), is stored (so a
 * client that reconnects catches up with `activity:history`), then is emitted
 * for the API to push as `activity_log` to the owner's connections.
 *
 * Entries are stored one at a time, in the order they are recorded, and each
 * is emitted before the next is stored: the store answers later, and two
 * inserts in flight at once could commit (and be pushed) out of id order — a
 * client that saw entry 8 before entry 7 would skip 7 when it catches up.
 */
export class UserActivityLogger extends EventEmitter<UserActivityLoggerEvents> {
  readonly #repo: ActivityStore;
  readonly #redactors: OwnerRedactors;
  readonly #log: SystemLogger;
  readonly #retention: RetentionOptions;
  readonly #detach: Array<() => void> = [];
  #sincePrune = 0;
  /** The last entry being stored; the next waits for it (see the class comment). Never rejects. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(
    repo: ActivityStore,
    redactors: OwnerRedactors,
    log: SystemLogger,
    retention: RetentionOptions,
  ) {
    super();
    this.#repo = repo;
    this.#redactors = redactors;
    this.#log = log.child({ component: "UserActivityLogger" });
    this.#retention = retention;
  }

  /** Stores and emits an entry, after those recorded before it; undefined when it could not be stored. */
  record(draft: ActivityDraft): Promise<ActivityEntry | undefined> {
    // Redacted now, with the secrets in force when it happened (a delete forgets them right after).
    const safe = this.#redacted(draft);
    return this.#enqueue(() => safe);
  }

  /**
   * Entries after `afterId`, oldest first (see ActivityStore.history), read once the entries recorded
   * before the call are stored: an operation's entry is recorded before its answer goes out, so a client
   * that reads the history after the answer finds it there, however slowly the store writes.
   */
  async history(query: HistoryQuery): Promise<ActivityEntry[]> {
    await this.#writes;
    return this.#repo.history(query);
  }

  /** Applies the retention (age and count per owner), after the entries being stored. */
  prune(): Promise<void> {
    return this.#then(() => this.#prune());
  }

  async #prune(): Promise<void> {
    this.#sincePrune = 0;
    const removed = await this.#repo.prune(
      Date.now() - this.#retention.maxAgeMs,
      this.#retention.maxEntriesPerOwner,
    );
    if (removed > 0) this.#log.debug({ removed }, "pruned activity history");
  }

  #redacted(draft: ActivityDraft): ActivityDraft {
    // The owner's own secrets only: another owner's would make the feed an oracle, or let them blank it.
    const redactor =
      draft.owner === EVERYONE ? this.#redactors.anyone : this.#redactors.forOwner(draft.owner);
    return {
      ...draft,
      message: redactor.redactString(draft.message),
      details: draft.details === undefined ? undefined : redactor.redact(draft.details),
    };
  }

  /**
   * Stores the entry `make` gives (none: nothing), in its turn. `make` runs in
   * that turn too, so an entry that first reads the store (whose container it
   * is) keeps its place in the order its event came.
   */
  #enqueue(
    make: () => ActivityDraft | undefined | Promise<ActivityDraft | undefined>,
  ): Promise<ActivityEntry | undefined> {
    return this.#then(async () => {
      const draft = await make();
      if (!draft) return undefined;
      try {
        const entry = await this.#repo.insert(draft, Date.now());
        this.emit("entry", draft.owner, entry);
        if (++this.#sincePrune >= 500) await this.#prune();
        return entry;
      } catch (err) {
        // A full or read-only disk must not turn a user's operation into a failure.
        this.#log.error({ err, action: draft.action }, "could not store an activity entry");
        return undefined;
      }
    });
  }

  /** Runs `step` after every step before it; its failure is logged, never thrown to the one who recorded. */
  #then<T>(step: () => Promise<T>): Promise<T | undefined> {
    const run = this.#writes.then(step).catch((err: unknown) => {
      this.#log.error({ err }, "could not keep the activity history");
      return undefined;
    });
    this.#writes = run;
    return run;
  }

  /** Listens to everything worth telling users about. */
  follow(sources: {
    manager: ContainerManager;
    /** Operations a crash of berth cut half-way, and what became of them. */
    interrupted?: InterruptedOperations;
    restarts: RestartSupervisor;
    bringBack?: EngineReturnRestarter;
    /** The engine going away and coming back (what an EngineMonitor tells). */
    engine: Pick<EventEmitter<EngineMonitorEvents>, "on" | "off">;
    health: HealthMonitor;
    /** What a limit did to a workload (CPU throttled, processes refused, output held back). */
    pressure?: PressureMonitor;
    /** A container's memory limit in bytes, named when it ran out of memory. */
    memoryLimitOf?: (id: string) => Promise<number | undefined>;
  }): void {
    const memoryLimitOf = sources.memoryLimitOf ?? (async () => undefined);
    // Entries that first read the store take their place in the order now, and are made in their turn.
    const later = (make: () => Promise<ActivityDraft | undefined>) => {
      void this.#enqueue(async () => {
        const draft = await make();
        return draft && this.#redacted(draft);
      });
    };
    const onHealth = (change: HealthChange) => {
      // The reason may quote the workload (a failed check's answer): redacted now, with the secrets
      // in force when health changed, as record() does; a delete forgets them before the entry is made.
      const reason = this.#redactors.forOwner(change.owner).redactString(change.reason);
      later(async () => {
        const record = await sources.manager.findById(change.id);
        if (!record) return undefined;
        const base = { owner: record.owner, containerId: record.id, containerName: record.name };
        if (change.health === "unhealthy") {
          return {
            ...base,
            level: "warning",
            action: "container.unhealthy",
            message: `'${record.name}' is unhealthy: ${reason}`,
          };
        }
        if (change.health === "healthy" && change.previous === "unhealthy") {
          return {
            ...base,
            level: "success",
            action: "container.healthy",
            message: `'${record.name}' is healthy again`,
          };
        }
        return undefined;
      });
    };
    sources.health.on("change", onHealth);
    this.#detach.push(() => sources.health.off("change", onHealth));
    const onOperation = (o: OperationOutcome) => this.#maybe(describeOperation(o));
    // An out-of-memory exit names the limit, which the store knows: read in the entry's turn.
    const onStatus = (c: StatusChange) =>
      c.oomKilled
        ? later(async () => {
            const limit = await memoryLimitOf(c.info.id);
            return describeStatusChange(c, () => limit);
          })
        : this.#maybe(describeStatusChange(c));
    const onInterrupted = (i: InterruptedOperation) => void this.record(describeInterrupted(i));
    const onExit = (e: RestartEvent) =>
      e.oomKilled
        ? later(async () => describeRestart(e, await memoryLimitOf(e.info.id)))
        : this.#maybe(describeRestart(e, undefined));
    const onPressure = (report: PressureReport) =>
      later(async () => {
        const record = await sources.manager.findById(report.containerKey);
        return record && describePressure(report, record);
      });
    const { pressure } = sources;
    if (pressure) {
      pressure.on("report", onPressure);
      this.#detach.push(() => pressure.off("report", onPressure));
    }
    const onRestartFailed = ({ info }: { info: ContainerInfo }) =>
      void this.record(describeRestartFailed(info));
    const onBroughtBack = ({ info }: { info: ContainerInfo }) => void this.record(describeBroughtBack(info));
    const onBringBackFailed = ({ info }: { info: ContainerInfo }) =>
      void this.record(describeBringBackFailed(info));
    let wasDown = false;
    const onDown = () => {
      wasDown = true;
      void this.record({
        owner: EVERYONE,
        level: "error",
        action: "engine.unavailable",
        message:
          "The container engine is unavailable. Changes will fail until it is back; workloads it stops meanwhile are started again when it returns.",
      });
    };
    const onUp = () => {
      if (!wasDown) return;
      wasDown = false;
      void this.record({
        owner: EVERYONE,
        level: "success",
        action: "engine.available",
        message: "The container engine is back; everything works again.",
      });
    };
    sources.manager.on("operation", onOperation);
    sources.manager.on("statusChanged", onStatus);
    sources.interrupted?.on("interrupted", onInterrupted);
    sources.restarts.on("exit", onExit);
    sources.restarts.on("restartFailed", onRestartFailed);
    sources.engine.on("down", onDown);
    sources.engine.on("up", onUp);
    sources.bringBack?.on("broughtBack", onBroughtBack);
    sources.bringBack?.on("bringBackFailed", onBringBackFailed);
    this.#detach.push(() => {
      sources.bringBack?.off("broughtBack", onBroughtBack);
      sources.bringBack?.off("bringBackFailed", onBringBackFailed);
      sources.manager.off("operation", onOperation);
      sources.manager.off("statusChanged", onStatus);
      sources.interrupted?.off("interrupted", onInterrupted);
      sources.restarts.off("exit", onExit);
      sources.restarts.off("restartFailed", onRestartFailed);
      sources.engine.off("down", onDown);
      sources.engine.off("up", onUp);
    });
  }

  #maybe(draft: ActivityDraft | undefined): void {
    if (draft) void this.record(draft);
  }

  /** Stops listening, then waits for the entries being stored (the store closes after). Safe to call twice. */
  async close(): Promise<void> {
    for (const detach of this.#detach.splice(0)) detach();
    await this.#writes;
  }
}
