import { EventEmitter } from "node:events";
import type { ContainerInfo, ContainerState } from "#protocol";
import type { EngineMonitorEvents } from "../docker/engine-monitor.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { ContainerManager, StatusChange } from "./container-manager.ts";
import type { OperationOutcome } from "./operation-tracker.ts";
import { isEngineStopCode, isOutagesExit, OutageExitDetector } from "./outage-exit-detector.ts";

/** States in which a workload runs, or is on its way to: what the engine's going away interrupts. */
const RUNNING: ReadonlySet<ContainerState> = new Set(["running", "starting", "restarting"]);
/** States that mean the workload is no longer running on its own (what a bring-back starts again). */
const STOPPED_BY_ENGINE: ReadonlySet<ContainerState> = new Set(["exited", "failed"]);

export interface EngineReturnRestarterEvents {
  /** A workload the engine's outage stopped is running again. */
  broughtBack: [{ info: ContainerInfo }];
  /**
   * A workload held for the engine's return whose exit, as the engine tells
   * it, was its own (a crash, an out-of-memory kill, an exit before the
   * outage): not started, but handed back to the restart policy
   * (RestartSupervisor.takeExit), which the hold kept away from it.
   */
  handedBack: [{ info: ContainerInfo; oomKilled: boolean }];
  /** Starting it again failed for another reason than the engine being away (which is tried on its next return). */
  bringBackFailed: [{ info: ContainerInfo; error: unknown }];
}

/** What of the ContainerManager a bring-back uses. */
export type RestarterManager = Pick<
  ContainerManager,
  "on" | "off" | "findById" | "syncFromEngine" | "start" | "info"
>;

export interface EngineReturnRestarterOptions {
  engine: Pick<EventEmitter<EngineMonitorEvents>, "on" | "off">;
  manager: RestarterManager;
  /** Every container in the store, as berth recorded it. */
  records: () => Promise<Iterable<ContainerRecord>>;
  log: SystemLogger;
  /** Asks the engine whether it answers now (EngineMonitor.check): a "down" it finds is told as usual. */
  probe: () => Promise<unknown>;
  lookbackMs?: number;
  now?: () => number;
}

/**
 * Brings back every workload that was running when the Docker engine went
 * away, whatever its restart policy: an engine without `live-restore` stops
 * its containers when it stops (or, SIGKILLed, when it starts again), and
 * the owner never asked for that. Which ones is read from berth's own store
 * at the moment the outage is known — never from the engine after the fact,
 * which only says they exited. A stop or a delete the owner asks for during
 * the outage is not undone; a container stopped before it stays stopped.
 * With `live-restore` the workloads kept running and nothing is started.
 */
export class EngineReturnRestarter extends EventEmitter<EngineReturnRestarterEvents> {
  readonly #o: EngineReturnRestarterOptions;
  readonly #log: SystemLogger;
  readonly #exits: OutageExitDetector;
  /**
   * Containers to bring back when the engine returns, kept across outages until brought back; each
   * with the earliest time an exit of theirs may be the outage's (undefined: berth cannot tell,
   * since it was not watching — it started while the engine was away).
   */
  readonly #held = new Map<string, number | undefined>();
  /** Whether berth has seen the engine answer: until then, what the store says ran may be stale. */
  #sawUp = false;
  #down = false;
  #pass: Promise<void> | undefined;
  /** Reading which workloads an outage that just began holds (#engineDown), while it runs. */
  #holding: Promise<void> | undefined;
  /** While the engine is known away: the earliest time an exit may be this outage's (the bound #held keeps). */
  #outageSince: number | undefined;
  #closed = false;
  readonly #onDown = () => this.#engineDown();
  readonly #onUp = () => void this.bringBack();
  readonly #onStatus = (change: StatusChange) => this.#statusChanged(change);
  readonly #onOperation = (outcome: OperationOutcome) => this.#operationEnded(outcome);

  constructor(options: EngineReturnRestarterOptions) {
    super();
    this.#o = options;
    this.#log = options.log.child({ component: "EngineReturnRestarter" });
    this.#exits = new OutageExitDetector({ lookbackMs: options.lookbackMs, now: options.now ?? Date.now });
    options.engine.on("down", this.#onDown);
    options.engine.on("up", this.#onUp);
    options.manager.on("statusChanged", this.#onStatus);
    options.manager.on("operation", this.#onOperation);
  }

  /** Whether this container waits to be brought back: its exit is the outage's, not a crash to count. */
  holds(id: string): boolean {
    return this.#held.has(id);
  }

  /**
   * Whether this exit is the outage's rather than the workload's: held, or
   * — since an engine shutting down stops its containers before berth may
   * know it is going — one with an engine-stop code, not for memory, while
   * the engine no longer takes new connections. The restart policy leaves
   * those alone (a held one whose exit proves its own is handed back).
   */
  async isOutageExit(id: string, oomKilled = false): Promise<boolean> {
    // The containers the outage holds are being read (the engine just went): wait for them.
    await this.#holding;
    if (this.#held.has(id)) return true;
    const record = await this.#o.manager.findById(id);
    if (oomKilled || record?.state !== "exited" || !isEngineStopCode(record.exitCode)) return false;
    await this.#o.probe().catch(() => {});
    // The probe may have found the engine gone and begun reading what the outage holds: wait for that read
    // too (an answer from a network store comes a few milliseconds later, after the probe's).
    await this.#holding;
    return this.#held.has(id);
  }

  #engineDown(): void {
    this.#down = true;
    // As they are when it went: a return of the engine may come before the read below is answered.
    const since = this.#sawUp ? this.#exits.since : undefined;
    this.#outageSince = since;
    const exited = this.#exits.exitedJustBeforeNow();
    this.#exits.clear();
    // Exits told from now on are held as they are told (#statusChanged), before or after this read.
    const holding = this.#o
      .records()
      .then((records) => this.#hold(records, since, exited))
      .catch((err: unknown) => this.#log.error({ err }, "could not read which workloads the outage stops"));
    this.#holding = holding;
    void holding.finally(() => {
      if (this.#holding === holding) this.#holding = undefined;
    });
  }

  #hold(records: Iterable<ContainerRecord>, since: number | undefined, exited: Set<string>): void {
    if (this.#closed) return;
    for (const record of records) {
      if (this.#held.has(record.id)) continue; // held since an earlier outage: its bound stands
      const stoppedWithEngine = record.state === "exited" && exited.has(record.id);
      if (RUNNING.has(record.state) || stoppedWithEngine) this.#held.set(record.id, since);
    }
    if (this.#held.size > 0)
      this.#log.info({ containers: this.#held.size }, "engine went away; will bring its workloads back");
  }

  #statusChanged({ info, from, oomKilled }: StatusChange): void {
    if (info.state === "exited" && RUNNING.has(from as ContainerState)) {
      if (!this.#down) this.#exits.noteExit(info.id, info.exitCode, oomKilled === true);
      // Told while the engine is known away: an exit read from the engine as it went, whose write was
      // under way. The read of what the outage holds may have been answered before this is told, and yet
      // have seen the row "exited" already (a network store commits before its writer hears back): held
      // here, or it would pass for the workload's own exit — left stopped, or restarted as a crash. Not
      // from `starting`: that is a start the outage cut putting back the state it began from, no exit.
      else if (
        from !== "starting" &&
        !oomKilled &&
        isEngineStopCode(info.exitCode) &&
        !this.#held.has(info.id)
      )
        this.#held.set(info.id, this.#outageSince);
    }
    // Stopped on request, or deleted: not to be undone. (A stop the engine could not carry out changed
    // nothing: the owner was told to try again, and the workload is brought back as it was.)
    if (info.state === "stopped" || info.state === "removing") this.#held.delete(info.id);
  }

  #operationEnded(outcome: OperationOutcome): void {
    // A stop of what berth already saw exit changes no state, yet the owner asked for it stopped.
    if (outcome.ok && outcome.id && (outcome.op === "stop" || outcome.op === "delete"))
      this.#held.delete(outcome.id);
  }

  /** Starts again what the outage stopped; runs on each return of the engine (one pass at a time). */
  bringBack(): Promise<void> {
    this.#down = false;
    this.#sawUp = true;
    const before = Promise.all([this.#pass, this.#holding]);
    const pass = before.then(() => this.#bringBackPass());
    this.#pass = pass;
    void pass.finally(() => {
      if (this.#pass === pass) this.#pass = undefined;
    });
    return pass;
  }

  async #bringBackPass(): Promise<void> {
    const ids = [...this.#held.keys()];
    if (ids.length === 0) return;
    this.#log.info({ containers: ids.length }, "engine is back; bringing back its workloads");
    await Promise.all(ids.map((id) => this.#bringBackOne(id)));
  }

  async #bringBackOne(id: string): Promise<void> {
    if (this.#closed || this.#down || !this.#held.has(id)) return;
    const log = this.#log.child({ containerId: id, op: "bring-back" });
    try {
      // The engine's truth first: with live-restore (or a shim that outlived dockerd) it still runs.
      const exit = await this.#o.manager.syncFromEngine(id, "stopped while the Docker engine was away");
      const record = await this.#o.manager.findById(id);
      const since = this.#held.get(id);
      if (!record || !this.#held.has(id)) return void this.#held.delete(id);
      if (!STOPPED_BY_ENGINE.has(record.state)) {
        log.debug({ state: record.state }, "nothing to bring back");
        return void this.#held.delete(id);
      }
      if (exit && !isOutagesExit(exit, since)) {
        // Its own exit (a crash, its memory, an end before the outage): its restart policy answers it.
        this.#held.delete(id);
        log.info(
          { exitCode: exit.exitCode, oomKilled: exit.oomKilled },
          "exited on its own; not brought back",
        );
        this.emit("handedBack", { info: this.#o.manager.info(record), oomKilled: exit.oomKilled });
        return;
      }
      const info = await this.#o.manager.start({ owner: record.owner, admin: true }, id, {
        waitReady: false,
        restart: true,
      });
      this.#held.delete(id);
      // Stopped or started by its owner before this start's turn: nothing was brought back.
      if (info.state !== "running") return;
      log.info("brought back after the engine's return");
      this.emit("broughtBack", { info });
    } catch (err) {
      // Gone again before the start got through: the next return tries once more.
      if (err instanceof BerthError && err.code === "DOCKER_UNAVAILABLE") return;
      this.#held.delete(id);
      if (err instanceof BerthError && err.code === "NOT_FOUND") return;
      const record = await this.#o.manager.findById(id).catch(() => undefined);
      log.warn({ err }, "could not bring back after the engine's return");
      if (record) this.emit("bringBackFailed", { info: this.#o.manager.info(record), error: err });
    }
  }

  /** Resolves once the workloads that an outage which just began holds are known (holds() answers for them). */
  async settled(): Promise<void> {
    await this.#holding;
  }

  /** Waits for a pass under way. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#o.engine.off("down", this.#onDown);
    this.#o.engine.off("up", this.#onUp);
    this.#o.manager.off("statusChanged", this.#onStatus);
    this.#o.manager.off("operation", this.#onOperation);
    await this.#holding;
    await this.#pass?.catch(() => {});
  }
}
