import { readdir, readFile } from "node:fs/promises";

/**
 * What an engine's own processes hold in memory, and what its containers'
 * processes use, read from /proc and the cgroup files (v1 or v2) — for the
 * scale test's "memory per workload".
 */
export interface EngineMemory {
  /** dockerd and its containerd (VmRSS). */
  daemonsBytes: number;
  /** Every containerd shim of the engine (one per container), VmRSS together. */
  shimsBytes: number;
  shims: number;
  /** The containers' own processes: their cgroups' memory less inactive file cache, as `docker stats` counts it. */
  workloadsBytes: number;
}

/**
 * `root` is a path every process of this engine names in its command line (a
 * private engine's directory: its dockerd's --data-root, its containerd's
 * config, its shims' -address), so that another engine's processes are left out.
 */
export async function engineMemory(root: string, containerIds: readonly string[]): Promise<EngineMemory> {
  let daemonsBytes = 0;
  let shimsBytes = 0;
  let shims = 0;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(root)) continue;
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    const name = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "";
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    if (name.startsWith("containerd-shim")) {
      shimsBytes += rss;
      shims++;
    } else if (name === "dockerd" || name === "containerd") daemonsBytes += rss;
  }
  let workloadsBytes = 0;
  for (const id of containerIds) workloadsBytes += await cgroupMemory(id);
  return { daemonsBytes, shimsBytes, shims, workloadsBytes };
}

/** A container's memory from its cgroup (cgroupfs driver: v1 `memory/docker/<id>`, v2 `docker/<id>` or systemd's scope). */
async function cgroupMemory(id: string): Promise<number> {
  const v1 = `/sys/fs/cgroup/memory/docker/${id}`;
  const usage = await readFile(`${v1}/memory.usage_in_bytes`, "utf8").catch(() => undefined);
  if (usage !== undefined) {
    const stat = await readFile(`${v1}/memory.stat`, "utf8");
    return Number(usage) - Number(/^total_inactive_file (\d+)/m.exec(stat)?.[1] ?? 0);
  }
  for (const v2 of [`/sys/fs/cgroup/docker/${id}`, `/sys/fs/cgroup/system.slice/docker-${id}.scope`]) {
    const current = await readFile(`${v2}/memory.current`, "utf8").catch(() => undefined);
    if (current === undefined) continue;
    const stat = await readFile(`${v2}/memory.stat`, "utf8");
    return Number(current) - Number(/^inactive_file (\d+)/m.exec(stat)?.[1] ?? 0);
  }
  return 0;
}

/** MemAvailable from /proc/meminfo, in bytes. */
export async function availableMemory(): Promise<number> {
  const meminfo = await readFile("/proc/meminfo", "utf8");
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0) * 1024;
}

/** Threads on the machine now (each counts against kernel.pid_max), and that limit. */
export async function threads(): Promise<{ now: number; max: number }> {
  const loadavg = await readFile("/proc/loadavg", "utf8");
  const now = Number(loadavg.split(" ")[3]?.split("/")[1] ?? 0);
  const max = Number(await readFile("/proc/sys/kernel/pid_max", "utf8"));
  return { now, max };
}
