import type { Turn } from "./fair-queue.ts";
import type { QuotaReservation } from "./quota-ledger.ts";

/** A container's resources as its spec asks for them (unset: the server's defaults). */
export interface Resources {
  memoryMb?: number | undefined;
  cpus?: number | undefined;
}

/**
 * What the ContainerManager and the CodeUpdater ask of admission control
 * before they make the engine (or the disk) work. The quota checks read the
 * store and hold their reservation until `release()`, which the caller
 * makes once the store records the outcome (awaited: never before) (or once it undid the step); a
 * turn at the engine is held around the engine calls only, never around a
 * wait for the workload.
 */
export interface AdmissionPort {
  /** A new container: `containers`, `codeMb`, and when it starts at once `running`, `memoryMb`, `cpus`. */
  reserveCreate(
    owner: string,
    id: string,
    request: { resources: Resources | undefined; starts: boolean; codeBytes: number },
  ): Promise<QuotaReservation>;
  /** Running the container: `running`, `memoryMb`, `cpus` (nothing more when it already runs). */
  reserveRun(owner: string, id: string, resources: Resources | undefined): Promise<QuotaReservation>;
  /** `codeBytes` more on disk for the container: `codeMb`. */
  reserveCode(owner: string, id: string, codeBytes: number): Promise<QuotaReservation>;
  /**
   * A turn at the engine in the fair queue of the container's owner.
   * `bounded: false` waits even when the queue is full (the admin, berth's
   * own steps); otherwise a full queue answers RATE_LIMITED.
   */
  engineTurn(owner: string, options: { bounded: boolean }): Promise<Turn>;
}

const NOTHING_HELD: QuotaReservation & Turn = { release: () => {} };

/** No quotas and no queue: for unit tests of the manager and for tools that build one by hand. */
export const admitEverything: AdmissionPort = {
  reserveCreate: () => Promise.resolve(NOTHING_HELD),
  reserveRun: () => Promise.resolve(NOTHING_HELD),
  reserveCode: () => Promise.resolve(NOTHING_HELD),
  engineTurn: () => Promise.resolve(NOTHING_HELD),
};

/**
 * Reserves quota, runs `beforeTurn` if given, then waits for a turn at the
 * engine; one `release()` gives both back. When `beforeTurn` fails or the
 * turn is refused (a full queue) the quota goes back at once. Release it once
 * the store records the outcome.
 *
 * `beforeTurn` is for slow work that needs no turn — installing the egress
 * filter runs iptables, each call up to seconds — so that it holds up only
 * this operation, never the other owners waiting for the engine; it runs
 * after the quota check, so a refused request costs nothing.
 */
export async function admit(
  port: AdmissionPort,
  owner: string,
  bounded: boolean,
  reserve: (port: AdmissionPort) => Promise<QuotaReservation>,
  beforeTurn?: () => Promise<void>,
): Promise<Turn> {
  const quota = await reserve(port);
  let turn: Turn;
  try {
    await beforeTurn?.();
    turn = await port.engineTurn(owner, { bounded });
  } catch (err) {
    quota.release();
    throw err;
  }
  return {
    release: () => {
      turn.release();
      quota.release();
    },
  };
}
