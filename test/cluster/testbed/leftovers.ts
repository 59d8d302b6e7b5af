import { readdir, rm, rmdir } from "node:fs/promises";
import { unmountAllUnder } from "../../helpers/mounts.ts";
import { ip } from "./command.ts";
import { ALL_NODES, PREFIX, ROOT_DIR } from "./names.ts";
import { NodeEngine } from "./node-engine.ts";
import { pidsInCgroup, pidsMentioning, signal, waitForExit } from "./processes.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** What of the test bed exists on this machine, found by name: empty after a clean tear-down. */
export interface Leftovers {
  netns: string[];
  links: string[];
  processes: number[];
  cgroups: string[];
}

export async function findLeftovers(): Promise<Leftovers> {
  const netns = (await ip("netns", "list"))
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(PREFIX));
  const links = (JSON.parse(await ip("-j", "link", "show")) as { ifname: string }[])
    .map((l) => l.ifname)
    .filter((name) => name.startsWith(PREFIX));
  const processes = await pidsMentioning(`${ROOT_DIR}/`);
  for (const ns of netns) processes.push(...(await pidsInNetns(ns)));
  const cgroups: string[] = [];
  for (const controller of await readdir(CGROUP_ROOT).catch(() => [])) {
    for (const entry of await readdir(`${CGROUP_ROOT}/${controller}`).catch(() => [])) {
      if (entry.startsWith(PREFIX)) cgroups.push(`${CGROUP_ROOT}/${controller}/${entry}`);
    }
  }
  for (const cgroup of cgroups) processes.push(...(await pidsInCgroup(cgroup)));
  return { netns, links, processes: [...new Set(processes)].sort((a, b) => a - b), cgroups };
}

async function pidsInNetns(netns: string): Promise<number[]> {
  const out = await ip("netns", "pids", netns).catch(() => "");
  return out
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/**
 * Removes everything of the test bed, whatever state an earlier run left it
 * in (a crash half-way through `up`, a killed test process): dockerd asked to
 * stop, then every process still in a node's namespace, cgroups or directory
 * killed by pid, mounts under its directory undone, the directory, the
 * namespaces (with their veth pairs) and the bridge removed. Safe to call
 * when nothing is there.
 */
export async function removeLeftovers(): Promise<void> {
  await Promise.all(ALL_NODES.map((node) => new NodeEngine(node).stop()));
  // Twice: a process killed in the first round may have had children that are now orphans.
  for (let round = 0; round < 2; round++) {
    const { processes } = await findLeftovers();
    for (const pid of processes) signal(pid, "SIGKILL");
    await Promise.all(processes.map((pid) => waitForExit(pid, 10_000)));
  }
  const { netns, links, cgroups } = await findLeftovers();
  for (const cgroup of cgroups) await removeCgroup(cgroup);
  await unmountAllUnder(ROOT_DIR);
  await rm(ROOT_DIR, { recursive: true, force: true });
  for (const ns of netns) await ip("netns", "delete", ns).catch(() => {});
  // A veth goes with its namespace; the bridge and any end left in the root namespace go here.
  for (const link of links) await ip("link", "delete", link).catch(() => {});
}

/** rmdir of a cgroup tree, deepest first (a cgroup with children or processes cannot go). */
async function removeCgroup(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await removeCgroup(`${dir}/${entry.name}`);
  await rmdir(dir).catch(() => {});
}
