import { EventEmitter } from "node:events";
import type { ActivityEntry, ContainerInfo } from "#protocol";
import type { ContainerManager, StatusChange } from "../containers/container-manager.ts";
import type { EngineReturnRestarter } from "../containers/engine-return-restarter.ts";
import type { InterruptedOperation, InterruptedOperations } from "../containers/interrupted-operation.ts";
import type { OperationOutcome } from "../containers/operation-tracker.ts";
import type { RestartEvent, RestartSupervisor } from "../containers/restart-supervisor.ts";
import type { EngineMonitor } from "../docker/engine-monitor.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { HealthChange, HealthMonitor } from "../monitoring/health-monitor.ts";
import type { PressureMonitor } from "../monitoring/pressure-monitor.ts";
import type { PressureReport } from "../monitoring/pressure-report.ts";
import type { ActivityRepository, HistoryQuery } from "../store/activity-repository.ts";
import { type ActivityDraft, EVERYONE } from "./activity-entry.ts";
import {
  describeBringBackFailed,
  describeBroughtBack,
  describeInterrupted,
  describeOperation,
  describeRestartFailed,
  describeStatusChange,
  ofLimit,
} from "./activity-messages.ts";
import { describePressure } from "./pressure-messages.ts";

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
 */
export class UserActivityLogger extends EventEmitter<UserActivityLoggerEvents> {
  readonly #repo: ActivityRepository;
  readonly #redactors: OwnerRedactors;
  readonly #log: SystemLogger;
  readonly #retention: RetentionOptions;
  readonly #detach: Array<() => void> = [];
  #sincePrune = 0;

  constructor(
    repo: ActivityRepository,
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

  record(draft: ActivityDraft): ActivityEntry | undefined {
    // The owner's own secrets only: another owner's would make the feed an oracle, or let them blank it.
    const redactor =
      draft.owner === EVERYONE ? this.#redactors.anyone : this.#redactors.forOwner(draft.owner);
    const safe: ActivityDraft = {
      ...draft,
      message: redactor.redactString(draft.message),
      details: draft.details === undefined ? undefined : redactor.redact(draft.details),
    };
    try {
      const entry = this.#repo.insert(safe, Date.now());
      this.emit("entry", draft.owner, entry);
      if (++this.#sincePrune >= 500) this.prune();
      return entry;
    } catch (err) {
      // A full or read-only disk must not turn a user's operation into a failure.
      this.#log.error({ err, action: draft.action }, "could not store an activity entry");
      return undefined;
    }
  }

  history(query: HistoryQuery): ActivityEntry[] {
    return this.#repo.history(query);
  }

  prune(): void {
    this.#sincePrune = 0;
    const removed = this.#repo.prune(
      Date.now() - this.#retention.maxAgeMs,
      this.#retention.maxEntriesPerOwner,
    );
    if (removed > 0) this.#log.debug({ removed }, "pruned activity history");
  }

  /** Listens to everything worth telling users about. */
  follow(sources: {
    manager: ContainerManager;
    /** Operations a crash of berth cut half-way, and what became of them. */
    interrupted?: InterruptedOperations;
    restarts: RestartSupervisor;
    bringBack?: EngineReturnRestarter;
    engine: EngineMonitor;
    health: HealthMonitor;
    /** What a limit did to a workload (CPU throttled, processes refused, output held back). */
    pressure?: PressureMonitor;
    /** A container's memory limit in bytes, named when it ran out of memory. */
    memoryLimitOf?: (id: string) => number | undefined;
  }): void {
    const memoryLimitOf = sources.memoryLimitOf ?? (() => undefined);
    const onHealth = (change: HealthChange) => {
      const record = sources.manager.findById(change.id);
      if (!record) return;
      const base = { owner: record.owner, containerId: record.id, containerName: record.name };
      if (change.health === "unhealthy") {
        this.record({
          ...base,
          level: "warning",
          action: "container.unhealthy",
          message: `'${record.name}' is unhealthy: ${change.reason}`,
        });
      } else if (change.health === "healthy" && change.previous === "unhealthy") {
        this.record({
          ...base,
          level: "success",
          action: "container.healthy",
          message: `'${record.name}' is healthy again`,
        });
      }
    };
    sources.health.on("change", onHealth);
    this.#detach.push(() => sources.health.off("change", onHealth));
    const onOperation = (o: OperationOutcome) => this.#maybe(describeOperation(o));
    const onStatus = (c: StatusChange) => this.#maybe(describeStatusChange(c, memoryLimitOf));
    const onInterrupted = (i: InterruptedOperation) => this.record(describeInterrupted(i));
    const onExit = (e: RestartEvent) => this.#maybe(describeRestart(e, memoryLimitOf(e.info.id)));
    const onPressure = (report: PressureReport) => {
      const record = sources.manager.findById(report.containerKey);
      if (record) this.record(describePressure(report, record));
    };
    const { pressure } = sources;
    if (pressure) {
      pressure.on("report", onPressure);
      this.#detach.push(() => pressure.off("report", onPressure));
    }
    const onRestartFailed = ({ info }: { info: ContainerInfo }) => this.record(describeRestartFailed(info));
    const onBroughtBack = ({ info }: { info: ContainerInfo }) => this.record(describeBroughtBack(info));
    const onBringBackFailed = ({ info }: { info: ContainerInfo }) =>
      this.record(describeBringBackFailed(info));
    let wasDown = false;
    const onDown = () => {
      wasDown = true;
      this.record({
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
      this.record({
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
    if (draft) this.record(draft);
  }

  close(): void {
    for (const detach of this.#detach.splice(0)) detach();
  }
}

function describeRestart(
  { info, exitCode, oomKilled, decision }: RestartEvent,
  memoryLimitBytes: number | undefined,
): ActivityDraft | undefined {
  const base = { owner: info.owner, containerId: info.id, containerName: info.name };
  const what = oomKilled
    ? `'${info.name}' ran out of memory${ofLimit(memoryLimitBytes)}`
    : `'${info.name}' stopped unexpectedly (exit code ${exitCode ?? "unknown"})`;
  switch (decision.kind) {
    case "restart":
      return {
        ...base,
        level: "warning",
        action: oomKilled ? "container.oom_restarted" : "container.crash_restarted",
        message: `${what} and is being restarted (attempt ${decision.attempt} of ${decision.max})`,
        details: {
          exitCode,
          oomKilled,
          ...(oomKilled ? { memoryLimitBytes } : {}),
          attempt: decision.attempt,
          maxAttempts: decision.max,
          delayMs: decision.delayMs,
        },
      };
    case "give_up":
      return {
        ...base,
        level: "error",
        action: "container.restart_gave_up",
        message: `${what}. berth stopped restarting it after ${decision.attempts} attempts; check its output, fix its code, then start it again.`,
        details: {
          exitCode,
          oomKilled,
          ...(oomKilled ? { memoryLimitBytes } : {}),
          attempts: decision.attempts,
        },
      };
    default:
      return {
        ...base,
        level: "info",
        action: "container.exited",
        message: `'${info.name}' finished (exit code ${exitCode ?? 0})`,
        details: { exitCode },
      };
  }
}
