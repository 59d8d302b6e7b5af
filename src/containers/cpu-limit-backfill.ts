import type { Config } from "../config/config.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerStore, MetaStore } from "../store/store-ports.ts";
import { effectiveLimits } from "./effective-limits.ts";

/** Set in the store once every container has a CPU limit; containers made since get one at create. */
const DONE = "cpu-limits-backfilled";

export interface CpuLimitBackfillOptions {
  docker: DockerClient;
  repo: ContainerStore;
  meta: MetaStore;
  defaults: Pick<Config, "defaultCpus" | "defaultMemoryMb" | "defaultPids">;
  log: SystemLogger;
}

/**
 * Gives the containers that an earlier berth made without a CPU limit the
 * limit their spec asks for, or the default, in place (`docker update`: no
 * restart). Once per data directory: when every container has one, the store
 * remembers it and later starts cost nothing. A container the engine refuses
 * to update is logged and tried again at the next reconciliation.
 */
export async function backfillCpuLimits(o: CpuLimitBackfillOptions): Promise<number> {
  if ((await o.meta.get(DONE)) !== undefined) return 0;
  const log = o.log.child({ component: "CpuLimitBackfill" });
  let updated = 0;
  let failed = 0;
  for (const record of await o.repo.all()) {
    if (!record.dockerId) continue;
    try {
      const inspect = await o.docker.inspectContainer(record.dockerId);
      const host = inspect?.HostConfig;
      if (!host || (host.NanoCpus ?? 0) > 0 || (host.CpuQuota ?? 0) > 0) continue;
      const { nanoCpus } = effectiveLimits(record.spec, o.defaults);
      await o.docker.updateCpuLimit(record.dockerId, nanoCpus);
      log.info(
        { containerId: record.id, cpus: nanoCpus / 1e9 },
        "gave a container made without a CPU limit its limit",
      );
      updated++;
    } catch (err) {
      failed++;
      log.warn({ err, containerId: record.id }, "could not give a container its CPU limit; will try again");
    }
  }
  if (failed === 0) await o.meta.set(DONE, new Date().toISOString());
  return updated;
}
