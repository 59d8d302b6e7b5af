/**
 * The CPU time (user and system, over all of this process's threads) that
 * `work` took, in ms, and what it returned. Bounds on how much work something
 * costs (linear rather than quadratic, a parse that stays cheap) read this
 * instead of the wall clock: on a loaded machine the wall clock also counts the
 * time spent waiting for a core, which says nothing about the code under test.
 */
export async function cpuTime<T>(work: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const before = process.cpuUsage();
  const value = await work();
  const spent = process.cpuUsage(before);
  return { ms: (spent.user + spent.system) / 1000, value };
}

/** `cpuTime` for synchronous work, in ms. */
export function cpuMs(work: () => unknown): number {
  const before = process.cpuUsage();
  work();
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / 1000;
}
