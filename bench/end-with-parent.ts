/**
 * Preloaded (`--import`) into a berth child of a test or a benchmark: when the
 * process that started it goes, berth ends too. A Vitest worker killed by a
 * signal runs no `exit` hook, and a berth left behind would hold its data
 * directory and the engine's containers until someone found it. Orphaned, a
 * child is given another parent (init, or a subreaper); berth then shuts down
 * as SIGTERM shuts it down — its containers keep running, as after any stop,
 * for the test's cleanup by label — and is made to exit if that hangs.
 */
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.exit(1), 15_000).unref();
}, 500);
// Checking costs a read of a number twice a second, and keeps nothing alive.
watch.unref();
