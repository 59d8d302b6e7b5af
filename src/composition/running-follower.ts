import type { Config } from "../config/config.ts";
import { effectiveLimits } from "../containers/effective-limits.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { HealthMonitor } from "../monitoring/health-monitor.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";

export interface RunningFollowerOptions {
  repo: Pick<ContainerStore, "get">;
  health: Pick<HealthMonitor, "track" | "untrack" | "watches">;
  defaults: Pick<Config, "defaultCpus" | "defaultMemoryMb" | "defaultPids">;
  log: SystemLogger;
}

/**
 * Follows the manager's status changes, in the order they came (each reads
 * the record first, and a start read late must not track a container that
 * has exited since): a running container has its health watched and its CPU
 * limit known to the pressure monitor, whose holds ask synchronously; one
 * that no longer runs, neither. `settled()` waits for the changes being
 * followed (berth's close, before the health monitor's last writes).
 */
export class RunningFollower {
  readonly #o: RunningFollowerOptions;
  readonly #nanoCpus = new Map<string, number>();
  #following: Promise<void> = Promise.resolve();

  constructor(options: RunningFollowerOptions) {
    this.#o = options;
  }

  /** The CPU limit of a running container, in nano-CPUs. */
  nanoCpusOf(id: string): number | undefined {
    return this.#nanoCpus.get(id);
  }

  /** A container found running at start-up: its CPU limit is known before any status change. */
  noteRunning(record: ContainerRecord): void {
    this.#nanoCpus.set(record.id, effectiveLimits(record.spec, this.#o.defaults).nanoCpus);
  }

  follow(info: { id: string; state: string }): void {
    const { repo, health, log } = this.#o;
    this.#following = this.#following
      .then(async () => {
        const record = info.state === "running" ? await repo.get(info.id) : undefined;
        if (record) {
          this.noteRunning(record);
          health.track(record);
        } else {
          health.untrack(info.id);
          this.#nanoCpus.delete(info.id);
        }
      })
      .catch((err: unknown) => log.warn({ err, containerId: info.id }, "could not follow a status change"));
  }

  /**
   * Cluster mode, on the leading API server: the container's state changed, by this server or another
   * (a notice from the store says which container, not what became of it). Read in order with the
   * other changes followed: a running one is watched (from now, if it was not), any other is not.
   */
  recheck(id: string): void {
    const { repo, health, log } = this.#o;
    this.#following = this.#following
      .then(async () => {
        const record = await repo.get(id);
        if (record?.state === "running") {
          this.noteRunning(record);
          if (!health.watches(id)) health.track(record);
        } else if (health.watches(id)) {
          health.untrack(id);
          this.#nanoCpus.delete(id);
        }
      })
      .catch((err: unknown) => log.warn({ err, containerId: id }, "could not follow a state change"));
  }

  /** Resolves once every change followed so far is done. */
  settled(): Promise<void> {
    return this.#following;
  }
}
