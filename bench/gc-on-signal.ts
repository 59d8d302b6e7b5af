import { getHeapStatistics } from "node:v8";
// A bench's or a test's berth ends with the process that started it, however that ends.
import "./end-with-parent.ts";

/**
 * Preloaded (`--import`) into a berth child run with `--expose-gc`: on
 * SIGUSR2 it collects garbage, then prints one `BENCH_MEMORY {json}` line —
 * process.memoryUsage() and V8's own malloc'ed memory — to stderr, so the
 * benchmark reads memory after a GC and can tell the JS heap from the rest.
 */
process.on("SIGUSR2", () => {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = { ...process.memoryUsage(), malloced: getHeapStatistics().malloced_memory };
  process.stderr.write(`BENCH_MEMORY ${JSON.stringify(usage)}\n`);
});
