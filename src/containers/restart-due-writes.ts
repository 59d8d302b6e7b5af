import type { ContainerStore } from "../store/store-ports.ts";

/**
 * The restart policy's bookkeeping (RestartSupervisor): when its start is due
 * (null: none) and its attempts, kept in the store so that a berth killed
 * during a back-off leaves them to the next. One write at a time per
 * container, in the order asked: the store answers later, and a decision must
 * not be overwritten by the mark that preceded it.
 */
export class RestartDueWrites {
  readonly #repo: ContainerStore;
  /** The writes under way, per container. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(repo: ContainerStore) {
    this.#repo = repo;
  }

  set(id: string, due: { at: number | null; attempts?: number }): Promise<void> {
    const write = (this.#writes.get(id) ?? Promise.resolve()).then(async () => {
      const record = await this.#repo.get(id);
      if (!record) return;
      // A start, a stop or a delete made since answered the exit (and cleared it): nothing is due any more.
      if (due.at !== null && record.state !== "exited") return;
      const { at, attempts } = due;
      await this.#repo.update(id, {
        restartDueAt: at,
        ...(attempts === undefined ? {} : { restartAttempts: attempts }),
      });
    });
    const settled = write.catch(() => {});
    this.#writes.set(id, settled);
    void settled.then(() => {
      if (this.#writes.get(id) === settled) this.#writes.delete(id);
    });
    return write;
  }
}
