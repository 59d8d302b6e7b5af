import type { EngineExit } from "./container-manager.ts";

/**
 * Exit codes of a workload that the engine stopped on its way out: 0 (it
 * honoured SIGTERM), 143 (SIGTERM, unhandled), 137 (SIGKILL after the grace;
 * never one the engine says was for memory).
 */
const ENGINE_STOP_CODES: ReadonlySet<number> = new Set([0, 143, 137]);
/**
 * An engine that shuts down stops its containers before berth may have
 * noticed it is gone (berth probes every 5 s while the engine answers, and an
 * exit can still be read through a connection already open): exits with an
 * engine-stop code seen this long before the outage was known count as the
 * outage's.
 */
export const DEFAULT_LOOKBACK_MS = 6_000;

/** Whether an exit code is one the engine's own shutdown gives a workload. */
export function isEngineStopCode(exitCode: number | null | undefined): boolean {
  return exitCode !== null && exitCode !== undefined && ENGINE_STOP_CODES.has(exitCode);
}

/**
 * Whether the engine's account of an exit fits its own going away: an
 * engine-stop code, not for memory, and — when berth knows from when the
 * outage could have begun (`since`) — not ended before then.
 */
export function isOutagesExit(exit: EngineExit, since: number | undefined): boolean {
  if (exit.oomKilled || !isEngineStopCode(exit.exitCode)) return false;
  return since === undefined || exit.finishedAt === undefined || exit.finishedAt >= since;
}

/**
 * Tells which exits berth saw shortly before it knew the engine was gone
 * could be the engine's doing: those with an engine-stop code, not for
 * memory, within the look-back. Keeps only the last few seconds' exits.
 */
export class OutageExitDetector {
  readonly #lookbackMs: number;
  readonly #now: () => number;
  /** Exits that berth saw on its own (not its own stop), by id, when. */
  readonly #recent = new Map<string, number>();

  constructor(options: { lookbackMs?: number; now: () => number }) {
    this.#lookbackMs = options.lookbackMs ?? DEFAULT_LOOKBACK_MS;
    this.#now = options.now;
  }

  /** The earliest time an exit seen now may be the outage's. */
  get since(): number {
    return this.#now() - this.#lookbackMs;
  }

  /** An exit berth saw while the engine answered; one that cannot be the engine's is not kept. */
  noteExit(id: string, exitCode: number | null | undefined, oomKilled: boolean): void {
    if (oomKilled || !isEngineStopCode(exitCode)) return;
    this.#recent.set(id, this.#now());
    // Only the last few seconds matter: older entries go, so the map stays as small as the churn.
    const since = this.since;
    for (const [other, at] of this.#recent) if (at < since) this.#recent.delete(other);
  }

  /** Whether this container's exit was seen within the look-back of now. */
  exitedJustBefore(id: string): boolean {
    const at = this.#recent.get(id);
    return at !== undefined && at >= this.since;
  }

  /** Every container whose exit was seen within the look-back of now. */
  exitedJustBeforeNow(): Set<string> {
    const since = this.since;
    return new Set([...this.#recent].filter(([, at]) => at >= since).map(([id]) => id));
  }

  /** Forgets every exit seen: the outage they were weighed for is known. */
  clear(): void {
    this.#recent.clear();
  }
}
