import type { EventEmitter } from "node:events";
import type { ChangeNoticesEvents } from "../cluster/pg-change-notices.ts";
import { CutByCrash } from "../containers/cut-by-crash.ts";
import type { Reconciliation } from "../containers/reconciliation.ts";
import type { RestartSupervisor } from "../containers/restart-supervisor.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { EngineEventWatcher } from "../monitoring/engine-event-watcher.ts";
import type { HealthMonitor } from "../monitoring/health-monitor.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import type { RunningFollower } from "./running-follower.ts";

/**
 * How often the leading server runs a reconciliation of its own: what a
 * killed API server left — an operation cut half-way, a restart it had due —
 * has nobody else to finish it. A minute: the workloads run on meanwhile.
 */
export const STEWARD_PASS_MS = 60_000;

export interface ClusterStewardOptions {
  reconciliation: Reconciliation;
  events: EngineEventWatcher;
  restarts: RestartSupervisor;
  health: Pick<HealthMonitor, "untrackAll">;
  running: Pick<RunningFollower, "recheck" | "settled">;
  repo: Pick<ContainerStore, "all">;
  /** Every container's state changes, told by the store at each commit (PgChangeNotices "states"). */
  states: Pick<EventEmitter<ChangeNoticesEvents>, "on" | "off">;
  log: SystemLogger;
  passEveryMs?: number;
}

/**
 * What one API server of a cluster does for all of them, while it holds the
 * lead (the steward lease, beside re-placement): it follows the engines'
 * events (so that a workload's exit is written once, and its restart policy
 * answered once), brings the store and the engines in line (at each term and
 * every STEWARD_PASS_MS), makes the restarts due, and watches the health of
 * every running workload — whichever server started it, as the store's state
 * notices tell. Every other server serves its clients' operations (each under
 * its container's lock) and forwards their requests; it neither follows
 * events nor watches health, so that nothing is written, pushed or told in
 * the feed twice.
 *
 * When its term ends it stops all of it at once, leaving the store's word
 * (restarts due, health) for the next leader.
 */
export class ClusterSteward {
  readonly #o: ClusterStewardOptions;
  readonly #log: SystemLogger;
  readonly #passEveryMs: number;
  #term: AbortSignal | undefined;
  #pass: Promise<void> = Promise.resolve();
  /** Ends the term under way here, whether the lease ended it or a shutdown. */
  #stepDown: (() => void) | undefined;
  #closed = false;

  constructor(options: ClusterStewardOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "ClusterSteward" });
    this.#passEveryMs = options.passEveryMs ?? STEWARD_PASS_MS;
  }

  /** Leads until `term` aborts. */
  lead(term: AbortSignal): void {
    if (term.aborted || this.#closed) return;
    const { events, states, reconciliation, restarts, health, running } = this.#o;
    // This term's own end: the lease's, or a shutdown's (close()), whichever comes first.
    const ours = new AbortController();
    const during = ours.signal;
    this.#log.info("leading the cluster: following the engines' events, restarts and health");
    // From before the first pass reads the engines: nothing between the two is missed.
    events.start(Date.now());
    const onChanged = (id: string) => running.recheck(id);
    // Listening again after a gap: every change in it may have been missed, so every row is read again.
    const onReset = (listening: boolean) => {
      if (listening) void this.#recheckAll(during);
    };
    states.on("changed", onChanged);
    states.on("reset", onReset);
    const timer = setInterval(() => void this.#passOnce(during), this.#passEveryMs);
    timer.unref();
    const stepDown = () => {
      if (during.aborted) return;
      ours.abort();
      term.removeEventListener("abort", stepDown);
      clearInterval(timer);
      states.off("changed", onChanged);
      states.off("reset", onReset);
      reconciliation.stop();
      restarts.forgetAll();
      void events.stop();
      // After the changes being followed: a recheck that ends late must not leave a watch behind.
      void running.settled().then(() => health.untrackAll());
      this.#log.info("no longer leading the cluster");
    };
    this.#term = during;
    this.#stepDown = stepDown;
    term.addEventListener("abort", stepDown, { once: true });
    this.#pass = this.#passOnce(during);
  }

  /** Stops leading (a shutdown: before the parts it drives close), and waits for the pass under way. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stepDown?.();
    await this.#pass;
  }

  get leading(): boolean {
    return this.#term !== undefined && !this.#term.aborted;
  }

  /** Reads every row: what is cut (an operation's lock nobody holds), what runs, what is due. */
  async #passOnce(term: AbortSignal): Promise<void> {
    const previous = this.#pass;
    const next = previous.then(async () => {
      if (term.aborted) return;
      try {
        const rows = await this.#o.repo.all();
        if (term.aborted) return;
        for (const row of rows) this.#o.running.recheck(row.id);
        this.#o.reconciliation.start(CutByCrash.of(rows));
        await this.#o.reconciliation.run();
        if (term.aborted) return;
        await this.#o.restarts.resume();
      } catch (err) {
        this.#log.warn({ err }, "the steward's pass failed; the next one tries again");
      }
    });
    this.#pass = next;
    return next;
  }

  async #recheckAll(term: AbortSignal): Promise<void> {
    try {
      const rows = await this.#o.repo.all();
      if (!term.aborted) for (const row of rows) this.#o.running.recheck(row.id);
    } catch (err) {
      this.#log.warn({ err }, "could not read the containers again after the notices' gap");
    }
  }
}
