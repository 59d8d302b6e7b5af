import type { ContainerStore } from "../store/store-ports.ts";

/**
 * The restart policy's bookkeeping (RestartSupervisor): when its start is due
 * (null: none) and its attempts, kept in the store so that a berth killed
 * during a back-off leaves them to the next. One write at a time per
 * container, in the order asked: the store answers later, and a decision must
 * not be overwritten by the mark that preceded it.
 */
export class RestartDueWrites {
  readonly #repo: Pick<ContainerStore, "setRestartDue">;
  /** The writes under way, per container. */
  readonly #writes = new Map<string, Promise<void>>();

  constructor(repo: Pick<ContainerStore, "setRestartDue">) {
    this.#repo = repo;
  }

  set(id: string, due: { at: number | null; attempts?: number }): Promise<void> {
    const write = (this.#writes.get(id) ?? Promise.resolve()).then(async () => {
      // Only while exited, in the store's one statement: a start, a stop or a delete written
      // since (in the container's turn, which this write is not in) answered the exit.
      await this.#repo.setRestartDue(id, due);
    });
    const settled = write.catch(() => {});
    this.#writes.set(id, settled);
    void settled.then(() => {
      if (this.#writes.get(id) === settled) this.#writes.delete(id);
    });
    return write;
  }
}
