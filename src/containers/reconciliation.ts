import type { SystemLogger } from "../logging/system-logger.ts";
import { CutByCrash } from "./cut-by-crash.ts";

/** How soon a pass that could not finish everything runs again: the engine refused a step (a busy removal, …). */
export const RECONCILE_RETRY_MS = 10_000;

export interface ReconciliationOptions {
  /** One pass of bringing the store and the engine into agreement (`reconcile()`); `failed` counts refused steps. */
  /** `busy`: rows left to an operation under way, which a later pass looks at again (ReconcileReport). */
  reconcile: (cut: CutByCrash) => Promise<{ failed: number; busy?: number }>;
  /**
   * What follows every pass that got through, in order (the updates a crash cut, the owner networks'
   * filter, the CPU limits to backfill, …). One that throws ends the pass as a failed one.
   */
  afterPass: readonly ((cut: CutByCrash) => Promise<void>)[];
  /** Once, after the first pass that got through (the restarts a killed berth had due). */
  afterFirstPass?: () => Promise<void>;
  log: SystemLogger;
  /** Default RECONCILE_RETRY_MS. */
  retryMs?: number;
  /**
   * Passes only between a start() and a stop() (cluster mode: while this API server leads the cluster);
   * otherwise `run()` always runs, as a single host's berth is the one to bring its engine in line.
   */
  onlyWhenStarted?: boolean;
}

/**
 * Berth's reconciliation as a service: a pass when berth starts and at every
 * return of the engine (`run()`, called by whoever sees the engine come
 * back), and a retry of its own, `retryMs` later, while a pass left steps the
 * engine refused, or rows to an operation under way (a create undone while
 * the engine was away can leave its engine container for a later pass). A pass that throws (the engine went away during it) is
 * logged and waits for the engine's next return. `close()` stops the retries;
 * a pass under way ends by itself (it may wait on an engine that does not
 * answer, which a shutdown must not wait for), and schedules nothing more.
 *
 * @example
 * const reconciliation = new Reconciliation({ reconcile: (cut) => reconcile({ ...parts, cut }), afterPass: [], log });
 * reconciliation.start(CutByCrash.of(await repo.all()));
 * await reconciliation.run();
 * engine.on("up", () => void reconciliation.run());
 */
export class Reconciliation {
  readonly #o: ReconciliationOptions;
  readonly #retryMs: number;
  /** What a crash left cut half-way, taken by start() before berth made any operation of its own. */
  #cut = CutByCrash.of([]);
  #retry: NodeJS.Timeout | undefined;
  #firstPassDone = false;
  #closed = false;
  #started: boolean;

  constructor(options: ReconciliationOptions) {
    this.#o = options;
    this.#retryMs = options.retryMs ?? RECONCILE_RETRY_MS;
    this.#started = options.onlyWhenStarted !== true;
  }

  /**
   * Takes what the crash left (the rows as this process found them), for every later pass. In cluster
   * mode, at each term of this server's lead: what the last leader or a killed server left cut, found
   * as rows in the midst of an operation whose lock nobody holds (each is looked at in its turn, under it).
   */
  start(cut: CutByCrash): void {
    this.#cut = cut;
    this.#started = true;
  }

  /** No pass and no retry until the next start() (cluster mode: this server no longer leads). */
  stop(): void {
    this.#started = false;
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  /** One pass now; never rejects. After close(), or stop() with `onlyWhenStarted`, it does nothing. */
  async run(): Promise<void> {
    if (this.#closed || !this.#started) return;
    try {
      const report = await this.#o.reconcile(this.#cut);
      for (const step of this.#o.afterPass) await step(this.#cut);
      // At start-up, or when the engine first returns: once (this berth's own timers outlive an outage).
      if (!this.#firstPassDone) {
        this.#firstPassDone = true;
        await this.#o.afterFirstPass?.();
      }
      if ((report.failed > 0 || (report.busy ?? 0) > 0) && !this.#closed && this.#started) {
        clearTimeout(this.#retry);
        this.#retry = setTimeout(() => void this.run(), this.#retryMs);
        this.#retry.unref();
      }
    } catch (err) {
      this.#o.log.error({ err }, "reconciliation failed; it runs again when the engine comes back");
    }
  }

  /** Stops the retries. Safe to call twice. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }
}
