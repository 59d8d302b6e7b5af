import { EventEmitter } from "node:events";
import type { ContainerInfo } from "#protocol";
import { BerthError } from "../errors/berth-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerManager, StatusChange } from "./container-manager.ts";

export interface RestartPolicyOptions {
  maxRestarts: number;
  /** A container that has run this long since its last start gets its count reset. */
  resetAfterMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Exits that are not the workload's doing (see EngineReturnRestarter). */
export interface ExitDeferral {
  holds(id: string): boolean;
  isOutageExit(id: string, oomKilled?: boolean): Promise<boolean>;
  /** Resolves once `holds` answers for an outage that has just begun (it reads the store). */
  settled?(): Promise<void>;
}

/**
 * `restartDueAt` of an exit seen and not yet decided on (the deferral's
 * answer awaited, or an outage's exit that the engine's return answers).
 */
const UNDECIDED = 0;

export type RestartDecision =
  | { kind: "restart"; attempt: number; max: number; delayMs: number }
  | { kind: "give_up"; attempts: number }
  | { kind: "none" };

export interface RestartEvent {
  info: ContainerInfo;
  exitCode: number | undefined;
  oomKilled: boolean;
  decision: RestartDecision;
}

export interface RestartSupervisorEvents {
  exit: [RestartEvent];
  restartFailed: [{ info: ContainerInfo; error: unknown }];
}

/**
 * berth's restart policy (Docker's own stays `no`, so that berth can count
 * and tell): an unexpected exit of an `always` container, or a non-zero exit
 * of an `on-failure` one, is followed by a start after an exponential back-off
 * (1 s, 2 s, 4 s, … by default), up to `maxRestarts` attempts; a container
 * that then runs well for `resetAfterMs` starts counting afresh. Past the
 * limit it stays `exited`, and the `exit` event says why.
 */
export class RestartSupervisor extends EventEmitter<RestartSupervisorEvents> {
  readonly #manager: ContainerManager;
  readonly #o: RestartPolicyOptions;
  readonly #log: SystemLogger;
  readonly #attempts = new Map<string, { count: number; lastStartAt: number }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Exits seen and not yet decided on (the deferral's answer is awaited): `resume()` leaves them be. */
  readonly #deciding = new Set<string>();
  #closed = false;
  readonly #onStatus = (change: StatusChange) => this.#onStatusChange(change);
  readonly #defer: ExitDeferral;

  /**
   * `defer` names the containers whose exit another part of berth answers
   * (the EngineReturnRestarter: the engine stopped them as it went away), so
   * that it is neither counted as a crash nor restarted twice.
   */
  constructor(
    manager: ContainerManager,
    options: RestartPolicyOptions,
    log: SystemLogger,
    defer: ExitDeferral = { holds: () => false, isOutageExit: async () => false },
  ) {
    super();
    this.#defer = defer;
    this.#manager = manager;
    this.#o = options;
    this.#log = log.child({ component: "RestartSupervisor" });
    manager.on("statusChanged", this.#onStatus);
  }

  #onStatusChange({ info, reason, oomKilled }: StatusChange): void {
    // `startedAt` is null once it has exited: remember when the run began, for the reset after a good run.
    const attempts = this.#attempts.get(info.id);
    if (info.state === "running" && attempts !== undefined && info.startedAt !== null)
      attempts.lastStartAt = info.startedAt;
    if (info.state !== "exited") {
      // Any other state (stopped on request, deleted, started by hand) cancels a pending restart.
      if (info.state !== "restarting") this.#cancel(info.id);
      if (info.state === "removing") this.#attempts.delete(info.id);
      return;
    }
    if (info.restartPolicy === "no" || reason === "exited before ready") return;
    // Synchronously, before any await: a `resume()` meanwhile must not take this exit for another,
    // and a berth killed before the decision leaves it to the next (UNDECIDED in the store).
    this.#deciding.add(info.id);
    this.#setRestartDue(info.id, { at: UNDECIDED });
    void this.#afterExit(info, oomKilled === true, true).finally(() => this.#deciding.delete(info.id));
  }

  /**
   * An exit the deferral held for the engine's return and found, once the
   * engine told how it ended, to be the workload's own (EngineReturnRestarter
   * `handedBack`): the policy answers it now, as if just seen.
   */
  takeExit(info: ContainerInfo, oomKilled: boolean): void {
    if (info.restartPolicy === "no" || this.#timers.has(info.id) || this.#deciding.has(info.id)) return;
    this.#deciding.add(info.id);
    void this.#afterExit(info, oomKilled, false).finally(() => this.#deciding.delete(info.id));
  }

  async #afterExit(info: ContainerInfo, oomKilled: boolean, askDeferral: boolean): Promise<void> {
    try {
      if (askDeferral && (await this.#defer.isOutageExit(info.id, oomKilled))) return;
    } catch (err) {
      this.#log.warn({ err, containerId: info.id }, "could not tell whether an exit was the engine's");
    }
    // Started, stopped or deleted meanwhile: that answered the exit.
    if (this.#closed || (await this.#manager.findById(info.id))?.state !== "exited") return;
    const decision = await this.#decide(info);
    this.emit("exit", { info, exitCode: info.exitCode, oomKilled, decision });
    if (decision.kind !== "restart") return;
    this.#log.info(
      { containerId: info.id, attempt: decision.attempt, delayMs: decision.delayMs },
      "restarting after exit",
    );
    this.#schedule(info, decision.delayMs);
  }

  /** Starts it again after `delayMs`, unless something else answers its exit first. */
  #schedule(info: ContainerInfo, delayMs: number): void {
    this.#cancel(info.id);
    const timer = setTimeout(() => {
      this.#timers.delete(info.id);
      void this.#restartDue(info);
    }, delayMs);
    timer.unref();
    this.#timers.set(info.id, timer);
  }

  async #restartDue(info: ContainerInfo): Promise<void> {
    try {
      await this.#defer.settled?.();
      // The engine went away meanwhile (its shutdown was this exit's cause): its return brings it back.
      if (this.#closed || this.#defer.holds(info.id)) return;
      await this.#manager.start({ owner: info.owner, admin: true }, info.id, {
        waitReady: false,
        restart: true,
      });
    } catch (error) {
      // Deleted meanwhile: nothing to restart, nothing failed.
      if (error instanceof BerthError && error.code === "NOT_FOUND") return;
      this.#log.warn({ err: error, containerId: info.id }, "restart failed");
      this.emit("restartFailed", { info, error });
    }
  }

  /**
   * At start-up, after the first reconciliation that got through: the
   * restarts a killed berth had decided and not yet made (it died during the
   * back-off) are made now, when they were due — the store keeps them
   * (`restartDueAt`), since an `exited` container stays exited for good
   * otherwise: nothing changes to tell anyone — and the exits it saw and died
   * before deciding on are decided now. Only those: an exit the policy left
   * alone (no policy, a failed create, past the limit) stays so. The attempts
   * go on from the killed berth's count; a decided exit was reported then.
   */
  async resume(): Promise<void> {
    const records = await this.#manager.all();
    const now = Date.now();
    for (const record of records) {
      const { id, restartDueAt } = record;
      if (record.state !== "exited" || restartDueAt == null) continue;
      if (this.#timers.has(id) || this.#deciding.has(id)) continue;
      if (restartDueAt === UNDECIDED) {
        // Seen by the killed berth, which died before deciding: decided now, as if just seen.
        this.#deciding.add(id);
        const info = this.#manager.info(record);
        void this.#afterExit(info, false, true).finally(() => this.#deciding.delete(id));
        continue;
      }
      this.#attempts.set(id, { count: record.restartAttempts ?? 1, lastStartAt: now });
      this.#log.info({ containerId: id }, "restart a previous berth had due");
      this.#schedule(this.#manager.info(record), Math.max(0, restartDueAt - now));
    }
  }

  async #decide(info: ContainerInfo): Promise<RestartDecision> {
    if (info.restartPolicy === "on-failure" && info.exitCode === 0) {
      this.#setRestartDue(info.id, { at: null });
      return { kind: "none" };
    }
    // First exit this berth sees: the count a previous berth kept, since its last start.
    const record = this.#attempts.has(info.id) ? undefined : await this.#manager.findById(info.id);
    const now = Date.now();
    const state = this.#attempts.get(info.id) ?? {
      count: record?.restartAttempts ?? 0,
      lastStartAt: record?.startedAt ?? 0,
    };
    const ranSince = state.lastStartAt;
    if (state.count > 0 && now - ranSince >= this.#o.resetAfterMs) state.count = 0;
    if (state.count >= this.#o.maxRestarts) {
      this.#setRestartDue(info.id, { at: null, attempts: state.count });
      return { kind: "give_up", attempts: state.count };
    }
    state.count++;
    state.lastStartAt = now;
    this.#attempts.set(info.id, state);
    const delayMs = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (state.count - 1));
    this.#setRestartDue(info.id, { at: now + delayMs, attempts: state.count });
    return { kind: "restart", attempt: state.count, max: this.#o.maxRestarts, delayMs };
  }

  /**
   * Records the policy's bookkeeping, in the order decided (outside the container's turn: a
   * due start is written only while the store says exited, in one statement with that check);
   * a store that fails leaves only a restart a successor will not know of.
   */
  #setRestartDue(id: string, due: { at: number | null; attempts?: number }): void {
    this.#manager.setRestartDue(id, due).catch((err: unknown) => {
      this.#log.warn({ err, containerId: id }, "could not record the restart policy's next start");
    });
  }

  #cancel(id: string): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  /**
   * Drops every restart timed here, and the counts, without deciding anything: in cluster mode the API
   * server that no longer leads leaves them to the next leader, whose `resume()` finds them in the store
   * (`restartDueAt`, `restartAttempts`), so that one server restarts a workload, never two.
   */
  forgetAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#attempts.clear();
  }

  close(): void {
    this.#closed = true;
    this.#manager.off("statusChanged", this.#onStatus);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
