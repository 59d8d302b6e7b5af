import type { ContainerState } from "#protocol";
import type { ContainerRecord } from "../store/store-ports.ts";

/** The states an operation leaves a row in while it runs; never left behind once it ends. */
const UNDER_WAY = new Set<ContainerState>(["starting", "stopping", "restarting", "updating", "removing"]);

/**
 * What a crash of berth (SIGKILL, the machine going down) left cut half-way:
 * the rows as this process found them when it started, before it could make
 * any operation of its own. Reconciliation runs again at every return of the
 * engine and on a retry, while owners are at work: a row is cut by the crash
 * only while it is still as the crash left it (same state, no engine id
 * learnt since), and only until it has been settled once — otherwise a
 * create or a start of this very process, caught half-way, would be undone
 * or done twice and told as "interrupted".
 *
 * @example
 *   const cut = CutByCrash.of(await repo.all()); // at start-up, before listening
 *   if (cut.holds(record)) { finish(record); cut.settle(record.id); }
 */
export class CutByCrash {
  readonly #rows = new Map<string, { state: ContainerState; dockerId: string | null }>();

  /** When this process started: rows (and releases) made before it are the crash's. */
  readonly since: number;

  private constructor(records: Iterable<ContainerRecord>, since: number) {
    this.since = since;
    for (const r of records) {
      if (UNDER_WAY.has(r.state) || r.dockerId === null)
        this.#rows.set(r.id, { state: r.state, dockerId: r.dockerId });
    }
  }

  static of(records: Iterable<ContainerRecord>, since = Date.now()): CutByCrash {
    return new CutByCrash(records, since);
  }

  /** Whether `record` is still exactly as the crash left it, and not settled yet. */
  holds(record: ContainerRecord): boolean {
    const then = this.#rows.get(record.id);
    if (!then || then.state !== record.state) return false;
    // An engine id learnt since (a create of this process, or adopted from the engine) is not the crash's null.
    return (then.dockerId === null) === (record.dockerId === null);
  }

  /** The row's cut operation is finished or undone (and told): never again. */
  settle(id: string): void {
    this.#rows.delete(id);
  }
}
