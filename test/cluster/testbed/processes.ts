import { readdir, readFile } from "node:fs/promises";

/**
 * Whether a process lives. A zombie counts as gone: nobody may reap an
 * orphan here (the machine's pid 1 is no init), and a zombie holds nothing
 * but its pid.
 */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  if (stat === "") return false;
  // The state is the field after the command name, which is in parentheses.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/** Waits until `pid` is gone; false when it still lives after `ms`. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Sends a signal by pid; a process already gone is not an error. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** Live processes whose command line mentions `text` (e.g. a node's directory), this one excepted. */
export async function pidsMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.replaceAll("\0", " ").includes(text) && (await isAlive(Number(entry))))
      found.push(Number(entry));
  }
  return found;
}

/** The processes in the cgroups under `cgroupDir` (e.g. /sys/fs/cgroup/pids/berthc-n1), recursively. */
export async function pidsInCgroup(cgroupDir: string): Promise<number[]> {
  const pids: number[] = [];
  const procs = await readFile(`${cgroupDir}/cgroup.procs`, "utf8").catch(() => "");
  for (const line of procs.split("\n")) if (/^\d+$/.test(line)) pids.push(Number(line));
  const entries = await readdir(cgroupDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries)
    if (entry.isDirectory()) pids.push(...(await pidsInCgroup(`${cgroupDir}/${entry.name}`)));
  return pids;
}
