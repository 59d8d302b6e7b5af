import type { CgroupMount } from "./cgroup-mounts.ts";
import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";
import type { CgroupMembership } from "./proc-cgroup.ts";

/** The paths of the files one sample reads, resolved once per container (and again after a restart). */
export type CgroupFiles =
  | {
      version: 1;
      memoryUsage: string;
      memoryStat: string;
      /** Read only when `memory.stat` lacks `hierarchical_memory_limit`. */
      memoryLimit: string;
      cpuacctUsage: string;
      pidsCurrent: string;
      /**
       * The block I/O files to try, best first: `blkio.throttle.io_service_bytes`, then
       * `blkio.io_service_bytes`; the reader uses the first that exists.
       */
      blkio: readonly string[];
      netDev: string;
      /** Pressure counters, optional: `cpu.stat` of the cpu controller (throttling), `pids.events`. */
      cpuStat: string | undefined;
      pidsEvents: string;
    }
  | {
      version: 2;
      memoryCurrent: string;
      memoryStat: string;
      memoryMax: string;
      cpuStat: string;
      pidsCurrent: string;
      ioStat: string;
      netDev: string;
      /** Optional: read when present (a pids controller that is not enabled has none). */
      pidsEvents: string;
    };

/**
 * Maps a process's cgroup memberships onto berth's mounts. A host with v1
 * memory accounting uses v1 even when a (controller-less) v2 tree is mounted
 * beside it — the hybrid layout of this machine and of older systemd hosts.
 * Which v1 blkio file exists is left to the reader, as it takes a read.
 */
export function locateCgroupFiles(
  pid: number,
  memberships: CgroupMembership[],
  mounts: CgroupMount[],
): CgroupFiles {
  const netDev = `/proc/${pid}/net/dev`;
  if (memberships.some((m) => m.controllers.includes("memory"))) {
    const memory = v1Dir("memory", memberships, mounts);
    const cpuacct = v1Dir("cpuacct", memberships, mounts);
    const pids = v1Dir("pids", memberships, mounts);
    const blkio = v1Dir("blkio", memberships, mounts);
    // Throttling counters live in the cpu controller, usually co-mounted with cpuacct; without it, none.
    let cpu: string | undefined;
    try {
      cpu = v1Dir("cpu", memberships, mounts);
    } catch {
      cpu = undefined;
    }
    return {
      version: 1,
      memoryUsage: `${memory}/memory.usage_in_bytes`,
      memoryStat: `${memory}/memory.stat`,
      memoryLimit: `${memory}/memory.limit_in_bytes`,
      cpuacctUsage: `${cpuacct}/cpuacct.usage`,
      pidsCurrent: `${pids}/pids.current`,
      blkio: [`${blkio}/blkio.throttle.io_service_bytes`, `${blkio}/blkio.io_service_bytes`],
      netDev,
      cpuStat: cpu === undefined ? undefined : `${cpu}/cpu.stat`,
      pidsEvents: `${pids}/pids.events`,
    };
  }
  const unified = memberships.find((m) => m.hierarchyId === 0);
  if (unified === undefined)
    throw new CgroupUnavailableError(`process ${pid} is in no known cgroup hierarchy`);
  const dir = dirIn(
    unified.path,
    mounts.filter((m) => m.version === 2),
  );
  if (dir === undefined) throw new CgroupUnavailableError(`no cgroup2 mount holds ${unified.path}`);
  return {
    version: 2,
    memoryCurrent: `${dir}/memory.current`,
    memoryStat: `${dir}/memory.stat`,
    memoryMax: `${dir}/memory.max`,
    cpuStat: `${dir}/cpu.stat`,
    pidsCurrent: `${dir}/pids.current`,
    ioStat: `${dir}/io.stat`,
    netDev,
    pidsEvents: `${dir}/pids.events`,
  };
}

function v1Dir(controller: string, memberships: CgroupMembership[], mounts: CgroupMount[]): string {
  const membership = memberships.find((m) => m.hierarchyId !== 0 && m.controllers.includes(controller));
  if (membership === undefined) throw new CgroupUnavailableError(`no ${controller} cgroup for the process`);
  const dir = dirIn(
    membership.path,
    mounts.filter((m) => m.version === 1 && m.options.includes(controller)),
  );
  if (dir === undefined) throw new CgroupUnavailableError(`no mount of the ${controller} hierarchy holds it`);
  return dir;
}

/** The directory of `path` under the first mount whose root contains it. */
function dirIn(path: string, mounts: CgroupMount[]): string | undefined {
  // A path outside our cgroup namespace shows as "/../…"; berth cannot reach it through its mounts.
  if (!path.startsWith("/") || path.includes("/..")) return undefined;
  for (const mount of mounts) {
    const root = mount.root === "/" ? "" : mount.root;
    if (path !== root && !path.startsWith(`${root}/`)) continue;
    const rest = path.slice(root.length);
    return rest === "/" ? mount.mountPoint : mount.mountPoint + rest;
  }
  return undefined;
}
