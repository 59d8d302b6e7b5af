import type { Config } from "../config/config.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { UidTakenError } from "../store/store-errors.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import { allocateUid } from "./spec-limits.ts";

/** How often a create chooses another uid when the store says the one it chose was taken meanwhile. */
const MAX_UID_TRIES = 5;

/** A uid held for one holder until release() (idempotent). */
export interface UidClaim {
  readonly uid: number;
  release(): void;
}

/**
 * The workload uids this berth hands out, to new containers and to image
 * checks' throwaway containers alike (a socket is chowned to its container's
 * uid, so two containers must never share one). One instance serves both:
 * a uid is claimed synchronously, BEFORE the store is asked whether a row has
 * it, so that no other create or check choosing meanwhile (each waiting for
 * its own answer) can choose it too; it is released if the store says taken.
 */
export class UidClaims {
  readonly #repo: Pick<ContainerStore, "isUidTaken" | "insert">;
  readonly #range: Config["uidRange"];
  readonly #log: SystemLogger;
  /** Uids held now: a create storing its row, or an image check running. */
  readonly #claimed = new Set<number>();

  constructor(
    repo: Pick<ContainerStore, "isUidTaken" | "insert">,
    range: Config["uidRange"],
    log: SystemLogger,
  ) {
    this.#repo = repo;
    this.#range = range;
    this.#log = log;
  }

  /** Whether `uid` is held now (by a create storing its row, or an image check). */
  holds(uid: number): boolean {
    return this.#claimed.has(uid);
  }

  /** A uid no container of the store has and no create or check of this berth holds, held until released. */
  async claim(): Promise<UidClaim> {
    const uid = await allocateUid(this.#range, async (u) => {
      if (this.#claimed.has(u)) return true;
      this.#claimed.add(u); // no await before this: a chooser meanwhile sees it held
      try {
        if (!(await this.#repo.isUidTaken(u))) return false;
      } catch (err) {
        this.#claimed.delete(u);
        throw err;
      }
      this.#claimed.delete(u);
      return true;
    });
    let held = true;
    return {
      uid,
      release: () => {
        if (held) this.#claimed.delete(uid);
        held = false;
      },
    };
  }

  /**
   * Stores a new container's row with a free uid. Another berth's create may
   * store a row with the same uid between the store's answer and this insert,
   * which the store's uniqueness refuses — then another is chosen. Once the row
   * is stored, the store itself answers for the uid.
   */
  async insertWithFreeUid(record: ContainerRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const claim = await this.claim();
      record.uid = claim.uid;
      try {
        await this.#repo.insert(record);
        return;
      } catch (err) {
        if (!(err instanceof UidTakenError) || attempt >= MAX_UID_TRIES) throw err;
        this.#log.debug({ containerId: record.id, uid: claim.uid }, "uid taken meanwhile; choosing another");
      } finally {
        claim.release();
      }
    }
  }
}
