import { EventEmitter } from "node:events";
import type { ContainerInfo } from "#protocol";
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
  isOutageExit(id: string): Promise<boolean>;
}

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
    void this.#afterExit(info, oomKilled === true);
  }

  async #afterExit(info: ContainerInfo, oomKilled: boolean): Promise<void> {
    try {
      if (await this.#defer.isOutageExit(info.id)) return;
    } catch (err) {
      this.#log.warn({ err, containerId: info.id }, "could not tell whether an exit was the engine's");
    }
    // Started, stopped or deleted meanwhile: that answered the exit.
    if (this.#closed || this.#manager.findById(info.id)?.state !== "exited") return;
    const decision = this.#decide(info);
    this.emit("exit", { info, exitCode: info.exitCode, oomKilled, decision });
    if (decision.kind !== "restart") return;
    this.#log.info(
      { containerId: info.id, attempt: decision.attempt, delayMs: decision.delayMs },
      "restarting after exit",
    );
    this.#cancel(info.id);
    const timer = setTimeout(() => {
      this.#timers.delete(info.id);
      // The engine went away meanwhile (its shutdown was this exit's cause): its return brings it back.
      if (this.#defer.holds(info.id)) return;
      this.#manager
        .start({ owner: info.owner, admin: true }, info.id, { waitReady: false, restart: true })
        .catch((error) => {
          this.#log.warn({ err: error, containerId: info.id }, "restart failed");
          this.emit("restartFailed", { info, error });
        });
    }, decision.delayMs);
    timer.unref();
    this.#timers.set(info.id, timer);
  }

  /**
   * At start-up, after reconciliation: the exits a killed berth saw but had
   * not acted on yet (its restart waited for its back-off when it died) are
   * acted on now, as if just seen — an `exited` container stays exited for
   * good otherwise, since nothing changes to tell anyone. The attempts a
   * killed berth counted died with it, so the count starts afresh (as it does
   * after a good run); a container past its limit gets the limit again.
   */
  resume(): void {
    for (const record of this.#manager.all()) {
      if (record.state !== "exited" || this.#timers.has(record.id) || this.#attempts.has(record.id)) continue;
      this.#onStatusChange({
        info: this.#manager.info(record),
        from: "running",
        reason: "exited before berth started",
      });
    }
  }

  #decide(info: ContainerInfo): RestartDecision {
    if (info.restartPolicy === "on-failure" && info.exitCode === 0) return { kind: "none" };
    const now = Date.now();
    const state = this.#attempts.get(info.id) ?? { count: 0, lastStartAt: 0 };
    const ranSince = state.lastStartAt;
    if (state.count > 0 && now - ranSince >= this.#o.resetAfterMs) state.count = 0;
    if (state.count >= this.#o.maxRestarts) {
      return { kind: "give_up", attempts: state.count };
    }
    state.count++;
    state.lastStartAt = now;
    this.#attempts.set(info.id, state);
    const delayMs = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (state.count - 1));
    return { kind: "restart", attempt: state.count, max: this.#o.maxRestarts, delayMs };
  }

  #cancel(id: string): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  close(): void {
    this.#closed = true;
    this.#manager.off("statusChanged", this.#onStatus);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
