import type { Config } from "../config/config.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { UidTakenError } from "../store/store-errors.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import { allocateUid } from "./spec-limits.ts";

/** How often a create chooses another uid when the store says the one it chose was taken meanwhile. */
const MAX_UID_TRIES = 5;

/**
 * The uids of new containers: each create stores its row with a uid no other
 * container has, is storing, or an image check holds (its socket is chowned
 * to that uid, so two containers must never share one).
 */
export class UidClaims {
  readonly #repo: ContainerStore;
  readonly #range: Config["uidRange"];
  readonly #log: SystemLogger;
  readonly #inUseElsewhere: (uid: number) => boolean;
  /** Uids of creates storing their row now: chosen, not yet in the store. */
  readonly #storing = new Set<number>();

  constructor(
    repo: ContainerStore,
    range: Config["uidRange"],
    log: SystemLogger,
    inUseElsewhere: (uid: number) => boolean = () => false,
  ) {
    this.#repo = repo;
    this.#range = range;
    this.#log = log;
    this.#inUseElsewhere = inUseElsewhere;
  }

  /**
   * Whether a container has `uid`, or a create is storing one with it (an image check
   * asks, to run its throwaway container as a uid no container has or is about to have).
   */
  async isTaken(uid: number): Promise<boolean> {
    return this.#storing.has(uid) || (await this.#repo.isUidTaken(uid));
  }

  /**
   * Stores a new container's row with a free uid. The store is asked whether a
   * uid is free, and answers later: another create (or another berth's) may take
   * the same one in between, which the store's uniqueness refuses — then another
   * is chosen. An image check's uid is avoided too (uidsInUse).
   */
  async insertWithFreeUid(record: ContainerRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const uid = await allocateUid(
        this.#range,
        async (u) => this.#storing.has(u) || (await this.#repo.isUidTaken(u)) || this.#inUseElsewhere(u),
      );
      if (this.#storing.has(uid) || this.#inUseElsewhere(uid)) continue;
      record.uid = uid;
      this.#storing.add(uid);
      try {
        await this.#repo.insert(record);
        return;
      } catch (err) {
        if (!(err instanceof UidTakenError) || attempt >= MAX_UID_TRIES) throw err;
        this.#log.debug({ containerId: record.id, uid }, "uid taken meanwhile; choosing another");
      } finally {
        this.#storing.delete(uid);
      }
    }
  }
}
