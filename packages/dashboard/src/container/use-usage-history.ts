import type { Container, ResourceUsage } from "@berth/client";
import { useEffect, useState } from "preact/hooks";
import { mergeSamples } from "./usage-series.ts";

/** How often the page asks for a sample while it is open: a chart that moves every second looks live. */
const WATCH_INTERVAL_MS = 1_000;

/**
 * The container's resource samples of the last minutes, for its charts: what
 * berth kept (`statsHistory()`) as soon as the page opens, then each sample
 * of a live watch, while the container runs. The samples stay on the page
 * when it stops (the history berth kept is freed then), and the next run's
 * are added after them.
 */
export function useUsageHistory(container: Container | undefined, running: boolean): ResourceUsage[] {
  const [samples, setSamples] = useState<ResourceUsage[]>([]);
  useEffect(() => {
    if (!container || !running) return;
    let closed = false;
    const add = (incoming: ResourceUsage[]) => !closed && setSamples((held) => mergeSamples(held, incoming));
    // The watch opens at once: a sample it brings before the history's answer is merged, not lost.
    const watch = container.watchStats({ intervalMs: WATCH_INTERVAL_MS, bufferSize: 100 });
    container.statsHistory().then(
      (history) => add(history.samples),
      () => {
        // No history (a lost connection, or the container stopped meanwhile): the watch still fills the chart.
      },
    );
    void (async () => {
      try {
        for await (const { id: _id, ...sample } of watch) add([sample]);
      } catch {
        // The watch ended with an error (the container went away, the client closed): the chart keeps what it has.
      }
    })();
    return () => {
      closed = true;
      void watch.return();
    };
  }, [container, running]);
  return samples;
}
