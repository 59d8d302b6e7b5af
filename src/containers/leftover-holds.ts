import type { Config } from "../config/config.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import { effectiveLimits } from "./effective-limits.ts";

export interface LeftoverHoldsOptions {
  docker: Pick<DockerClient, "inspectContainer" | "updateCpuLimit">;
  repo: Pick<ContainerStore, "all">;
  defaults: Pick<Config, "defaultCpus" | "defaultMemoryMb" | "defaultPids">;
  /** The CPU limits an output hold sets, in nano-CPUs (PressureMonitor's `heldNanoCpus`). */
  heldNanoCpus: readonly number[];
  /** A hold of this berth, under way: not a leftover. */
  isHeld: (containerId: string) => boolean;
  /** True once berth is closing: the pass ends at the next container. */
  stopped?: () => boolean;
  log: SystemLogger;
}

/**
 * Gives back the CPU limits that a berth which died during an output hold left on the engine (it
 * keeps updated limits): every container found at exactly a held limit that is not its own. The
 * PressureMonitor does the same for a container when it first samples it, but a container that is
 * stopped, or never sampled (the history off), would keep 0.05 CPU until then — at its next start.
 * Only a berth that died leaves one, so berth runs this once, after its first reconciliation, in
 * the background (an inspect a container), and again after a reconciliation while containers
 * the engine refused to update (`failed`) remain.
 */
export async function giveBackLeftoverHolds(
  o: LeftoverHoldsOptions,
): Promise<{ given: number; failed: number }> {
  const log = o.log.child({ component: "LeftoverHolds" });
  let given = 0;
  let failed = 0;
  for (const record of await o.repo.all()) {
    if (o.stopped?.()) break;
    if (!record.dockerId) continue;
    try {
      const nanoCpus = (await o.docker.inspectContainer(record.dockerId))?.HostConfig?.NanoCpus;
      const own = effectiveLimits(record.spec, o.defaults).nanoCpus;
      if (nanoCpus === undefined || nanoCpus === own || !o.heldNanoCpus.includes(nanoCpus)) continue;
      if (o.isHeld(record.id)) continue;
      await o.docker.updateCpuLimit(record.dockerId, own);
      log.info({ containerId: record.id, cpus: own / 1e9 }, "gave back a CPU limit an earlier berth held");
      given++;
    } catch (err) {
      failed++;
      log.warn({ err, containerId: record.id }, "could not give back a held CPU limit; will try again");
    }
  }
  return { given, failed };
}

/**
 * The background pass of `giveBackLeftoverHolds` (an inspect a container: start-up must not wait for
 * a thousand), run after a reconciliation until one pass found none it could not give back; one pass
 * at a time. `close()` ends the pass under way at the next container and waits for it.
 */
export class LeftoverHolds {
  readonly #o: Omit<LeftoverHoldsOptions, "stopped">;
  #pass: Promise<void> | undefined;
  #done = false;
  #closed = false;

  constructor(options: Omit<LeftoverHoldsOptions, "stopped">) {
    this.#o = options;
  }

  /**
   * Starts a pass unless one runs, a pass found nothing left to give back, or berth is closing.
   * Resolves (never rejects) when the pass under way ends: berth itself does not wait for it.
   */
  giveBack(): Promise<void> {
    if (this.#pass !== undefined) return this.#pass;
    if (this.#done || this.#closed) return Promise.resolve();
    this.#pass = giveBackLeftoverHolds({ ...this.#o, stopped: () => this.#closed })
      .then(
        ({ failed }) => {
          this.#done = failed === 0;
        },
        (err: unknown) =>
          this.#o.log.warn({ err }, "could not give back the CPU limits an earlier berth held"),
      )
      .finally(() => {
        this.#pass = undefined;
      });
    return this.#pass;
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pass;
  }
}
