import type { ContainerInfo } from "#protocol";
import { BerthError } from "../errors/berth-error.ts";

export type OperationName = "create" | "start" | "stop" | "restart" | "delete" | "update" | "rollback";

/** How an operation a client asked for went; the activity feed tells users from these. */
export interface OperationOutcome {
  op: OperationName;
  ok: boolean;
  ms: number;
  owner: string;
  name: string;
  id: string | undefined;
  info?: ContainerInfo | undefined;
  /** What the operation answered, when it succeeded. */
  result?: unknown;
  error?: unknown;
}

const STOPS = new Set(["stop", "restart", "delete", "update", "rollback"]);
const STARTS = new Set(["create", "start", "restart", "update", "rollback"]);
/** Which of berth's own operations make the engine report each event. */
const EVENT_CAUSES: Record<string, ReadonlySet<string>> = {
  kill: STOPS,
  die: STOPS,
  stop: STOPS,
  start: STARTS,
};

function isContainerInfo(value: unknown): value is ContainerInfo {
  return typeof value === "object" && value !== null && "state" in value && "createdAt" in value;
}

/**
 * Times the operations clients ask for, reports how each went, and remembers
 * the last one on each container and when it ended — so that the engine's
 * echo of berth's own work (the `die` of a stop, arriving a moment later) is
 * recognised and not taken for something that happened to the workload.
 */
export class OperationTracker {
  readonly #lastOperation = new Map<string, { op: string; endedAt: number }>();
  readonly #exists: (id: string) => Promise<boolean>;
  readonly #onOutcome: (outcome: OperationOutcome) => void;
  readonly #latest: (info: ContainerInfo) => ContainerInfo;

  /**
   * `exists` tells whether a container is still known (a deleted one is forgotten); `latest` brings a
   * container's answer up to date as it goes out (its health), since the outcome's report waits on the
   * store and pushes may be sent meanwhile: an answer must not be older than a push its client already has.
   */
  constructor(
    exists: (id: string) => Promise<boolean>,
    onOutcome: (outcome: OperationOutcome) => void,
    latest: (info: ContainerInfo) => ContainerInfo = (info) => info,
  ) {
    this.#exists = exists;
    this.#onOutcome = onOutcome;
    this.#latest = latest;
  }

  /**
   * Whether an engine event `action` on container `id` at `time` is the echo of
   * an operation of berth's: `running` (the operation under way now, if any)
   * or the last one, if the event is not later than its end.
   */
  causedByBerth(id: string, action: string, time: number, running: string | undefined): boolean {
    const causes = EVENT_CAUSES[action];
    if (!causes) return false;
    if (running !== undefined && causes.has(running)) return true;
    const last = this.#lastOperation.get(id);
    return last !== undefined && causes.has(last.op) && time <= last.endedAt;
  }

  /** Operations asked for and not yet answered (a create counts from its start, before its container has a turn). */
  get inFlight(): number {
    return this.#inFlight;
  }

  #inFlight = 0;

  /** Runs an operation and reports how it went and how long it took. */
  async track<T>(
    op: OperationName,
    subject: { id?: string; owner: string; name: string },
    fn: () => Promise<T>,
  ): Promise<T> {
    this.#inFlight++;
    try {
      return await this.#track(op, subject, fn);
    } finally {
      this.#inFlight--;
    }
  }

  async #track<T>(
    op: OperationName,
    subject: { id?: string; owner: string; name: string },
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const report = async (
      id: string | undefined,
      outcome: Pick<OperationOutcome, "ok" | "info" | "result" | "error">,
    ) => {
      await this.#remember(id, op);
      this.#onOutcome({
        op,
        ms: performance.now() - started,
        owner: subject.owner,
        name: subject.name,
        id,
        ...outcome,
      });
    };
    try {
      const result = await fn();
      const info = isContainerInfo(result) ? result : undefined;
      await report(info?.id ?? subject.id, { ok: true, info, result });
      return info ? (this.#latest(info) as T) : result;
    } catch (err) {
      const named =
        err instanceof BerthError && typeof err.details?.containerId === "string"
          ? err.details.containerId
          : undefined;
      await report(subject.id ?? named, { ok: false, error: err });
      throw err;
    }
  }

  async #remember(id: string | undefined, op: string): Promise<void> {
    if (id === undefined) return;
    // Set before the store is asked, so that an engine event read meanwhile finds it; forgotten
    // once the container turns out gone (a delete, a create undone), unless a later operation replaced it.
    const last = { op, endedAt: Date.now() };
    this.#lastOperation.set(id, last);
    // A store that cannot answer must not turn the operation's outcome into another error.
    const exists = await this.#exists(id).catch(() => false);
    if (!exists && this.#lastOperation.get(id) === last) this.#lastOperation.delete(id);
  }
}
