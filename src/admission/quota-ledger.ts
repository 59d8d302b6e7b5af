import type { QuotaLimits } from "#protocol";
import type { OwnerHold, OwnerLocks } from "../cluster/owner-locks.ts";
import { QuotaExceededError } from "./admission-errors.ts";
import { NO_USAGE, type Usage } from "./container-usage.ts";
import type { QuotaName } from "./quota-limits.ts";

/** Each container's usage as recorded now (the store), for one owner. */
export interface UsageSource {
  usageOf(owner: string): Promise<Iterable<{ id: string; usage: Usage }>>;
}

/** Held while an operation makes its change; `release()` once the store records the outcome. Idempotent. */
export interface QuotaReservation {
  release(): void;
}

const MiB = 1024 * 1024;
/** Reads of the store per check at most (see #recorded). */
const MAX_READS = 5;
/** Sums of fractional CPUs (0.1 + 0.2) must not fail a check by a rounding error. */
const EPSILON = 1e-9;

const QUOTA_OF: ReadonlyArray<[keyof Usage, QuotaName, number]> = [
  ["containers", "containers", 1],
  ["running", "running", 1],
  ["memoryMb", "memoryMb", 1],
  ["cpus", "cpus", 1],
  ["codeBytes", "codeMb", MiB],
];

interface Held {
  id: string;
  floor: Partial<Usage>;
}

/** A floor, or how to make one from what the container counts now (for "this much more code"). */
export type Floor = Partial<Usage> | ((current: Usage) => Partial<Usage>);

/**
 * Per-owner quota accounting that stays exact under concurrency and across
 * restarts: usage is read from the store (the records of what exists) on
 * every check, plus the reservations of operations still under way.
 *
 * A reservation is a *floor* for one container while its operation runs: a
 * create holds `{ containers: 1, codeBytes, … }` before the row exists; a
 * start holds `{ running: 1, memoryMb, cpus }` before the state says so. A
 * container counts as the larger of its recorded usage and its floors, per
 * quota, so a reservation never counts twice once the store catches up, and
 * a start of a container that already runs asks for nothing more. The store
 * answers later; once it has, checking and reserving happen in one synchronous
 * step against the floors held then, so fifty concurrent creates cannot pass a
 * check together. A reservation released while the store was being read may
 * belong to an outcome that read missed: the store is read again then.
 * Nothing survives a restart because nothing needs to: an operation that was
 * under way either reached the store or was undone.
 *
 * Only a quota that the reservation raises is checked: an owner already above
 * a lowered memory quota may still stop, delete, or start within the others.
 *
 * Several servers on one database (PostgreSQL): another server's reservations
 * are in its memory, not in the store, so with `ownerLocks` each check first
 * holds the owner's lock (OwnerLocks), and the reservation keeps holding it
 * until released. This is exact: a server holds the lock from its check until
 * the last reservation it holds for the owner is released, and a reservation
 * is released only once the store records what it reserved (or the step was
 * undone). So while a server holds the lock, no other server holds any
 * reservation of that owner's: everything they admitted is in the store this
 * check reads, and this server's own are its floors — which is exactly what
 * one server counts. The window is no wider than the reservations' own, which
 * every caller already ends the moment the store shows what it reserved: a
 * create's once its row and state are written (after the engine started it),
 * a start's once `running` is, an update's once `updating` is. A narrower one would
 * not be exact: a server that let go of the lock while it still held a floor
 * (a container it will start, recorded as stopped) would let another server
 * admit into that room. Without `ownerLocks` (SQLite: one server) no lock is
 * taken and a check costs what it always did.
 */
export class QuotaLedger {
  readonly #source: UsageSource;
  readonly #limitsFor: (owner: string) => QuotaLimits;
  readonly #held = new Map<string, Set<Held>>();
  /** Per owner, how many reservations were released so far (see #recorded). */
  readonly #released = new Map<string, number>();

  readonly #ownerLocks: OwnerLocks | undefined;

  constructor(source: UsageSource, limitsFor: (owner: string) => QuotaLimits, ownerLocks?: OwnerLocks) {
    this.#source = source;
    this.#limitsFor = limitsFor;
    this.#ownerLocks = ownerLocks;
  }

  /** What `owner` uses now, reservations included. */
  async usage(owner: string): Promise<Usage> {
    return sum(this.#byId(owner, await this.#recorded(owner)));
  }

  /**
   * Reserves `floor` for container `id` of `owner`; QUOTA_EXCEEDED when that would pass a limit (and
   * CONFLICT, retryable, when another server admitted the owner's operations for the whole of the wait).
   */
  async reserve(owner: string, id: string, floor: Floor): Promise<QuotaReservation> {
    if (this.#ownerLocks === undefined) return this.#reserve(owner, id, floor, undefined);
    const hold = await this.#ownerLocks.hold(owner);
    try {
      return await this.#reserve(owner, id, floor, hold);
    } catch (err) {
      hold.release();
      throw err;
    }
  }

  async #reserve(
    owner: string,
    id: string,
    floor: Floor,
    hold: OwnerHold | undefined,
  ): Promise<QuotaReservation> {
    const recorded = await this.#recorded(owner);
    // From here to the end, synchronous: no other reservation comes or goes in between.
    const byId = this.#byId(owner, recorded);
    const held: Held = {
      id,
      floor: typeof floor === "function" ? floor(byId.get(id) ?? { ...NO_USAGE }) : floor,
    };
    const before = sum(byId);
    const after = sum(this.#byId(owner, recorded, held));
    const limits = this.#limitsFor(owner);
    for (const [key, quota, unit] of QUOTA_OF) {
      const limit = limits[quota] * unit;
      if (after[key] > before[key] + EPSILON && after[key] > limit + EPSILON) {
        throw new QuotaExceededError(
          quota,
          inUnit(before[key], unit),
          inUnit(after[key] - before[key], unit),
          limits[quota],
        );
      }
    }
    let set = this.#held.get(owner);
    if (!set) {
      set = new Set();
      this.#held.set(owner, set);
    }
    set.add(held);
    const owned = set;
    return {
      release: () => {
        if (!owned.has(held)) return;
        this.#released.set(owner, (this.#released.get(owner) ?? 0) + 1);
        owned.delete(held);
        if (owned.size === 0 && this.#held.get(owner) === owned) this.#held.delete(owner);
        // After the floor is gone: the caller releases once the store records the outcome, so it is there.
        hold?.release();
      },
    };
  }

  /**
   * The owner's usage as the store records it. A release during the read may be
   * of an outcome written after the read began (its floor gone, its row not yet
   * seen): then the read is made again, until none came in between (or a few
   * tries, so that an owner's steady stream of releases cannot stall a check).
   */
  async #recorded(owner: string): Promise<Array<{ id: string; usage: Usage }>> {
    for (let tries = 1; ; tries++) {
      const before = this.#released.get(owner) ?? 0;
      const recorded = [...(await this.#source.usageOf(owner))];
      if ((this.#released.get(owner) ?? 0) === before || tries === MAX_READS) return recorded;
    }
  }

  /** Each container's usage: recorded, raised to the floors held for it (and to `extra`). */
  #byId(owner: string, recorded: Iterable<{ id: string; usage: Usage }>, extra?: Held): Map<string, Usage> {
    const byId = new Map<string, Usage>();
    for (const { id, usage } of recorded) byId.set(id, { ...usage });
    const floors = [...(this.#held.get(owner) ?? []), ...(extra ? [extra] : [])];
    for (const { id, floor } of floors) {
      const usage = byId.get(id) ?? { ...NO_USAGE };
      for (const key of Object.keys(floor) as Array<keyof Usage>) {
        usage[key] = Math.max(usage[key], floor[key] ?? 0);
      }
      byId.set(id, usage);
    }
    return byId;
  }
}

function sum(byId: Map<string, Usage>): Usage {
  const total = { ...NO_USAGE };
  for (const usage of byId.values()) {
    for (const key of Object.keys(total) as Array<keyof Usage>) total[key] += usage[key];
  }
  return total;
}

function inUnit(value: number, unit: number): number {
  return Math.round((value / unit) * 100) / 100;
}
