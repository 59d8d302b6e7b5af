import type { SystemLogger } from "../logging/system-logger.ts";
import type { ReleaseStore } from "../store/store-ports.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";

/**
 * Keeps a container's releases to BERTH_KEEP_RELEASES: the oldest go after a
 * successful update, the oldest failed ones after a failed one. A release's
 * directory goes first, then its row: the row is what the code quota counts,
 * so a directory that cannot be removed stays counted (and listed), and the
 * next prune tries again.
 */
export class ReleasePruning {
  readonly #releases: Pick<ReleaseStore, "list" | "delete">;
  readonly #files: Pick<WorkloadFiles, "removeRelease">;
  readonly #keep: number;
  readonly #log: SystemLogger;

  constructor(
    releases: Pick<ReleaseStore, "list" | "delete">,
    files: Pick<WorkloadFiles, "removeRelease">,
    keep: number,
    log: SystemLogger,
  ) {
    this.#releases = releases;
    this.#files = files;
    this.#keep = keep;
    this.#log = log;
  }

  /** Keeps the newest releases (and always the active one). */
  async prune(id: string, active: number): Promise<void> {
    const all = await this.#releases.list(id);
    for (const r of all.slice(this.#keep)) {
      if (r.number === active) continue;
      await this.remove(id, r.number, "could not remove an old release");
    }
  }

  /**
   * After a failed update: the oldest failed releases go while more than
   * BERTH_KEEP_RELEASES are kept. A failed release stays for its owner to
   * look at, but only a successful update prunes otherwise, so an owner whose
   * updates keep failing would fill the disk (or its code quota) without this.
   */
  async pruneFailed(id: string): Promise<void> {
    const all = await this.#releases.list(id);
    let excess = all.length - this.#keep;
    for (const r of all.toReversed()) {
      if (excess <= 0) return;
      if (r.status !== "failed") continue;
      excess--;
      await this.remove(id, r.number, "could not remove a failed release");
    }
  }

  /** Removes a release's directory, then its row; a directory that will not go is logged with `failure` and kept. */
  async remove(id: string, release: number, failure: string): Promise<void> {
    try {
      await this.#files.removeRelease(id, release);
    } catch (err) {
      this.#log.warn({ err, containerId: id, release }, failure);
      return;
    }
    await this.#releases.delete(id, release);
  }
}
